package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize/geo/geotest"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/explain"
)

// analyticsTC is a valid TCF 2.2 TC string (service-specific, policy
// version 5, CMP 18, created 2026-01-13) with consent for TCF purposes 1, 8
// and 9 only: the default mapping grants analytics and device_storage, not
// ads. It was built with the TC string encoder in
// anonymize/consent/builder_test.go (goodSpec with pc = 1, 8, 9, no LI, no
// special features); `beacongate consent` decodes it as valid.
const analyticsTC = "CQd_OxAQd_OxAASACCENCNFgAIGAAAAAAAYgF5wAwAGQAOABQBeYAHAAEAA"

// explainRun runs "beacongate explain" in process with sample on stdin,
// received at the golden instant unless args set -at.
func explainRun(t *testing.T, sample string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	if !slices.Contains(args, "-at") {
		args = append([]string{"-at", clocktest.Golden.Format(time.RFC3339)}, args...)
	}
	code = run(append([]string{"explain"}, args...), strings.NewReader(sample), &out, &errb)
	return out.String(), errb.String(), code
}

// explainJSON runs explain with -json and decodes its output.
func explainJSON(t *testing.T, sample string, args ...string) explain.Output {
	t.Helper()
	out, errs, code := explainRun(t, sample, append(args, "-json")...)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errs)
	}
	var o explain.Output
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	return o
}

func exampleConfig(name string) string { return filepath.Join("..", "..", "examples", name) }

// stateCase returns the explained case of state st of the only event.
func stateCase(t *testing.T, o explain.Output, st string) explain.Case {
	t.Helper()
	if len(o.Events) != 1 {
		t.Fatalf("%d events; want 1 (rejected: %+v)", len(o.Events), o.Rejected)
	}
	for _, c := range o.Events[0].States {
		if c.State == st {
			return c
		}
	}
	t.Fatalf("no state %s", st)
	return explain.Case{}
}

// recordField returns the record's value for key as a string ("" if absent).
func recordField(t *testing.T, c explain.Case, key string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(c.Record, &m); err != nil {
		t.Fatalf("state %s: record is not a JSON object: %v: %s", c.State, err, c.Record)
	}
	return jsonText(m[key])
}

// jsonText returns a JSON string's value, other values compacted, and ""
// for null or nothing.
func jsonText(v json.RawMessage) string {
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return string(v)
	}
	return b.String()
}

func TestExplainPixelWithoutConsent(t *testing.T) {
	const pixel = "https://collect.example/p.gif?site=shop" +
		"&url=https%3A%2F%2Fshop.example.com%2Fcheckout%3Fstep%3D2%26gclid%3DCj0KCQiA4Y7xyzABC%26q%3Danna.muster%2540example.com" +
		"&uid=customer-4711&cid=cookie-abc-123&p.note=anna.muster%40example.com&p.step=2"
	secrets := []string{"anna.muster", "gclid", "Cj0KCQiA4Y7xyzABC", "customer-4711", "cookie-abc-123", "203.0.113.77"}
	f := func(args ...string) {
		t.Helper()
		o := explainJSON(t, pixel, args...)
		if o.Rejected != nil {
			t.Fatalf("rejected: %+v", o.Rejected)
		}
		ev := o.Events[0]
		if ev.Consent.State != "none" || ev.Consent.Decider != "none" || len(ev.Consent.Present) != 0 {
			t.Fatalf("consent = %+v; want state none decided by no signal", ev.Consent)
		}
		none := stateCase(t, o, "none")
		if !none.Applies {
			t.Fatal("the none state does not apply to a request without signals")
		}
		for _, s := range secrets {
			if bytes.Contains(none.Record, []byte(s)) {
				t.Errorf("none record holds %q: %s", s, none.Record)
			}
			for _, row := range none.Fields {
				if bytes.Contains(row.Result, []byte(s)) {
					t.Errorf("none result of %s holds %q", row.Field, s)
				}
			}
		}
		if got := recordField(t, none, "url"); got != "https://shop.example.com/checkout" {
			t.Errorf("none url = %q; want the path only", got)
		}
		// The arrived column does show what came in: that is the point.
		arrived := map[string]string{}
		for _, row := range none.Fields {
			arrived[row.Field] = row.Arrived
		}
		if arrived["ip"] != "203.0.113.77" || arrived["user_id"] != "customer-4711" || !strings.Contains(arrived["url"], "gclid=") {
			t.Errorf("arrived values wrong: %v", arrived)
		}
		// With consent the address is truncated and ids pseudonymized; the
		// click id and the e-mail are still removed from the URL.
		an := stateCase(t, o, "analytics")
		if an.Applies {
			t.Error("analytics marked as applying without consent")
		}
		if got := recordField(t, an, "ip"); got != "203.0.113.0" {
			t.Errorf("analytics ip = %q; want 203.0.113.0", got)
		}
		if u := recordField(t, an, "user"); len(u) != 22 {
			t.Errorf("analytics user = %q; want a 22-character pseudonym", u)
		}
		for _, s := range secrets {
			if bytes.Contains(an.Record, []byte(s)) {
				t.Errorf("analytics record holds %q: %s", s, an.Record)
			}
		}
		if got := recordField(t, an, "scrubbed"); got != `["email","click_id"]` {
			t.Errorf("analytics record does not list the removed e-mail and click id: %s", an.Record)
		}
	}
	f("-config", exampleConfig("shop-retargeting.yaml"))
	f() // the embedded default
}

func TestExplainTCFGrantsAnalytics(t *testing.T) {
	sample := "GET /p.gif?site=shop&url=https%3A%2F%2Fshop.example.com%2F&uid=u1 HTTP/1.1\n" +
		"User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\n" +
		"Accept-Language: de-DE,de;q=0.9\n" +
		"Cookie: other=1; euconsent-v2=" + analyticsTC + "\n"
	o := explainJSON(t, sample, "-config", exampleConfig("shop-retargeting.yaml"))
	c := o.Events[0].Consent
	if c.State != "analytics" || c.Decider != "tcf" || strings.Join(c.Granted, ",") != "analytics,device_storage" {
		t.Fatalf("consent = %+v; want analytics (and device_storage) granted by tcf", c)
	}
	for _, st := range []string{"none", "analytics", "ads"} {
		if got := stateCase(t, o, st).Applies; got != (st == "analytics") {
			t.Errorf("state %s applies = %v", st, got)
		}
	}
	an := stateCase(t, o, "analytics")
	if strings.Join(an.Destinations, ",") != "warehouse" {
		t.Errorf("analytics destinations = %v; want warehouse only (retargeting needs ads)", an.Destinations)
	}
	if got := recordField(t, an, "lang"); got != "de" {
		t.Errorf("lang = %q; want de", got)
	}
	if ads := stateCase(t, o, "ads"); strings.Join(ads.Destinations, ",") != "warehouse,retargeting,meta,ga4,tiktok" {
		t.Errorf("ads destinations = %v", ads.Destinations)
	}

	// The text form marks the state that applies and aligns its columns.
	out, _, code := explainRun(t, sample, "-config", exampleConfig("shop-retargeting.yaml"))
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out, "--- state analytics (purposes: analytics, device_storage)   <== applies") ||
		strings.Contains(out, "--- state none (purposes: none)   <==") {
		t.Errorf("text output does not mark the analytics state:\n%s", out)
	}
	if !strings.Contains(out, "decided by  tcf") || !strings.Contains(out, "FIELD") {
		t.Errorf("text output lacks the consent block or the table:\n%s", out)
	}
}

func TestExplainRejected(t *testing.T) {
	f := func(sample, reason string, status int, args ...string) {
		t.Helper()
		o := explainJSON(t, sample, args...)
		if o.Rejected == nil || o.Rejected.Reason != reason || o.Rejected.Status != status || len(o.Events) != 0 {
			t.Fatalf("rejected = %+v, %d events; want %s %d and none", o.Rejected, len(o.Events), reason, status)
		}
		out, _, code := explainRun(t, sample, args...)
		if code != 0 || !strings.Contains(out, "REJECTED  "+reason) {
			t.Fatalf("text output (exit %d) does not say REJECTED %s:\n%s", code, reason, out)
		}
	}
	f("/p.gif?url=https%3A%2F%2Fx.example%2F", "missing_site", 200) // the pixel answers with its GIF anyway
	f(`{"event":"signup","url":"https://x.example/"}`, "missing_site", 400)
	f(`{"site":"intruder","event":"x"}`, "unknown_site", 400, "-config", exampleConfig("shop-retargeting.yaml"))
	f("POST /b HTTP/1.1\nContent-Type: application/json\nOrigin: https://evil.example\n\n{\"site\":\"shop\"}\n",
		"forbidden_origin", 403, "-config", exampleConfig("shop-retargeting.yaml"))
	f("GET /p.gif?site=a HTTP/1.1\nUser-Agent: bad\x01value\n", "malformed_request", 400)
	f("GET /nope HTTP/1.1\n", "not_found", 404)
}

func TestExplainBLE(t *testing.T) {
	sample := `{"site":"store-berlin-001","store":"berlin-01","sensor":"gate-3","consent":"analytics",
	"sightings":[{"uuid":"f7826da6-4fa2-4e98-8024-bc5b71e0893e","major":100,"minor":7,"rssi":-67,"ts":1732420000123,"mac":"a4:5e:60:e8:1b:2c"}]}`
	o := explainJSON(t, sample, "-config", exampleConfig("retail-ble.yaml"), "-at", "2024-11-24T04:00:00Z") // the sighting time must be near the receive time
	if o.Request.URI != "/ble" || o.Events[0].Kind != "ble" || o.Events[0].Consent.State != "analytics" {
		t.Fatalf("request %+v, event %+v", o.Request, o.Events[0].Consent)
	}
	device := func(st string) string {
		for _, row := range stateCase(t, o, st).Fields {
			if row.Field == "device_id" {
				if row.Arrived != "a4:5e:60:e8:1b:2c (mac)" {
					t.Errorf("device_id arrived = %q", row.Arrived)
				}
				return jsonText(row.Result)
			}
		}
		t.Fatalf("state %s has no device_id row", st)
		return ""
	}
	if got := device("none"); got != "" {
		t.Errorf("none: device result %s; want nothing (device_id: drop)", got)
	}
	if got := device("analytics"); !strings.Contains(got, `"device_kind":"mac"`) || strings.Contains(got, "a4:5e") {
		t.Errorf("analytics: device result %s; want a pseudonym of kind mac", got)
	}
}

// TestExplainBLEVisitorHashSource: explain says what a BLE sighting's
// visitor hash is made of, the site and the device id (none for a
// randomized MAC or no device id), not the web events' "site + ip + user
// agent": the store box's address and agent never enter it.
func TestExplainBLEVisitorHashSource(t *testing.T) {
	from := func(sample string, args ...string) string {
		t.Helper()
		o := explainJSON(t, sample, args...)
		for _, row := range stateCase(t, o, "analytics").Fields {
			if row.Field == "visitor_hash" {
				return row.Arrived
			}
		}
		t.Fatalf("no visitor_hash row")
		return ""
	}
	ble := func(device string) string {
		return `{"site":"store-berlin-001","store":"berlin-01","sensor":"gate-3","consent":"analytics",
	"sightings":[{"uuid":"f7826da6-4fa2-4e98-8024-bc5b71e0893e","major":100,"minor":7,"rssi":-67,"ts":1732420000123` + device + `}]}`
	}
	args := []string{"-config", exampleConfig("retail-ble.yaml"), "-at", "2024-11-24T04:00:00Z"}
	for _, c := range []struct{ device, want string }{
		{`,"mac":"A4-5E-60-E8-1B-2C"`, "(site + device id, per UTC day)"},
		{`,"adid":"38400000-8CF0-11BD-B23E-10B96E40000D"`, "(site + device id, per UTC day)"},
		{`,"mac":"da:1a:2b:00:00:01"`, "(none: a randomized MAC is never counted as a visitor)"},
		{``, "(none: the sighting has no device id)"},
	} {
		if got := from(ble(c.device), args...); got != c.want {
			t.Errorf("sighting %s: visitor_hash from %q; want %q", c.device, got, c.want)
		}
	}
	if got := from("/p.gif?site=shop&consent=analytics"); got != "(site + ip + user agent)" {
		t.Errorf("pixel: visitor_hash from %q", got)
	}
}

func TestExplainPseudonymKeys(t *testing.T) {
	pixel := "/p.gif?site=shop&uid=customer-4711"
	args := []string{"-config", exampleConfig("shop-retargeting.yaml")}
	user := func() (string, []string) {
		t.Helper()
		o := explainJSON(t, pixel, args...)
		return recordField(t, stateCase(t, o, "analytics"), "user"), o.Notes
	}
	// Derived mode without the secret: an ephemeral key stands in, and says so.
	t.Setenv("BEACONGATE_PSEUDONYM_SECRET", "")
	u1, notes := user()
	if !strings.Contains(strings.Join(notes, "\n"), "an ephemeral key stands in") {
		t.Errorf("notes %q do not say the secret is missing", notes)
	}
	if u2, _ := user(); u1 == u2 {
		t.Error("two ephemeral keys made the same pseudonym")
	}
	// With the secret, explain computes the server's pseudonyms: stable.
	t.Setenv("BEACONGATE_PSEUDONYM_SECRET", strings.Repeat("s3cr3t-", 6))
	d1, notes := user()
	d2, _ := user()
	if d1 != d2 || len(d1) != 22 || strings.Contains(strings.Join(notes, "\n"), "stands in") {
		t.Errorf("derived pseudonyms %q, %q (notes %q); want equal and no fallback", d1, d2, notes)
	}
}

func TestExplainUsage(t *testing.T) {
	f := func(sample string, want int, args ...string) {
		t.Helper()
		if _, errs, code := explainRun(t, sample, args...); code != want {
			t.Errorf("explain %v: exit %d; want %d; stderr %s", args, code, want, errs)
		}
	}
	f("/p.gif?site=a", 2, "-nope")
	f("/p.gif?site=a", 2, "-ip", "not-an-ip")
	f("/p.gif?site=a", 1, "-config", "/nonexistent/beacongate.yaml")
	f("  \n", 1)
	dir := t.TempDir()
	req := filepath.Join(dir, "req.txt")
	if err := os.WriteFile(req, []byte("/p.gif?site=a"), 0o600); err != nil {
		t.Fatal(err)
	}
	f("", 0, "-request", req)
}

// TestExplainBadIPNamesTheFlagNotTheValue: an -ip that is no address is
// bad usage, named by the flag, never echoed: the value is often a
// visitor's address, copied from a log (fails before: netip's error,
// quoting it).
func TestExplainBadIPNamesTheFlagNotTheValue(t *testing.T) {
	for _, ip := range []string{"203.0.113.777", "2001:db8::12345", "not-an-ip"} {
		_, errs, code := explainRun(t, "/p.gif?site=a", "-ip", ip)
		if code != 2 || strings.Contains(errs, ip) || !strings.Contains(errs, "-ip: want an IPv4 or IPv6 address") {
			t.Errorf("-ip %s: exit %d, stderr %q; want 2, the flag named, the value not", ip, code, errs)
		}
	}
}

func TestExplainGeo(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "city.mmdb")
	err := geotest.WriteCityDB(db, []geotest.Network{{CIDR: "203.0.113.0/24", Continent: "EU", Country: "DE",
		Region: "BE", City: "Berlin", Lat: 52.5243, Lon: 13.4105, HasCoordinates: true}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "geo.yaml")
	yaml := "geoip: {database: " + db + "}\npolicies:\n  analytics:\n    geo: {level: city, grid: 0.1}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	o := explainJSON(t, "/p.gif?site=a", "-config", cfg)
	if strings.Contains(strings.Join(o.Notes, "\n"), "no geo") {
		t.Errorf("notes %q; the database exists", o.Notes)
	}
	if got := recordField(t, stateCase(t, o, "none"), "geo"); got != `{"continent":"EU","country":"DE"}` {
		t.Errorf("none geo = %s; want continent and country only", got)
	}
	an := recordField(t, stateCase(t, o, "analytics"), "geo")
	if !strings.Contains(an, `"city":"Berlin"`) || !strings.Contains(an, "52.5") || strings.Contains(an, "52.52") {
		t.Errorf("analytics geo = %s; want the city and coordinates on a 0.1 grid", an)
	}

	// A configured database that is missing is a note, not an error.
	if err := os.Remove(db); err != nil {
		t.Fatal(err)
	}
	o = explainJSON(t, "/p.gif?site=a", "-config", cfg)
	if !strings.Contains(strings.Join(o.Notes, "\n"), "no geo") || recordField(t, stateCase(t, o, "analytics"), "geo") != "" {
		t.Errorf("missing database: notes %q", o.Notes)
	}
}

// TestExplainNamesThePixelsFieldAtFault: a pixel answers every request
// with its GIF, so explain is where a developer or officer learns why one
// made no event: it names the field at fault and what is wrong with it, as
// the answer to a POST does, never its value (fails before: the reason
// alone, "invalid_field").
func TestExplainNamesThePixelsFieldAtFault(t *testing.T) {
	for _, c := range []struct{ sample, problem string }{
		{"/p.gif?site=shop&eid=ord-77&url=%2F", "eid: 8 to 64 characters of A-Z a-z 0-9 - _"},
		{"/p.gif?site=shop&url=%2F&p.note=" + strings.Repeat("x", 1100), "props: a property value is longer than 1024 bytes"},
		{"/p.gif?site=shp&url=%2F", "site: not one of the sites configured on this gateway"},
	} {
		out, _, code := explainRun(t, c.sample, "-config", exampleConfig("shop-retargeting.yaml"))
		if code != 0 || !strings.Contains(out, "REJECTED") || !strings.Contains(out, "\n          "+c.problem+"\n") {
			t.Errorf("%.40s: exit %d; want REJECTED and %q:\n%s", c.sample, code, c.problem, out)
		}
		js, _, _ := explainRun(t, c.sample, "-config", exampleConfig("shop-retargeting.yaml"), "-json")
		var o struct {
			Rejected map[string]any `json:"rejected"`
		}
		if err := json.Unmarshal([]byte(js), &o); err != nil || o.Rejected["problem"] != c.problem {
			t.Errorf("%.40s: -json rejected %v (%v); want problem %q", c.sample, o.Rejected, err, c.problem)
		}
	}
	// A POST's answer names it already: said once.
	out, _, _ := explainRun(t, `{"site":"shop","eid":"ord-77"}`, "-config", exampleConfig("shop-retargeting.yaml"))
	if n := strings.Count(out, "eid: 8 to 64"); n != 1 {
		t.Errorf("POST: the problem is said %d times:\n%s", n, out)
	}
}
