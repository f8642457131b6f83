package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize/consent/tctest"
)

// TestConsentCommandJudgesDates: beacongate consent lists every rule the
// gateway holds a TC string to (SIGNALS.md), its dates included: last
// updated longer than the maximum age before -at (default: now; -max-age,
// default consent.tcf.max_age's 395 days), or dated more than 5 minutes
// after it. It printed "valid": true for a string the gateway rejects as
// stale or dated in the future.
func TestConsentCommandJudgesDates(t *testing.T) {
	at := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name    string
		created time.Time
		flags   []string
		problem string // "" for a valid string
	}{
		{"a month old", at.AddDate(0, -1, 0), nil, ""},
		{"14 months old", at.AddDate(0, -14, 0), nil, "maximum age"},
		{"older than -max-age", at.AddDate(0, -2, 0), []string{"-max-age", "720h"}, "maximum age"},
		{"an hour ahead", at.Add(time.Hour), nil, "in the future"},
	} {
		args := append([]string{"consent", "-at", at.Format(time.RFC3339)}, c.flags...)
		args = append(args, tctest.Valid(c.created).Encode())
		var stdout, stderr bytes.Buffer
		if code := run(args, strings.NewReader(""), &stdout, &stderr); code != 0 {
			t.Fatalf("%s: exit %d: %s", c.name, code, stderr.String())
		}
		var r struct {
			Valid    bool
			Problems []string
		}
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.problem == "" {
			if !r.Valid || len(r.Problems) != 0 {
				t.Errorf("%s: valid %v, problems %q; want valid", c.name, r.Valid, r.Problems)
			}
			continue
		}
		if r.Valid || len(r.Problems) != 1 || !strings.Contains(r.Problems[0], c.problem) {
			t.Errorf("%s: valid %v, problems %q; want one problem saying %q", c.name, r.Valid, r.Problems, c.problem)
		}
	}
	// A bad -at or -max-age is bad usage.
	for _, args := range [][]string{{"consent", "-at", "yesterday", "CQ"}, {"consent", "-max-age", "-1h", "CQ"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, strings.NewReader(""), &stdout, &stderr); code != 2 {
			t.Errorf("%q: exit %d; want 2", args, code)
		}
	}
}

// TestConsentCommandDisclosedVendors: beacongate consent lists the TCF v2.3
// rule: a string last updated on or after 2026-02-28 must carry the
// disclosed vendors segment, and prints which vendors that segment lists.
func TestConsentCommandDisclosedVendors(t *testing.T) {
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	f := func(s tctest.Spec, valid bool, problem string, disclosed string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run([]string{"consent", "-at", at.Format(time.RFC3339), s.Encode()}, strings.NewReader(""), &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		var r struct {
			Valid            bool
			Problems         []string
			DisclosedVendors []int `json:"disclosed_vendors"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Valid != valid || (problem == "") != (len(r.Problems) == 0) ||
			(problem != "" && (len(r.Problems) != 1 || !strings.Contains(r.Problems[0], problem))) {
			t.Fatalf("valid %v, problems %q; want valid %v, problem %q", r.Valid, r.Problems, valid, problem)
		}
		if got, _ := json.Marshal(r.DisclosedVendors); string(got) != disclosed {
			t.Fatalf("disclosed_vendors %s; want %s", got, disclosed)
		}
	}
	s := tctest.Valid(at.AddDate(0, -1, 0))
	s.VendorConsent, s.Disclosed = []int{755}, []int{32, 755}
	f(s, true, "", "[32,755]")
	s.Disclosed = nil
	f(s, false, "no disclosed vendors segment (required by TCF v2.3 for strings last updated on or after 2026-02-28)", "[]")
	// Last updated before the cut-off: valid without it (the transition).
	s.Created = time.Date(2026, 2, 27, 9, 0, 0, 0, time.UTC)
	f(s, true, "", "[]")
}

// TestConsentHelpListsFlags: "beacongate consent -h" lists the flags -at
// and -max-age with what they do, on stdout, and exits 0. It printed the
// usage line alone, while a call without a TC string (bad usage) printed
// the flags too: asking for help told less than getting it wrong.
func TestConsentHelpListsFlags(t *testing.T) {
	for _, h := range []string{"-h", "-help", "--help"} {
		var stdout, stderr bytes.Buffer
		code := run([]string{"consent", h}, strings.NewReader(""), &stdout, &stderr)
		if code != 0 || stderr.Len() != 0 {
			t.Errorf("consent %s: exit %d, stderr %q; want 0 and nothing on stderr", h, code, stderr.String())
		}
		for _, want := range []string{"usage: beacongate consent", "-at TIME\n", "judge the string's dates", "-max-age duration\n", "consent.tcf.max_age"} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("consent %s: stdout %q lacks %q", h, stdout.String(), want)
			}
		}
	}
}

// TestConsentMaxAgeInDays: -max-age stands for consent.tcf.max_age, which
// the config writes in days (395d); -h showed its default as 9480h0m0s and
// the flag refused 395d (Go's durations have no days). -h now shows 395d,
// and the flag takes what the key takes: days or Go durations.
func TestConsentMaxAgeInDays(t *testing.T) {
	var stdout, stderr bytes.Buffer
	run([]string{"consent", "-h"}, strings.NewReader(""), &stdout, &stderr)
	if !strings.Contains(stdout.String(), "(default 395d)") || strings.Contains(stdout.String(), "9480h") {
		t.Errorf("consent -h: %q; want the -max-age default as 395d", stdout.String())
	}
	at := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		maxAge string
		valid  bool
	}{{"30d", false}, {"90d", true}, {"720h", false}, {"0", true}} {
		stdout.Reset()
		stderr.Reset()
		args := []string{"consent", "-at", at.Format(time.RFC3339), "-max-age", c.maxAge, tctest.Valid(at.AddDate(0, -2, 0)).Encode()}
		if code := run(args, strings.NewReader(""), &stdout, &stderr); code != 0 {
			t.Errorf("-max-age %s: exit %d: %s", c.maxAge, code, stderr.String())
			continue
		}
		var r struct{ Valid bool }
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil || r.Valid != c.valid {
			t.Errorf("-max-age %s on a string 2 months old: valid %v (%v); want %v", c.maxAge, r.Valid, err, c.valid)
		}
	}
	stderr.Reset()
	if code := run([]string{"consent", "-max-age", "-1d", "CQ"}, strings.NewReader(""), &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "-max-age") {
		t.Errorf("-max-age -1d: exit %d, %q; want 2 naming -max-age", code, stderr.String())
	}
}
