package wiring

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
)

// TestOneSecretLoader: the same secret written to a file by an editor (a
// trailing newline), with stray spaces around it, or set in the
// environment gives the same pseudonyms; before one loader existed the
// config's and the pseudonym package's loaders trimmed differently.
func TestOneSecretLoader(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef-shared"
	dir := t.TempDir()
	pseudonymOf := func(p *config.Pseudonym) string {
		t.Helper()
		s, err := LoadSecret(p)
		if err != nil {
			t.Fatal(err)
		}
		kr, err := pseudonym.New(pseudonym.Options{Mode: pseudonym.Derived, Secret: s, Period: 24 * time.Hour, Clock: clock.Fixed(clocktest.Golden)})
		if err != nil {
			t.Fatal(err)
		}
		return string(kr.AppendPseudonym(nil, []byte("shop"), []byte("user-4711"), clocktest.Golden))
	}
	var got []string
	for i, content := range []string{secret, secret + "\n", "  " + secret + " \r\n", "\t" + secret} {
		path := filepath.Join(dir, "secret"+string(rune('a'+i)))
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		got = append(got, pseudonymOf(&config.Pseudonym{Mode: config.PseudonymDerived, SecretFile: path}))
	}
	t.Setenv("BG_WIRING_SECRET", " "+secret+"\n")
	got = append(got, pseudonymOf(&config.Pseudonym{Mode: config.PseudonymDerived, SecretEnv: "BG_WIRING_SECRET"}))
	for i, g := range got {
		if g != got[0] || g == "" {
			t.Errorf("form %d: pseudonym %q; want %q", i, g, got[0])
		}
	}
}

// TestLoadSecretErrors names the setting and never the secret.
func TestLoadSecretErrors(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("hunter2-is-short"), 0o600)
	open := filepath.Join(dir, "open")
	os.WriteFile(open, []byte(strings.Repeat("k", 40)), 0o644)
	t.Setenv("BG_WIRING_EMPTY", "")
	for _, c := range []struct {
		p    config.Pseudonym
		want string
	}{
		{config.Pseudonym{Mode: config.PseudonymDerived, SecretFile: short}, "pseudonym.secret_file: "},
		{config.Pseudonym{Mode: config.PseudonymDerived, SecretFile: open}, "chmod 600"},
		{config.Pseudonym{Mode: config.PseudonymDerived, SecretFile: filepath.Join(dir, "missing")}, "pseudonym.secret_file: "},
		{config.Pseudonym{Mode: config.PseudonymDerived, SecretEnv: "BG_WIRING_EMPTY"}, "pseudonym.secret_env: "},
		{config.Pseudonym{Mode: config.PseudonymDerived}, "needs secret_file or secret_env"},
		{config.Pseudonym{Mode: config.PseudonymEphemeral}, "ephemeral keys have no secret"},
	} {
		_, err := LoadSecret(&c.p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v; want one containing %q", c.p, err, c.want)
		}
		if err != nil && (strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "kkkk")) {
			t.Errorf("error reveals the secret: %v", err)
		}
	}
}
