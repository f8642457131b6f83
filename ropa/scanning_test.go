package ropa

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/plan"
)

// scannedURL is the url the engine records for an analytics-state pixel
// event of page u under cfg.
func scannedURL(t *testing.T, cfg *config.Config, u string) string {
	t.Helper()
	now := clocktest.Golden
	en, err := anonymize.New(compile(t, cfg), anonymize.Deps{Clock: clock.Fixed(now)})
	if err != nil {
		t.Fatal(err)
	}
	e := claimsEvent(cfg, "shop", "analytics", false, now)
	e.URL = []byte(u)
	recs, _ := en.Recipients(e)
	if !recs[0].Gets {
		t.Fatalf("the destination gets nothing: %s", recs[0].Why)
	}
	var rec struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal(recs[0].Record, &rec); err != nil {
		t.Fatal(err)
	}
	return rec.URL
}

// TestReportScanningFollowsKeepUUIDs: with scan.keep_uuids: true the
// engine keeps a UUID in a page URL (path segment and parameter), while
// section 5 of the record of processing still said UUIDs are tokens
// "replaced by a marker" and their parameters "removed whole", and
// report -diff from the default said "No change" though what every
// recipient gets changed.
func TestReportScanningFollowsKeepUUIDs(t *testing.T) {
	const id = "123e4567-e89b-12d3-a456-426614174000"
	page := "https://shop.example.com/order/" + id + "?o=" + id
	for _, keep := range []bool{false, true} {
		cfg := parse(t, "scan: {keep_uuids: "+map[bool]string{false: "false", true: "true"}[keep]+"}")
		got := scannedURL(t, cfg, page)
		if kept := strings.Count(got, id) == 2; kept != keep {
			t.Fatalf("keep_uuids %v: the engine records url %q", keep, got)
		}
		_, _, text := render(t, build(t, cfg))
		says := strings.Contains(text, "tokens (UUIDs, long hex ids")
		keptLine := strings.Contains(text, "UUIDs are kept (scan.keep_uuids)")
		if says == keep || keptLine != keep {
			t.Errorf("keep_uuids %v (the engine records %q): the report says UUIDs are tokens: %v, kept: %v", keep, got, says, keptLine)
		}
	}
}

// TestReportClickIDsRowFollowsURLKeep: under url: keep (or referrer: keep)
// the engine records the page URL as sent, click ids in its query with
// it, while the click ids row of the state's table said "not recorded
// (removed from URLs by the url and referrer rules)": the record of
// processing told the officer that no click id reaches a record.
func TestReportClickIDsRowFollowsURLKeep(t *testing.T) {
	cfg := parse(t, "policies: {analytics: {url: keep}}")
	if got := scannedURL(t, cfg, "https://shop.example.com/p?gclid=Cj0KCQ-test&fbclid=IwAR-test"); !strings.Contains(got, "gclid=Cj0KCQ-test") {
		t.Fatalf("url: keep: the engine records url %q", got)
	}
	for _, tc := range []struct {
		yaml  string
		want  string
		state plan.State
	}{
		{"policies: {analytics: {url: keep}}", "the page URL is recorded as sent (url: keep)", plan.StateAnalytics},
		{"policies: {none: {referrer: keep}}", "the referrer is recorded as sent (referrer: keep)", plan.StateNone},
	} {
		cfg := parse(t, tc.yaml)
		p := compile(t, cfg)
		for st := plan.StateNone; st < plan.NumStates; st++ {
			for _, f := range Rules(p, FactsOf(cfg), st) {
				if f.Field != "click_ids" {
					continue
				}
				keeps := strings.Contains(f.Treatment, tc.want)
				if st == tc.state && (!keeps || strings.Contains(f.Treatment, "removed from URLs by the url and referrer rules")) {
					t.Errorf("%s, state %s: click ids row %q; want it to say %q", tc.yaml, st, f.Treatment, tc.want)
				}
				if st != tc.state && keeps {
					t.Errorf("%s, state %s: click ids row %q, though this state's policy scans URLs", tc.yaml, st, f.Treatment)
				}
			}
		}
	}
}

// TestReportNotScannedNamesDestinationPolicies: a destination's own policy
// that keeps the page URL or referrer as sent (neither scanned nor checked
// against the site's origins) is named in section 5's "Not scanned" line,
// as the site-wide policies' are; it was left out, so the officer read
// that every URL a destination gets is scanned.
func TestReportNotScannedNamesDestinationPolicies(t *testing.T) {
	cfg := parse(t, `destinations:
  - {name: lake, type: file}
  - name: raw
    type: file
    policies: {analytics: {url: keep, referrer: keep}}
`)
	_, _, text := render(t, build(t, cfg))
	for _, want := range []string{"Not scanned, because the policy keeps them as sent", "url in analytics for raw", "referrer in analytics for raw"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(text, "for lake") {
		t.Errorf("the report names lake, whose policies scan URLs")
	}
}
