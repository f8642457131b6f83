package main

import (
	"strings"
	"testing"
	"time"
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
}
