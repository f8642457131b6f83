package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/clock"
)

func TestParseDate(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2026-03-12":                time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC),
		"2026-03-12T10:00:00+02:00": time.Date(2026, 3, 12, 8, 0, 0, 0, time.UTC),
	} {
		if got, err := parseDate(in); err != nil || !got.Equal(want) {
			t.Errorf("parseDate(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "12.03.2026", "2026-13-01"} {
		if _, err := parseDate(in); err == nil {
			t.Errorf("parseDate(%q) succeeded", in)
		}
	}
}

func FuzzParseDate(f *testing.F) {
	f.Add("2026-03-12")
	f.Add("2026-03-12T10:00:00Z")
	f.Add("x")
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := parseDate(s); err == nil && d.Location() != time.UTC {
			t.Fatalf("%q: not UTC", s)
		}
	})
}

// TestKeysForgetRefusals: without a key store, or for a date to come, keys
// forget says why it cannot, and destroys nothing.
func TestKeysForgetRefusals(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeE2EConfig(t, dir, "c.yaml", "server:\n  data_dir: "+dir+"/data\n")
	if code, out := cli(t, "keys", "forget", "-config", cfgPath, "-before", "2026-01-01"); code != 1 || !strings.Contains(out, "privacy.key_store is off") {
		t.Errorf("without a key store: exit %d\n%s", code, out)
	}
	if code, out := cli(t, "keys", "forget", "-config", cfgPath); code != 2 || !strings.Contains(out, "-before") {
		t.Errorf("without -before: exit %d\n%s", code, out)
	}
	// A key store the gateway never made in this data dir (a wrong -data,
	// or a gateway that never ran with the store on): said so, naming the
	// dir and the flag, not "open .../meta.json: no such file".
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	withStore := writeE2EConfig(t, dir, "store.yaml", "pseudonym: {mode: derived, secret_file: "+secret+"}\nprivacy: {key_store: true}\n")
	code, out := cli(t, "keys", "forget", "-config", withStore, "-data", filepath.Join(dir, "elsewhere"), "-before", "2026-01-01")
	if code != 1 || !strings.Contains(out, "no key store in "+filepath.Join(dir, "elsewhere", "keys")) || !strings.Contains(out, "-data") || strings.Contains(out, "meta.json") {
		t.Errorf("no key store: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "elsewhere")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("keys forget created the data dir (%v)", err)
	}
}

// TestKeysForgetNotesDerivedPeriods: keys forget notes that the periods
// which began before the key store was created were keyed from the secret,
// also when -before is earlier than the store's creation: a store created
// at 2026-12-06 09:31 derives the keys of 12-04 and 12-05 (and of 12-06,
// which began before it), so -before 2026-12-06 leaves them derivable by
// whoever holds the secret. The clock is pinned.
func TestKeysForgetNotesDerivedPeriods(t *testing.T) {
	created := time.Date(2026, 12, 6, 9, 31, 0, 0, time.UTC)
	clk := clock.NewManual(created)
	cliClock = clk
	t.Cleanup(func() { cliClock = clock.Real })

	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef-forget\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeE2EConfig(t, dir, "c.yaml", "pseudonym: {mode: derived, secret_file: "+secret+"}\nprivacy: {key_store: true}\n")
	cfg, err := officerConfig(cfgPath, data)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := openKeyStore(cfg, clk.Now(), false) // the store, created at 09:31
	if err != nil {
		t.Fatal(err)
	}
	if got := ks.Created(); !got.Equal(created) {
		t.Fatalf("store created %v, want %v", got, created)
	}
	day := int64(24 * time.Hour / time.Second)
	for _, d := range []int{4, 5, 6} {
		start := time.Date(2026, 12, d, 0, 0, 0, 0, time.UTC)
		if st := ks.State("pseudonym", day, start.Unix()/day); st.String() != "derived" {
			t.Fatalf("12-%02d: key %s, want derived (the test's premise)", d, st)
		}
	}
	clk.Set(time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC))

	for _, c := range []struct{ before, want string }{
		{"2026-12-06", "note: every period that ended by 2026-12-06T00:00:00Z began before the key store was created (2026-12-06T09:31:00Z) and was keyed from the secret"},
		{"2026-12-07", "note: periods that began before 2026-12-06T09:31:00Z (when the key store was created) were keyed from the secret"},
	} {
		code, out := cli(t, "keys", "forget", "-config", cfgPath, "-data", data, "-before", c.before)
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("keys forget -before %s: exit %d\n%s\nwant a line with %q", c.before, code, out, c.want)
		}
	}
}

// TestKeysForgetMissingSecretNotMissingStore: when the key store is there
// but the config's secret file is not (a wrong path, an unmounted
// secret), keys forget says the secret file cannot be opened, not that
// no gateway has run with the key store on the data dir: both errors are
// "does not exist", and before the fix every such error got the
// no-key-store message, which sends the operator to the wrong directory.
func TestKeysForgetMissingSecretNotMissingStore(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	cliClock = clk
	t.Cleanup(func() { cliClock = clock.Real })
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := writeE2EConfig(t, dir, "good.yaml", "pseudonym: {mode: derived, secret_file: "+secret+"}\nprivacy: {key_store: true}\n")
	cfg, err := officerConfig(good, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openKeyStore(cfg, clk.Now(), false); err != nil { // the store a gateway made
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "unmounted", "secret")
	bad := writeE2EConfig(t, dir, "bad.yaml", "pseudonym: {mode: derived, secret_file: "+missing+"}\nprivacy: {key_store: true}\n")
	code, out := cli(t, "keys", "forget", "-config", bad, "-data", data, "-before", "2026-03-01")
	if code != 1 || strings.Contains(out, "no key store") || !strings.Contains(out, "secret_file") {
		t.Errorf("secret file missing, key store present: exit %d\n%s", code, out)
	}
}

// TestSubjectWithoutKeyStoreIsUnverified: with privacy.key_store on and no
// key store in the data dir given (a wrong -data, or a gateway not yet
// restarted with the store), a lookup computed every period's pseudonym
// from the secret and called it "derived ... exact", which is wrong for
// every period a running gateway keyed from its store. The periods are now
// "unverified", with a note naming the directory and what to check; with
// the store in place they are derived or stored as before. The clock is
// pinned.
func TestSubjectWithoutKeyStoreIsUnverified(t *testing.T) {
	now := time.Date(2026, 12, 6, 9, 31, 0, 0, time.UTC)
	clk := clock.NewManual(now)
	cliClock = clk
	t.Cleanup(func() { cliClock = clock.Real })
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeE2EConfig(t, dir, "c.yaml", "pseudonym: {mode: derived, secret_file: "+secret+"}\nprivacy: {key_store: true}\n")
	lookup := func(data string) string {
		t.Helper()
		code, out := cli(t, "subject", "-config", cfgPath, "-data", data, "-site", "shop", "-id", "u-1", "-from", "2026-12-05", "-to", "2026-12-07")
		if code != 0 {
			t.Fatalf("subject: exit %d\n%s", code, out)
		}
		return out
	}
	wrong := filepath.Join(dir, "elsewhere")
	out := lookup(wrong)
	if !strings.Contains(out, "unverified") || !strings.Contains(out, filepath.Join(wrong, "keys")) || strings.Contains(out, "derived: the key comes from the secret; the pseudonym is exact") {
		t.Errorf("no key store: want unverified periods and a note naming %s\n%s", filepath.Join(wrong, "keys"), out)
	}
	data := filepath.Join(dir, "data")
	cfg, err := officerConfig(cfgPath, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openKeyStore(cfg, now, false); err != nil { // the store a gateway made at 09:31
		t.Fatal(err)
	}
	if out := lookup(data); strings.Contains(out, "unverified") || !strings.Contains(out, "derived") {
		t.Errorf("with the key store: want derived periods, no unverified\n%s", out)
	}
}

// TestKeyRotationWithinGrace: the running gateway rotates its keyring often
// enough that an ended ephemeral key is forgotten within a second of its
// grace (the README: "kept 10 s past its period, then forgotten"); with a
// one-minute tick it lived up to about 70 s past its period when no
// request came.
func TestKeyRotationWithinGrace(t *testing.T) {
	if keyRotationEvery <= 0 || keyRotationEvery > time.Second || keyRotationEvery >= pseudonym.DefaultGrace {
		t.Fatalf("keyRotationEvery = %v; want at most 1s, well within the grace of %v", keyRotationEvery, pseudonym.DefaultGrace)
	}
}
