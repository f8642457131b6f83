package anonymize

import (
	"encoding/json"
	"errors"
	"testing"
)

// destConfig has three destinations: the warehouse gets every event but
// never the full user agent or the client id; the partner needs ads and
// keeps what the site-wide ads policy keeps; the lab needs analytics and
// keeps the URL as sent (click ids included) under analytics and ads.
const destConfig = testConfig + `
policies:
  ads:
    user_agent: {action: keep}
destinations:
  - name: warehouse
    type: file
    policies:
      analytics: {client_id: drop}
      ads: {user_agent: {action: reduce}, client_id: drop}
  - name: partner
    type: file
    requires: [analytics, ads]
  - name: lab
    type: file
    requires: [analytics]
    policies:
      analytics: {url: keep}
      ads: {url: keep}
`

// collected is an Emitter that keeps copies of the records.
type collected struct {
	recs  []map[string]any
	dests []Dests
	err   error // returned by EmitRecord
}

func (c *collected) EmitRecord(rec []byte, dests Dests) error {
	var m map[string]any
	if err := json.Unmarshal(rec, &m); err != nil {
		return err
	}
	c.recs = append(c.recs, m)
	c.dests = append(c.dests, dests)
	return c.err
}

// TestDestinationPolicies checks that each destination gets the record its
// own policy makes, one record per distinct policy, shared by destinations
// whose policies are equal.
func TestDestinationPolicies(t *testing.T) {
	en := newTestEngine(t, destConfig)
	const warehouse, partner, lab = Dests(1), Dests(2), Dests(4)

	var c collected
	_, res, err := en.AppendRecords(nil, plantedEvent("analytics,ads"), &c)
	if err != nil {
		t.Fatal(err)
	}
	if res.State != StateAds || res.Dests != warehouse|partner|lab || res.Records != 3 || len(c.recs) != 3 {
		t.Fatalf("ads: state %v, dests %b, %d records (%d emitted); want ads, 111, 3", res.State, res.Dests, res.Records, len(c.recs))
	}
	byDest := map[Dests]map[string]any{}
	for i, d := range c.dests {
		byDest[d] = c.recs[i]
	}
	w, p, l := byDest[warehouse], byDest[partner], byDest[lab]
	if w == nil || p == nil || l == nil {
		t.Fatalf("records routed to %v; want one each for warehouse, partner and lab", c.dests)
	}
	if _, ok := w["user_agent"]; ok {
		t.Errorf("warehouse record has user_agent: %v", w)
	}
	if _, ok := w["client"]; ok {
		t.Errorf("warehouse record has client: %v", w)
	}
	if _, ok := w["ua"]; !ok {
		t.Errorf("warehouse record lacks the reduced ua: %v", w)
	}
	for name, r := range map[string]map[string]any{"partner": p, "lab": l} {
		if r["user_agent"] != chromeUA || r["client"] == nil {
			t.Errorf("%s record lacks user_agent or client: %v", name, r)
		}
	}
	if u, _ := l["url"].(string); u != string(plantedEvent("").URL) {
		t.Errorf("lab url %q; want it as sent", u)
	}
	if u, _ := p["url"].(string); u == string(plantedEvent("").URL) {
		t.Errorf("partner url kept as sent: %q", u)
	}
	if w["id"] == p["id"] {
		t.Error("records of one event share an id; recipients could join them")
	}

	// Analytics: the partner is out; warehouse and lab differ (client id,
	// url), so two records.
	c = collected{}
	_, res, _ = en.AppendRecords(nil, plantedEvent("analytics"), &c)
	if res.Dests != warehouse|lab || len(c.recs) != 2 {
		t.Fatalf("analytics: dests %b, %d records; want 101, 2", res.Dests, len(c.recs))
	}

	// No consent: the none policies are all site-wide, so one record for
	// the one destination that takes it.
	c = collected{}
	_, res, _ = en.AppendRecords(nil, plantedEvent(""), &c)
	if res.Dests != warehouse || len(c.recs) != 1 || c.dests[0] != warehouse {
		t.Fatalf("none: dests %b, records routed %v; want the warehouse alone", res.Dests, c.dests)
	}
}

// TestDestinationPoliciesShared checks that destinations whose policies
// are equal share one record and that an Emitter error stops the event.
func TestDestinationPoliciesShared(t *testing.T) {
	en := newTestEngine(t, testConfig+`
destinations:
  - {name: a, type: file}
  - {name: b, type: file, policies: {ads: {url: path}}}
  - {name: c, type: file}
`)
	var c collected
	_, res, _ := en.AppendRecords(nil, plantedEvent("analytics"), &c)
	if len(c.recs) != 1 || c.dests[0] != 7 || res.Records != 1 {
		t.Fatalf("analytics (b's own policy is the site-wide one): records routed %v; want one record to all three", c.dests)
	}
	c = collected{}
	_, _, _ = en.AppendRecords(nil, plantedEvent("analytics,ads"), &c)
	if len(c.dests) != 2 || c.dests[0] != 5 || c.dests[1] != 2 {
		t.Fatalf("ads: records routed %v; want [a,c] then [b]", c.dests)
	}
	stop := errors.New("full")
	c = collected{err: stop}
	_, res, err := en.AppendRecords(nil, plantedEvent("analytics,ads"), &c)
	if !errors.Is(err, stop) || len(c.recs) != 1 || res.Records != 0 {
		t.Fatalf("emitter error: err %v, %d records emitted, %d counted; want the error after the first, none counted", err, len(c.recs), res.Records)
	}
}

// nullEmitter takes records and keeps nothing.
type nullEmitter struct{ n int }

func (e *nullEmitter) EmitRecord([]byte, Dests) error { e.n++; return nil }

// FuzzAppendRecords drives the per-destination path with arbitrary consent
// signals: every record is valid JSON, goes to destinations the event may
// reach, and no destination gets two records.
func FuzzAppendRecords(f *testing.F) {
	f.Add("analytics,ads", "", int8(-1), "")
	f.Add("", realTC, int8(1), "")
	f.Add("analytics", "CO", int8(2), "G111")
	en := newTestEngine(f, vendorConfig+`
  - name: lab
    type: file
    policies: {analytics: {url: keep}, ads: {url: keep}}
`)
	f.Fuzz(func(t *testing.T, explicit, tc string, gdpr int8, gcs string) {
		e := plantedEvent(explicit)
		e.Consent.TCString = []byte(tc)
		e.Consent.GDPR = gdpr
		e.Consent.GCS = []byte(gcs)
		var out collected
		_, res, err := en.AppendRecords(nil, e, &out)
		if err != nil {
			t.Fatal(err) // collected only fails on invalid JSON
		}
		var seen Dests
		for _, d := range out.dests {
			if d&seen != 0 || d&^res.Dests != 0 {
				t.Fatalf("record routed to %b (seen %b, allowed %b)", d, seen, res.Dests)
			}
			seen |= d
		}
		if res.Dests&res.VendorRefused != 0 {
			t.Fatalf("destinations %b also refused %b", res.Dests, res.VendorRefused)
		}
	})
}
