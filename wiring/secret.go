package wiring

import (
	"errors"
	"fmt"

	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/config"
)

// LoadSecret reads the derived-mode pseudonym secret the config names, from
// pseudonym.secret_file or pseudonym.secret_env. It is the one loader: the
// keyring, the key store, the subject key and every command read the
// secret through it, so they agree on it byte for byte. Errors name the
// setting and the file or variable, never the secret.
func LoadSecret(p *config.Pseudonym) (pseudonym.Secret, error) {
	switch {
	case p.Mode != config.PseudonymDerived:
		return pseudonym.Secret{}, errors.New("pseudonym.mode: ephemeral keys have no secret; set mode: derived and secret_file or secret_env")
	case p.SecretFile != "":
		s, err := pseudonym.LoadSecretFile(p.SecretFile)
		if err != nil {
			return s, fmt.Errorf("pseudonym.secret_file: %w", err)
		}
		return s, nil
	case p.SecretEnv != "":
		s, err := pseudonym.SecretFromEnv(p.SecretEnv)
		if err != nil {
			return s, fmt.Errorf("pseudonym.secret_env: %w", err)
		}
		return s, nil
	}
	return pseudonym.Secret{}, errors.New("pseudonym: mode derived needs secret_file or secret_env")
}

// LoadGVL reads the IAB Global Vendor List named by consent.tcf.gvl_file;
// nil, nil when the config names none. Reloads read it again: that is how
// a refreshed list is picked up.
func LoadGVL(cfg *config.Config) (*consent.GVL, error) {
	path := cfg.Consent.TCF.GVLFile
	if path == "" {
		return nil, nil
	}
	gvl, err := consent.LoadGVL(path)
	if err != nil {
		return nil, fmt.Errorf("consent.tcf.gvl_file: %w", err)
	}
	return gvl, nil
}
