package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/wiring"
)

// TestExplainUsesTheKeyStore: with privacy.key_store, explain shows the
// pseudonyms the server makes with the period's stored key, not the ones
// the secret alone would derive; a destroyed key shows none.
func TestExplainUsesTheKeyStore(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef-explain\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeE2EConfig(t, dir, "c.yaml", "consent: {default: [analytics]}\npseudonym: {mode: derived, secret_file: "+secret+"}\nprivacy: {key_store: true}\n")
	cfg, err := officerConfig(cfgPath, data)
	if err != nil {
		t.Fatal(err)
	}
	// The store exists from a day before the sample, as a running server
	// makes it, and holds the sample period's key.
	at := clocktest.Golden
	ks, err := openKeyStore(cfg, at.Add(-24*time.Hour), false)
	if err != nil {
		t.Fatal(err)
	}
	s, err := wiring.LoadSecret(&cfg.Pseudonym)
	if err != nil {
		t.Fatal(err)
	}
	pseudonymWith := func(keys pseudonym.KeySource) string {
		kr, err := pseudonym.New(pseudonym.Options{Mode: pseudonym.Derived, Secret: s, Keys: keys, Period: cfg.Pseudonym.Period.D(), Clock: clock.Fixed(at)})
		if err != nil {
			t.Fatal(err)
		}
		return string(kr.AppendPseudonym(nil, []byte("shop"), []byte("user-4711"), at))
	}
	stored, derived := pseudonymWith(ks), pseudonymWith(nil)
	if stored == "" || stored == derived {
		t.Fatalf("stored %q, derived %q: the test needs a stored key that differs", stored, derived)
	}
	sample := `{"site":"shop","event":"view","uid":"user-4711"}`
	o := explainJSON(t, sample, "-config", cfgPath, "-data", data, "-at", at.Format(time.RFC3339))
	if got := recordField(t, stateCase(t, o, "analytics"), "user"); got != stored {
		t.Errorf("explain shows user %q; the server makes %q with the stored key (the secret alone gives %q)", got, stored, derived)
	}
	if _, err := ks.Forget(at.Add(48 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	o = explainJSON(t, sample, "-config", cfgPath, "-data", data, "-at", at.Format(time.RFC3339))
	if got := recordField(t, stateCase(t, o, "analytics"), "user"); got != "" {
		t.Errorf("after keys forget, explain shows user %q; the key is destroyed", got)
	}
	// Without the store (another data directory), a note says so.
	o = explainJSON(t, sample, "-config", cfgPath, "-data", filepath.Join(dir, "elsewhere"), "-at", at.Format(time.RFC3339))
	found := false
	for _, n := range o.Notes {
		found = found || (strings.Contains(n, "key store") && strings.Contains(n, "cannot be read here"))
	}
	if !found {
		t.Errorf("no note about the missing key store: %q", o.Notes)
	}
}
