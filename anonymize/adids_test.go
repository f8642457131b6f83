package anonymize

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/event"
)

// adConfig has a warehouse that takes every ads event with the site-wide
// policy, and three ad platforms that hash contact data and keep click ids
// under ads. The token file need not exist for the engine.
const adConfig = testConfig + `
destinations:
  - {name: warehouse, type: file, tcf: {without_vendor: true}}
  - name: meta
    type: meta_capi
    requires: [analytics, ads]
    tcf: {without_vendor: true}
    meta_capi: {pixel_id: "1234567890", access_token_file: /nonexistent/meta.token}
    policies: {ads: {contact: hash, click_ids: keep, user_agent: {action: keep}}}
  - name: ga
    type: ga4
    requires: [analytics, ads]
    tcf: {without_vendor: true}
    ga4: {measurement_id: G-TEST123, api_secret_file: /nonexistent/ga.secret}
    policies: {ads: {contact: hash, click_ids: keep}}
  - name: tiktok
    type: tiktok
    requires: [analytics, ads]
    tcf: {without_vendor: true}
    tiktok: {event_source_id: CABC123, access_token_file: /nonexistent/tt.token}
    policies: {ads: {contact: hash}}
`

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// adEvent is a purchase with contact data, click ids in the page URL and
// ad platform cookies from bg.js.
func adEvent(consentValue string) *event.Event {
	e := plantedEvent(consentValue)
	e.URL = []byte("https://shop.example/checkout?gclid=Cj0KCQiA-abc_DEF&fbclid=IwAR3xYz-Q_9&utm_source=x")
	e.Props = append(e.Props,
		event.Prop{Key: []byte("em"), Value: []byte("  Jane.Doe@Gmail.com ")},
		event.Prop{Key: []byte("ph"), Value: []byte("+49 (30) 1234-567")},
		event.Prop{Key: []byte("ct"), Value: []byte("Berlin")},
		event.Prop{Key: []byte("_fbp"), Value: []byte("fb.1.1700000000000.123456789")},
		event.Prop{Key: []byte("_ga"), Value: []byte("GA1.1.987654321.1700000001")},
	)
	return e
}

// recordsByDest runs AppendRecords and returns each destination's record.
func recordsByDest(t *testing.T, en *Engine, e *event.Event, names ...string) map[string]map[string]any {
	t.Helper()
	var out collected
	if _, _, err := en.AppendRecords(nil, e, &out); err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]any{}
	for i, m := range out.recs {
		for d, name := range names {
			if out.dests[i].Has(d) {
				got[name] = m
			}
		}
	}
	return got
}

// TestContactHashedPerPlatform: under ads, each ad platform gets the
// contact data normalised by its own rules and hashed, the warehouse gets
// none of it, and the raw values reach no record.
func TestContactHashedPerPlatform(t *testing.T) {
	en := newTestEngine(t, adConfig)
	e := adEvent("analytics,ads")
	recs := recordsByDest(t, en, e, "warehouse", "meta", "ga", "tiktok")
	if len(recs) != 4 {
		t.Fatalf("records for %d destinations; want 4", len(recs))
	}
	contactOf := func(name string) map[string]any {
		c, _ := recs[name]["contact"].(map[string]any)
		return c
	}
	if c := contactOf("warehouse"); c != nil {
		t.Errorf("the warehouse got contact data: %v", c)
	}
	meta, ga, tt := contactOf("meta"), contactOf("ga"), contactOf("tiktok")
	want := map[string]map[string]any{
		// Meta: e-mail lowercased and trimmed; phone digits only, no '+'.
		"meta": {"em": sha("jane.doe@gmail.com"), "ph": sha("49301234567"), "ct": sha("berlin")},
		// Google: gmail dots removed; phone in E.164 with '+'; city in clear.
		"ga": {"em": sha("janedoe@gmail.com"), "ph": sha("+49301234567"), "ct": "berlin"},
		// TikTok: phone in E.164.
		"tiktok": {"em": sha("jane.doe@gmail.com"), "ph": sha("+49301234567"), "ct": sha("berlin")},
	}
	for name, got := range map[string]map[string]any{"meta": meta, "ga": ga, "tiktok": tt} {
		for k, v := range want[name] {
			if got[k] != v {
				t.Errorf("%s contact.%s = %v; want %v", name, k, got[k], v)
			}
		}
	}
	for name, rec := range recs {
		b, _ := json.Marshal(rec)
		for _, raw := range []string{"Jane.Doe", "jane.doe@", "1234-567", "Berlin"} {
			if strings.Contains(string(b), raw) {
				t.Errorf("%s record holds %q: %s", name, raw, b)
			}
		}
	}
}

// TestContactInClearScanned: a contact value a platform takes in clear
// (GA4's city, postal code, country) in which the scanner finds personal
// data is left out and counted, not normalised into the record (found by
// a review: an e-mail typed into the city field reached GA4 as
// "janedoeexamplecom").
func TestContactInClearScanned(t *testing.T) {
	en := newTestEngine(t, adConfig)
	for _, city := range []string{"jane.doe@example.org", "call +49 30 1234567"} {
		e := adEvent("analytics,ads")
		for i := range e.Props {
			if string(e.Props[i].Key) == "ct" {
				e.Props[i].Value = append(e.Props[i].Value[:0], city...)
			}
		}
		var out collected
		_, res, err := en.AppendRecords(nil, e, &out)
		if err != nil {
			t.Fatal(err)
		}
		recs := recordsByDest(t, en, e, "warehouse", "meta", "ga", "tiktok")
		c, _ := recs["ga"]["contact"].(map[string]any)
		if _, ok := c["ct"]; ok {
			t.Errorf("city %q: ga contact %v; want ct left out", city, c)
		}
		if c["em"] == nil {
			t.Errorf("city %q: ga contact %v; want the other fields kept", city, c)
		}
		if res.DroppedContact == 0 {
			t.Errorf("city %q: dropped contact not counted", city)
		}
	}
}

// TestClickIDsOnlyWhereKept: click ids and ad cookies go to the
// destinations whose policy keeps them, under ads only; fbc is made from
// fbclid with the receive time, as Meta documents.
func TestClickIDsOnlyWhereKept(t *testing.T) {
	en := newTestEngine(t, adConfig)
	e := adEvent("analytics,ads")
	recs := recordsByDest(t, en, e, "warehouse", "meta", "ga", "tiktok")
	for _, name := range []string{"warehouse", "tiktok"} {
		if c := recs[name]["click"]; c != nil {
			t.Errorf("%s got click ids: %v", name, c)
		}
	}
	// Each platform gets its own ids only: Meta's fbc and fbp are no
	// business of Google's, Google's gclid and _ga none of Meta's.
	wantFBC := "fb.1." + strconv.FormatInt(e.ReceivedAt.UnixMilli(), 10) + ".IwAR3xYz-Q_9"
	for dest, want := range map[string]map[string]any{
		"meta": {"fbp": "fb.1.1700000000000.123456789", "fbc": wantFBC},
		"ga":   {"gclid": "Cj0KCQiA-abc_DEF", "ga_client_id": "987654321.1700000001"},
	} {
		click, _ := recs[dest]["click"].(map[string]any)
		if len(click) != len(want) {
			t.Errorf("%s click %v; want exactly %v", dest, click, want)
		}
		for k, v := range want {
			if click[k] != v {
				t.Errorf("%s click.%s = %v; want %s", dest, k, click[k], v)
			}
		}
	}
	// Without ads consent nothing of it goes anywhere.
	recs = recordsByDest(t, newTestEngine(t, adConfig), adEvent("analytics"), "warehouse", "meta", "ga", "tiktok")
	for name, rec := range recs {
		if rec["click"] != nil || rec["contact"] != nil {
			t.Errorf("analytics only: %s got click %v contact %v", name, rec["click"], rec["contact"])
		}
	}
}

// TestContactNeverInProps: contact keys are never written as properties,
// even when a site allowlists them, and a field sent twice with two values
// is dropped.
func TestContactNeverInProps(t *testing.T) {
	en := newTestEngine(t, strings.Replace(adConfig, "allow: [plan, note, cart_value]", "allow: [plan, note, cart_value, em, ph]", 1))
	e := adEvent("analytics,ads")
	e.Props = append(e.Props, event.Prop{Key: []byte("ph"), Value: []byte("+1 202 555 0100")})
	recs := recordsByDest(t, en, e, "warehouse", "meta", "ga", "tiktok")
	for name, rec := range recs {
		if props, _ := rec["props"].(map[string]any); props["em"] != nil || props["ph"] != nil {
			t.Errorf("%s props hold contact data: %v", name, props)
		}
	}
	if c, _ := recs["meta"]["contact"].(map[string]any); c["ph"] != nil || c["em"] == nil {
		t.Errorf("two different phones: meta contact %v; want em only", c)
	}
}

// TestClickValueParsing covers the helpers' edges.
func TestClickValueParsing(t *testing.T) {
	for url, want := range map[string]string{
		"https://a/?gclid=abc":         "abc",
		"https://a/?x=1&gclid=abc&y=2": "abc",
		"https://a/#gclid=abc":         "",
		"https://a/?xgclid=abc":        "",
		"https://a/?gclid=abc#frag":    "abc",
		"https://a/?gclid":             "",
		"https://a/p?q=1#x?gclid=abc":  "",
		"https://a/?gclid=a%20b":       "a%20b", // found, then refused by clickValue
	} {
		if got := string(queryParam([]byte(url), "gclid")); got != want {
			t.Errorf("queryParam(%q) = %q; want %q", url, got, want)
		}
	}
	if clickValue([]byte("a%20b")) || clickValue([]byte(`a"b`)) || clickValue(nil) || !clickValue([]byte("Cj0-_.x")) {
		t.Error("clickValue")
	}
	for v, want := range map[string]string{"GA1.1.123.456": "123.456", "123.456": "123.456", "GA1.123": "", "x": ""} {
		if got := string(gaClientID([]byte(v))); got != want {
			t.Errorf("gaClientID(%q) = %q; want %q", v, got, want)
		}
	}
}

// TestGAClientIDDigitsOnly: Google's client id, from the _ga cookie or bare,
// is a random number and a time in seconds, "<digits>.<digits>". Whatever
// else a page's script wrote there (a name, an e-mail's local part, a
// customer number with letters) is no client id and reaches no GA4 request:
// GA1.1.jane.doe became client_id "jane.doe" while only the signs were
// checked.
func TestGAClientIDDigitsOnly(t *testing.T) {
	for v, want := range map[string]string{
		"GA1.1.1234567890.1700000000": "1234567890.1700000000",
		"GA1.2.42.1700000000":         "42.1700000000",
		"1234567890.1700000000":       "1234567890.1700000000",
		"GA1.1.jane.doe":              "",
		"jane.doe":                    "",
		"GA1.1.jane.1700000000":       "",
		"GA1.1.123.4x":                "",
		"GA1.1..1700000000":           "",
		"GA1.1.123.":                  "",
		"GA1.123":                     "",
		"":                            "",
	} {
		if got := string(gaClientID([]byte(v))); got != want {
			t.Errorf("gaClientID(%q) = %q; want %q", v, got, want)
		}
	}
}
