package main

import (
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
