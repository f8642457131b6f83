package explain

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"encoding/json"
	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/anonymize/consent/tctest"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/gateway"
	"github.com/beacongate/beacongate/ropa"
	"github.com/beacongate/beacongate/wiring"
	"net/url"
)

func newExplainer(t testing.TB, yaml string) *Explainer {
	t.Helper()
	cfg, err := config.Parse("t.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	p, err := wiring.Compile(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	sites := map[string][]string{}
	for _, s := range cfg.Sites {
		sites[s.ID] = s.Origins
	}
	x, err := New(Options{Plan: p, Facts: ropa.FactsOf(cfg),
		Settings: gateway.Settings{Sites: sites, Clock: clock.Fixed(clocktest.Golden)},
		Deps:     anonymize.Deps{Clock: clock.Fixed(clocktest.Golden)}, MaxHeaderBytes: 8 << 10, MaxBodyBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestRejectionFromTheHandler: the reason of a rejection comes from the
// gateway's own decision (its OnReject hook), and a later accepted request
// does not inherit it.
func TestRejectionFromTheHandler(t *testing.T) {
	x := newExplainer(t, "sites: [{id: shop}]\n")
	peer := netip.MustParseAddr("203.0.113.7")
	out := x.Explain([]byte(`{"site":"other","event":"view"}`), peer)
	if out.Rejected == nil || out.Rejected.Reason != "unknown_site" || out.Response.Status != 400 {
		t.Fatalf("unknown site: rejected %+v, status %d", out.Rejected, out.Response.Status)
	}
	out = x.Explain([]byte(`{"site":"shop","event":"view"}`), peer)
	if out.Rejected != nil || len(out.Events) != 1 {
		t.Fatalf("known site: rejected %+v, %d events", out.Rejected, len(out.Events))
	}
	out = x.Explain([]byte("https://collect.example/p.gif?site=other"), peer)
	if out.Rejected == nil || out.Rejected.Reason != "unknown_site" || !strings.Contains(out.Rejected.Detail, "GIF") {
		t.Fatalf("pixel for an unknown site: %+v", out.Rejected)
	}
}

// TestPolicyVersionIsThePlans: the version explain prints is the one the
// server's records carry.
func TestPolicyVersionIsThePlans(t *testing.T) {
	x := newExplainer(t, "")
	if out := x.Explain([]byte(`{"site":"s"}`), netip.MustParseAddr("203.0.113.7")); out.Policy != x.plan.Version() || len(out.Policy) != 12 {
		t.Fatalf("policy %q; want %q", out.Policy, x.plan.Version())
	}
}

// TestContactNeverShown: contact data in a pixel's properties, as p.em or
// inside a props object, is not echoed in the request line explain prints.
func TestContactNeverShown(t *testing.T) {
	x := newExplainer(t, "")
	peer := netip.MustParseAddr("203.0.113.7")
	for _, sample := range []string{
		"https://collect.example/p.gif?site=s&p.em=Jane.Doe%40example.com&p.ph=%2B4915112345678&p.plan=pro",
		"https://collect.example/p.gif?site=s&props=" + url.QueryEscape(`{"em":"Jane.Doe@example.com","ph":"+4915112345678","plan":"pro"}`),
		"GET /p.gif?site=s&p.em=Jane.Doe%40example.com&p.plan=pro HTTP/1.1\nUser-Agent: x\n",
	} {
		out := x.Explain([]byte(sample), peer)
		b, _ := json.Marshal(out)
		for _, raw := range []string{"Jane", "jane", "4915112345678"} {
			if strings.Contains(string(b), raw) {
				t.Errorf("%s: explain output holds %q: %s", sample, raw, out.Request.URI)
			}
		}
		if !strings.Contains(out.Request.URI, "plan") {
			t.Errorf("%s: other properties must stay visible: %s", sample, out.Request.URI)
		}
	}
}

// TestUnknownBeaconNotShown: with ble.beacons, explain neither says "keep"
// for a beacon the engine strips nor prints the identity it came with.
func TestUnknownBeaconNotShown(t *testing.T) {
	x := newExplainer(t, "ble: {beacons: [f7826da6-4fa2-4e98-8024-bc5b71e0893e]}\n")
	const adID = "6d92078a-8246-4ba4-ae5b-76104861e7dc"
	out := x.Explain([]byte(`{"site":"s","store":"b1","consent":"analytics","sightings":[{"uuid":"`+adID+`","major":1,"minor":2,"rssi":-60}]}`), netip.MustParseAddr("203.0.113.7"))
	b, _ := json.Marshal(out)
	if len(out.Events) != 1 || strings.Contains(string(b), adID) {
		t.Fatalf("events %d; output holds the unlisted identity: %v", len(out.Events), strings.Contains(string(b), adID))
	}
	for _, row := range out.Events[0].States[0].Fields {
		if row.Field == "beacon" && !strings.HasPrefix(row.Action, "drop") {
			t.Errorf("beacon row: %+v", row)
		}
	}
}

// TestBLEAggregatesReachNoDestination: with ble.output: aggregates the
// server appends a sighting's record to the BLE spool only, and no
// destination gets it; explain says so. On the code before it listed
// every destination that accepts the state and showed "local: gets" with
// the sighting's record (ip, visitor hash, device pseudonym), which the
// server never sends.
func TestBLEAggregatesReachNoDestination(t *testing.T) {
	sample := []byte(`{"site":"s","store":"b1","consent":"analytics","sightings":[{"uuid":"f7826da6-4fa2-4e98-8024-bc5b71e0893e","major":1,"minor":2,"rssi":-60,"mac":"a4:5e:60:e8:1b:2c"}]}`)
	peer := netip.MustParseAddr("203.0.113.7")
	out := newExplainer(t, "ble: {output: aggregates}\n").Explain(sample, peer)
	if len(out.Events) != 1 {
		t.Fatalf("%d events", len(out.Events))
	}
	ev := out.Events[0]
	for _, c := range ev.States {
		if len(c.Destinations) != 0 {
			t.Errorf("state %s: destinations %v; the server sends the sighting to none", c.State, c.Destinations)
		}
	}
	if len(ev.Recipients) == 0 {
		t.Fatal("no recipients listed")
	}
	for _, r := range ev.Recipients {
		if r.Gets || !strings.Contains(r.Why, "aggregates") {
			t.Errorf("%s: gets %v (%s)", r.Destination, r.Gets, r.Why)
		}
	}
	// With sightings the default destination gets the record.
	ev = newExplainer(t, "ble: {output: sightings}\n").Explain(sample, peer).Events[0]
	if len(ev.Recipients) == 0 || !ev.Recipients[0].Gets {
		t.Fatalf("sightings: %+v", ev.Recipients)
	}
}

// TestExplainSegmentsAgreeWithRecord: the url segment rows say what the
// engine wrote. Each row's result is the segment of the record's URL at its
// place, and says "replaced" exactly when the record has a marker there. On
// the code before, under the default none policy (url: path, no site
// rules) the row for "42" said "nothing found, kept" while the record's URL
// was /p/{id}: the path-shape rule was left out of the explanation.
func TestExplainSegmentsAgreeWithRecord(t *testing.T) {
	x := newExplainer(t, "")
	peer := netip.MustParseAddr("203.0.113.7")
	for _, page := range []string{
		"https://shop.example.com/p/42",
		"https://shop.example.com/order/3f2b8c1e-9d4a-4b6e-8f0a-1c2d3e4f5a6b",
		"https://shop.example.com/u/jane.doe@example.com/shoes",
		"https://shop.example.com/c/Shoes/MacBook-Pro;jsessionid=1",
		"https://shop.example.com/a b/c",
		"ftp://shop.example.com/pub/file",
	} {
		out := x.Explain([]byte("https://collect.example/p.gif?site=s&url="+url.QueryEscape(page)), peer)
		if len(out.Events) != 1 {
			t.Fatalf("%s: %d events", page, len(out.Events))
		}
		for _, c := range out.Events[0].States {
			var rec struct{ URL string }
			if err := json.Unmarshal(c.Record, &rec); err != nil {
				t.Fatalf("%s, %s: record %s", page, c.State, c.Record)
			}
			var segs []string
			for _, row := range c.Fields {
				if row.Field != "url segment" {
					continue
				}
				var res string
				_ = json.Unmarshal(row.Result, &res)
				segs = append(segs, res)
				marker := strings.HasPrefix(res, "{") || strings.HasPrefix(res, "[")
				if strings.HasSuffix(row.Action, "replaced") != marker {
					t.Errorf("%s, %s: row %q -> %q says %q", page, c.State, row.Arrived, res, row.Action)
				}
			}
			path := recordPath(rec.URL)
			if got := strings.Join(segs, "/"); got != strings.TrimPrefix(path, "/") {
				t.Errorf("%s, %s: segment rows give %q; the record's URL %q has path %q", page, c.State, got, rec.URL, path)
			}
		}
	}
	// The sample of examples/sample.http, under none.
	out := x.Explain([]byte("https://collect.example/p.gif?site=s&url="+url.QueryEscape("https://shop.example.com/p/42?gclid=abc")), peer)
	for _, row := range out.Events[0].States[0].Fields {
		if row.Field == "url segment" && row.Arrived == "42" {
			if string(row.Result) != `"{id}"` || !strings.Contains(row.Action, "path shape") || !strings.HasSuffix(row.Action, "replaced") {
				t.Errorf("none: segment 42: %s (%s); want {id}, replaced by the path-shape rule", row.Result, row.Action)
			}
		}
	}
}

// recordPath returns the path of a URL as a record holds it: after the
// origin, before the query and the fragment.
func recordPath(u string) string {
	if _, rest, ok := strings.Cut(u, "//"); ok {
		u = rest
		if i := strings.IndexAny(u, "/?#"); i >= 0 {
			u = u[i:]
		} else {
			u = ""
		}
	}
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	return u
}

// TestExplainPropsAgreeWithRecord: a property row says "keep" only for a
// value the record holds. On the code before, every allowlisted key's row
// said "keep (allowlisted), scan", while the engine leaves out a key whose
// name says secret or person (password), a click id (gclid), and all but
// the last value of a key sent twice (the row for plan=pro showed "max").
func TestExplainPropsAgreeWithRecord(t *testing.T) {
	x := newExplainer(t, "properties: {allow: [plan, password, gclid]}\n")
	out := x.Explain([]byte("https://collect.example/p.gif?site=s&consent=analytics&p.plan=pro&p.password=hunter2&p.gclid=abc&p.plan=max"), netip.MustParseAddr("203.0.113.7"))
	if len(out.Events) != 1 {
		t.Fatalf("%d events", len(out.Events))
	}
	for _, c := range out.Events[0].States {
		for _, row := range c.Fields {
			if !strings.HasPrefix(row.Field, "props.") {
				continue
			}
			var res string
			_ = json.Unmarshal(row.Result, &res)
			if kept := strings.HasPrefix(row.Action, "keep"); kept != (res == row.Arrived) {
				t.Errorf("%s: %s=%s: action %q, record holds %q", c.State, row.Field, row.Arrived, row.Action, res)
			}
		}
	}
}

// TestSiteRowSaysScanned: the site id is scanned like the event name under
// every policy (a site id the config does not list may hold anything), so
// its row says scan, never keep, in every state, beside a result with the
// marker.
func TestSiteRowSaysScanned(t *testing.T) {
	x := newExplainer(t, "")
	out := x.Explain([]byte(`{"site":"shop-jane.doe@example.org","event":"view","consent":"analytics"}`), netip.MustParseAddr("203.0.113.7"))
	if len(out.Events) != 1 {
		t.Fatalf("%d events", len(out.Events))
	}
	for _, c := range out.Events[0].States {
		for _, r := range c.Fields {
			if r.Field != "site" {
				continue
			}
			if r.Action != "scan" || string(r.Result) != `"[email]"` {
				t.Errorf("state %s: site row action %q, result %s; want scan, \"[email]\"", c.State, r.Action, r.Result)
			}
		}
	}
}

// TestTCConflictShown: a gdpr_consent and a different tcfeuv2 section in
// the gpp parameter are two TCF signals that disagree; explain shows tcf
// malformed and conflicting, and nothing granted. A euconsent-v2 cookie and
// a different gdpr_consent are shown conflicting the same way.
func TestTCConflictShown(t *testing.T) {
	x := newExplainer(t, "")
	peer := netip.MustParseAddr("203.0.113.7")
	granting := tctest.Valid(clocktest.Golden.Add(-24 * time.Hour))
	refusing := granting
	refusing.PurposesConsent = []int{1}
	a, b := granting.Encode(), refusing.Encode()
	for _, sample := range []string{
		"https://collect.example/p.gif?site=s&consent=analytics&gdpr_consent=" + a + "&gpp=DBABMA~" + b,
		"GET /p.gif?site=s&consent=analytics&gdpr_consent=" + a + " HTTP/1.1\nCookie: euconsent-v2=" + b + "\n",
	} {
		out := x.Explain([]byte(sample), peer)
		if len(out.Events) != 1 {
			t.Fatalf("%s: %d events, rejected %+v", sample, len(out.Events), out.Rejected)
		}
		c := out.Events[0].Consent
		if !slices.Contains(c.Malformed, "tcf") || !slices.Equal(c.Conflicting, []string{"tcf"}) || len(c.Granted) != 0 {
			t.Errorf("%s: malformed %v, conflicting %v, granted %v; want tcf, tcf, none", sample, c.Malformed, c.Conflicting, c.Granted)
		}
		var text bytes.Buffer
		if err := out.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text.String(), "conflicting  tcf") {
			t.Errorf("%s: the text does not say tcf conflicts:\n%s", sample, text.String())
		}
	}
	out := x.Explain([]byte("https://collect.example/p.gif?site=s&consent=analytics&gdpr_consent="+a+"&gpp=DBABMA~"+a), peer)
	if c := out.Events[0].Consent; len(c.Conflicting) != 0 || len(c.Malformed) != 0 {
		t.Errorf("equal copies: malformed %v, conflicting %v", c.Malformed, c.Conflicting)
	}
}

// TestAdPersonalizationShown: explain says whether ads is granted for
// personalised advertising (what GA4 gets as ad_personalization): yes for
// ads in the consent field, no for ads by consent.default, nothing without
// ads.
func TestAdPersonalizationShown(t *testing.T) {
	x := newExplainer(t, "consent: {purposes: [analytics, ads], default: [analytics, ads]}\n")
	peer := netip.MustParseAddr("203.0.113.7")
	for _, c := range []struct {
		q, line string
		want    bool
	}{
		{"&consent=analytics,ads", "ad personalization  yes", true},
		{"", "ad personalization  no", false},
		{"&consent=analytics", "", false},
	} {
		out := x.Explain([]byte("https://collect.example/p.gif?site=s"+c.q), peer)
		if len(out.Events) != 1 {
			t.Fatalf("%q: %d events, rejected %+v", c.q, len(out.Events), out.Rejected)
		}
		var text bytes.Buffer
		if err := out.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		got := out.Events[0].Consent.AdPersonalization
		shown := strings.Contains(text.String(), "ad personalization")
		if got != c.want || c.line != "" && !strings.Contains(text.String(), c.line) || c.line == "" && shown {
			t.Errorf("%q: ad personalization %v; want %v, the text saying %q:\n%s", c.q, got, c.want, c.line, text.String())
		}
	}
}
