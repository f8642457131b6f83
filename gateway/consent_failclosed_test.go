package gateway

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestConsentFailsClosed runs requests whose consent signals are repeated
// or not understood through the whole pipeline: each such signal is a
// refusal for itself, counted, and never drops the event.
func TestConsentFailsClosed(t *testing.T) {
	p := newPipelineGateway(t, goldenConfig, "", clocktest.Golden)
	dr := newDriver(p.g, "81.2.69.142")
	const tc = "CQd924AQd924AASACCENCNFsAP_gAEIAACiQL6QBAAGAAOANmAcAF9IAIADgAA" // purposes 1-10, vendors 12, 14, 435, 448

	type consentField struct {
		State    string
		Purposes []string
		Signal   string
	}
	send := func(name string, raw []byte, wantState, wantRoute string) {
		t.Helper()
		p.sp.records, p.sp.routes = p.sp.records[:0], p.sp.routes[:0]
		dr.do(raw)
		if len(p.sp.records) != 1 {
			t.Fatalf("%s: %d records; want the event kept", name, len(p.sp.records))
		}
		var rec struct{ Consent consentField }
		if err := json.Unmarshal([]byte(p.sp.records[0]), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Consent.State != wantState || routeNames(p.names, p.sp.routes[0]) != wantRoute {
			t.Fatalf("%s: consent %+v routed %s; want state %s routed %s", name, rec.Consent, routeNames(p.names, p.sp.routes[0]), wantState, wantRoute)
		}
	}
	malformed := func(sig string) float64 {
		return p.counter(t, "beacongate_anonymize_consent_malformed_total", "signal", sig)
	}

	// The unexpanded macro: GDPR is taken to apply, so the TC string is
	// read (and vendor 14 of retargeting has consent), and the flag counts.
	before := malformed("tcf")
	send("gdpr=${GDPR}", rawRequest("GET", "/p.gif?site=s&gdpr=${GDPR}&gdpr_consent="+tc, nil), "ads", "[all,retargeting]")
	if malformed("tcf")-before != 1 {
		t.Errorf("gdpr=${GDPR}: consent_malformed{tcf} +%v; want +1", malformed("tcf")-before)
	}
	// The macro without a TC string: GDPR applies and nothing recorded
	// consent, so nothing is granted; our own destination still gets it.
	send("gdpr=${GDPR}, no TC string", rawRequest("GET", "/p.gif?site=s&gdpr=${GDPR}&consent=analytics,ads", nil), "none", "[all]")

	// gdpr sent twice: the copy saying GDPR applies wins.
	send("gdpr=0&gdpr=1, explicit consent", rawRequest("GET", "/p.gif?site=s&gdpr=0&gdpr=1&consent=analytics,ads", nil), "none", "[all]")

	// Two Sec-GPC headers: any "1" withdraws ads.
	send("Sec-GPC 0 then 1", rawRequest("GET", "/p.gif?site=s&consent=analytics,ads", nil, "Sec-GPC", "0", "Sec-GPC", "1"), "analytics", "[all]")
	send("DNT 0 then 1", rawRequest("GET", "/p.gif?site=s&consent=analytics,ads", nil, "DNT", "0", "DNT", "1"), "analytics", "[all]")
	// The same two headers joined into one line by a proxy, as RFC 9110
	// (5.3) allows: a list whose members count as the copies would.
	send("Sec-GPC 1, 1", rawRequest("GET", "/p.gif?site=s&consent=analytics,ads", nil, "Sec-GPC", "1, 1"), "analytics", "[all]")
	send("Sec-GPC 0,1", rawRequest("GET", "/p.gif?site=s&consent=analytics,ads", nil, "Sec-GPC", "0,1"), "analytics", "[all]")
	send("DNT 0 , 1", rawRequest("GET", "/p.gif?site=s&consent=analytics,ads", nil, "DNT", "0 , 1"), "analytics", "[all]")
	send("DNT 0, 0", rawRequest("GET", "/p.gif?site=s&consent=analytics,ads", nil, "DNT", "0, 0"), "ads", "[all,retargeting]")

	// The same explicit answer twice is one answer; two different ones are
	// a refusal, counted.
	send("consent twice, equal", rawRequest("GET", "/p.gif?site=s&consent=analytics,ads&consent=analytics,ads", nil), "ads", "[all,retargeting]")
	before = malformed("explicit")
	send("consent twice, different", rawRequest("GET", "/p.gif?site=s&consent=analytics,ads&consent=analytics", nil), "none", "[all]")
	if malformed("explicit")-before != 1 {
		t.Errorf("conflicting consent: consent_malformed{explicit} +%v; want +1", malformed("explicit")-before)
	}

	// In a BLE ping's shared fields, which every sighting takes.
	before = malformed("explicit")
	ts := clocktest.Golden.Add(-time.Minute).UnixMilli()
	send("BLE, consent string then list", rawRequest("POST", "/ble", fmt.Appendf(nil,
		`{"site":"s","store":"berlin-01","consent":"none","consent":["analytics","ads"],"sightings":[{"uuid":"f7826da6-4fa2-4e98-8024-bc5b71e0893e","major":1,"minor":2,"rssi":-60,"ts":%d,"mac":"a4:5e:60:e8:1b:2c"}]}`, ts),
		"Content-Type", "application/json"), "none", "[all]")
	if got := malformed("explicit") - before; got != 1 {
		t.Errorf("BLE, consent string then list: consent_malformed{explicit} +%v; want +1", got)
	}

	// In a beacon, where "consent" may also be a list: a list
	// after a string, or after another list, is a second copy too, never
	// a replacement of the first.
	beacon := func(body string) []byte {
		return rawRequest("POST", "/b", []byte(body), "Content-Type", "text/plain")
	}
	for _, c := range []struct {
		name, copies, state, route string
		malformed                  float64
	}{
		{"string then list, different", `"consent":"none","consent":["analytics","ads"]`, "none", "[all]", 1},
		{"list then list, different", `"consent":["none"],"consent":["analytics","ads"]`, "none", "[all]", 1},
		{"list then string, different", `"consent":["analytics","ads"],"consent":"none"`, "none", "[all]", 1},
		{"string then empty list", `"consent":"analytics,ads","consent":[]`, "none", "[all]", 1}, // copies differ: a refusal
		{"string then list, equal", `"consent":"analytics,ads","consent":["analytics","ads"]`, "ads", "[all,retargeting]", 0},
		{"list twice, equal", `"consent":["analytics","ads"],"consent":["analytics","ads"]`, "ads", "[all,retargeting]", 0},
		{"one list", `"consent":["analytics","ads"]`, "ads", "[all,retargeting]", 0},
		// An empty list grants nothing: a refusal, as "none", not an
		// absent field that Consent Mode's grant would then decide.
		{"empty list, Consent Mode grants", `"consent":[],"gcs":"G111","gcd":"11t1t1t1t5"`, "none", "[all]", 0},
		{"empty list then string", `"consent":[],"consent":"analytics,ads"`, "none", "[all]", 1},
		{"empty list then none", `"consent":[],"consent":"none"`, "none", "[all]", 0},
	} {
		before = malformed("explicit")
		send("beacon, consent "+c.name, beacon(`{"site":"s","uid":"u-1",`+c.copies+`}`), c.state, c.route)
		if got, want := malformed("explicit")-before, c.malformed; got != want {
			t.Errorf("beacon, consent %s: consent_malformed{explicit} +%v; want +%v", c.name, got, want)
		}
	}

	// A euconsent-v2 cookie and a different gdpr_consent parameter.
	before = malformed("tcf")
	send("cookie and parameter differ", rawRequest("GET", "/p.gif?site=s&gdpr=1&gdpr_consent="+tc, nil, "Cookie", "euconsent-v2=COvFyGBOvFyGBAbAAAENAPCAAOAAAAAAAAAAAEEUACCKAAA"), "none", "[all]")
	if malformed("tcf")-before != 1 {
		t.Errorf("conflicting TC strings: consent_malformed{tcf} +%v; want +1", malformed("tcf")-before)
	}
	send("cookie and parameter equal", rawRequest("GET", "/p.gif?site=s&gdpr=1&gdpr_consent="+tc, nil, "Cookie", "euconsent-v2="+tc), "ads", "[all,retargeting]")

	// The cookie twice (a site and its parent domain both set one): the
	// second copy counts too, so two different TC strings refuse TCF,
	// whichever comes first.
	const other = "COvFyGBOvFyGBAbAAAENAPCAAOAAAAAAAAAAAEEUACCKAAA"
	for _, cookies := range []string{"euconsent-v2=" + tc + "; euconsent-v2=" + other, "euconsent-v2=" + other + "; euconsent-v2=" + tc} {
		before = malformed("tcf")
		send("cookie twice, different", rawRequest("GET", "/p.gif?site=s&gdpr=1", nil, "Cookie", cookies), "none", "[all]")
		if malformed("tcf")-before != 1 {
			t.Errorf("two different euconsent-v2 cookies: consent_malformed{tcf} +%v; want +1", malformed("tcf")-before)
		}
	}
	send("cookie twice, equal", rawRequest("GET", "/p.gif?site=s&gdpr=1", nil, "Cookie", "euconsent-v2="+tc+"; euconsent-v2="+tc), "ads", "[all,retargeting]")
}

// TestVendorRefusedMetric: a destination refused by the TCF vendor check
// is counted by reason, and the others still get the event.
func TestVendorRefusedMetric(t *testing.T) {
	yaml, err := os.ReadFile("../examples/shop-retargeting.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := newPipelineGateway(t, string(yaml), "", clocktest.Golden)
	const tc = "CQd924AQd924AASACCENCNFsAP_gAEIAACiQL6QBAAGAAOANmAcAF9IAIADgAA" // no consent for vendor 755
	newDriver(p.g, "81.2.69.142").do(rawRequest("GET", "/p.gif?site=shop&gdpr=1&gdpr_consent="+tc, nil))
	if len(p.sp.records) != 1 || routeNames(p.names, p.sp.routes[0]) != "[warehouse]" {
		t.Fatalf("%d records routed %v; want one for the warehouse", len(p.sp.records), p.sp.routes)
	}
	// The partner and GA4 (vendor 755 both) lack vendor consent; Meta and
	// TikTok are no TCF vendors.
	if n := p.counter(t, "beacongate_anonymize_vendor_refused_total", "reason", consent.VendorNoConsent.String()); n != 2 {
		t.Fatalf("vendor_refused{no_vendor_consent} = %v; want 2", n)
	}
	if n := p.counter(t, "beacongate_anonymize_vendor_refused_total", "reason", consent.VendorNoID.String()); n != 2 {
		t.Fatalf("vendor_refused{no_vendor_id} = %v; want 2", n)
	}
}

// TestEmptySecondCopyIsNoWithdrawal: a consent signal sent again empty
// (consent=none&consent=, us_privacy=1YYN&us_privacy=) is a second copy that
// differs from the first, a refusal; it must not erase the first copy and
// let the other signals grant what it refused.
func TestEmptySecondCopyIsNoWithdrawal(t *testing.T) {
	checkConsentStates(t, []consentCase{
		{"explicit none, then empty; gcs grants analytics", rawRequest("GET", "/p.gif?site=s&consent=none&consent=&gcs=G111", nil), "none"},
		{"us_privacy opt-out, then empty", rawRequest("GET", "/p.gif?site=s&consent=analytics,ads&us_privacy=1YYN&us_privacy=", nil), "analytics"},
		{"gcs denied, then empty", rawRequest("GET", "/p.gif?site=s&consent=analytics,ads&gcs=G100&gcs=", nil), "none"},
		{"beacon: explicit none, then empty list", rawRequest("POST", "/b", []byte(`{"site":"s","consent":"none","consent":[],"gcs":"G111"}`), "Content-Type", "text/plain"), "none"},
		{"beacon: us_privacy opt-out, then empty", rawRequest("POST", "/b", []byte(`{"site":"s","consent":"analytics,ads","us_privacy":"1YYN","us_privacy":""}`), "Content-Type", "text/plain"), "analytics"},
	})
}

// TestEmptyFirstCopyConflicts: a consent signal sent empty and then with a
// value (consent=&consent=analytics,ads) has two copies that differ, as in
// the other order (TestEmptySecondCopyIsNoWithdrawal): a refusal, whichever
// copy comes first.
func TestEmptyFirstCopyConflicts(t *testing.T) {
	checkConsentStates(t, []consentCase{
		{"explicit empty, then a grant; gcs grants analytics", rawRequest("GET", "/p.gif?site=s&consent=&consent=analytics,ads&gcs=G111", nil), "none"},
		{"us_privacy empty, then no opt-out", rawRequest("GET", "/p.gif?site=s&consent=analytics,ads&us_privacy=&us_privacy=1YNN", nil), "analytics"},
		{"gcs empty, then granted", rawRequest("GET", "/p.gif?site=s&consent=analytics,ads&gcs=&gcs=G111", nil), "none"},
		{"beacon: explicit empty, then a list", rawRequest("POST", "/b", []byte(`{"site":"s","consent":"","consent":["analytics","ads"],"gcs":"G111"}`), "Content-Type", "text/plain"), "none"},
		{"beacon: us_privacy empty, then no opt-out", rawRequest("POST", "/b", []byte(`{"site":"s","consent":"analytics,ads","us_privacy":"","us_privacy":"1YNN"}`), "Content-Type", "text/plain"), "analytics"},
		{"the same empty copy twice is no conflict", rawRequest("GET", "/p.gif?site=s&consent=analytics,ads&us_privacy=&us_privacy=", nil), "ads"},
	})
}

// consentCase is a request and the consent state its one record must
// carry.
type consentCase struct {
	name  string
	raw   []byte
	state string
}

// checkConsentStates sends each case's request through the golden config
// and checks that it made one record, in the case's consent state.
func checkConsentStates(t *testing.T, cases []consentCase) {
	t.Helper()
	p := newPipelineGateway(t, goldenConfig, "", clocktest.Golden)
	dr := newDriver(p.g, "81.2.69.142")
	for _, c := range cases {
		p.sp.records, p.sp.routes = p.sp.records[:0], p.sp.routes[:0]
		dr.do(c.raw)
		if len(p.sp.records) != 1 {
			t.Fatalf("%s: %d records; want the event kept", c.name, len(p.sp.records))
		}
		var rec struct{ Consent struct{ State string } }
		if err := json.Unmarshal([]byte(p.sp.records[0]), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Consent.State != c.state {
			t.Errorf("%s: state %s; want %s", c.name, rec.Consent.State, c.state)
		}
	}
}
