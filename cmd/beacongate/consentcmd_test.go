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
