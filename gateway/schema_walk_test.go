package gateway

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/internal/schematest"
)

// wideSchemaConfig turns on what the built-in policies leave off, so that
// every member the record schema describes is written by some request:
// the address kept whole, the raw user agent, a coordinate grid, crawlers
// and HTTP clients flagged, a server-to-server site, every purpose.
const wideSchemaConfig = `
sites:
  - id: web
  - id: app
    server_to_server: true
properties:
  allow: [plan, cart_value, note, flag, zone]
consent:
  purposes: [analytics, ads, personalization, precise_geo, device_storage]
policies:
  none: {bots: flag, http_clients: flag}
  analytics:
    ip: {action: keep}
    geo: {level: city, grid: 0.1}
    user_agent: {action: keep}
    http_clients: flag
  ads: {bots: flag, geo: {level: city, grid: 0.5}}
destinations:
  - name: all
    type: file
    tcf: {without_vendor: true}
`

// compileRecordSchema compiles schema/record.schema.json.
func compileRecordSchema(t *testing.T) *jsonschema.Schema {
	return schematest.Compile(t, "../schema/record.schema.json")
}

// schemaPaths lists the member paths the record schema describes ("ip",
// "ua.bot_name", "contact.em"), the members of objects whose members are
// free (props) left out.
func schemaPaths(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../schema/record.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	type node struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	var paths []string
	var walk func(prefix string, raw json.RawMessage)
	walk = func(prefix string, raw json.RawMessage) {
		var n node
		if err := json.Unmarshal(raw, &n); err != nil {
			t.Fatal(err)
		}
		for k, sub := range n.Properties {
			paths = append(paths, prefix+k)
			walk(prefix+k+".", sub)
		}
	}
	walk("", data)
	slices.Sort(paths)
	return paths
}

// recordPaths adds the member paths of rec to seen, the members of props
// left out (their names are the site's).
func recordPaths(seen map[string]bool, prefix string, rec map[string]any) {
	for k, v := range rec {
		seen[prefix+k] = true
		if sub, ok := v.(map[string]any); ok && prefix+k != "props" {
			recordPaths(seen, prefix+k+".", sub)
		}
	}
}

// schemaWalkRequests are requests for site (and, for the pixel, a
// server-to-server site s2s) under every consent signal the gateway reads,
// from a browser, a crawler and an HTTP client, with every field of the
// vocabulary, contact data and click ids: the pixel, a beacon batch as
// JSON and as a form, and a BLE ping with iBeacon, Eddystone, randomized
// and app sightings.
func schemaWalkRequests(site string, now time.Time) [][]byte {
	signals := []string{
		"",
		"consent=none",
		"consent=analytics",
		"consent=analytics,ads",
		"consent=analytics,ads,personalization,precise_geo,device_storage",
		"gdpr=1&gdpr_consent=" + realTC,
		"gdpr=0&gcs=G111&gcd=13r3r3r3r5",
		"gcs=G100",
		"us_privacy=1YYN&consent=analytics,ads",
		"gpp=DBABMA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA&gpp_sid=2",
		"consent=bogus",
	}
	agents := []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1 jane@example.org",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"okhttp/4.12.0",
	}
	page := "https://shop.example.com/p/42?utm_campaign=x&gclid=abc123&fbclid=IwAR1x&email=jane%40example.org"
	props := "&p.plan=pro&p.cart_value=129.5&p.flag=true&p.note=call%20%2B49%2030%201234567" +
		"&p.em=Jane%40Example.org&p.ph=%2B49%2030%201234567&p.fn=Jane&p.ln=Doe&p.ct=Berlin&p.zp=10115&p.country=DE&p.external_id=cust-42" +
		"&p._fbp=fb.1.1700000000000.123&p._ga=GA1.1.123456789.1700000000&p._ttp=abc-DEF_1&p.ttclid=tt1&p.gbraid=gb1&p.wbraid=wb1&p.gclid=gc1"
	var reqs [][]byte
	for _, sig := range signals {
		for _, ua := range agents {
			headers := []string{"User-Agent", ua, "Accept-Language", "de-DE,de;q=0.9"}
			if strings.Contains(ua, "iPhone") {
				headers = append(headers, "Sec-GPC", "1")
			}
			for _, s := range []string{site, "app"} {
				q := "site=" + s + "&url=" + url.QueryEscape(page) + "&ref=" + url.QueryEscape("https://news.example/a?x=1") +
					"&uid=user-8812&cid=c-77&eid=Ab3dEf7hIj_kl-9" + props
				if sig != "" {
					q += "&" + sig
				}
				reqs = append(reqs, rawRequest("GET", "/p.gif?"+q, nil, headers...))
			}
			form := "site=" + site + "&event=signup&url=" + url.QueryEscape(page) + "&uid=12345" + props
			if sig != "" {
				form += "&" + sig
			}
			reqs = append(reqs, rawRequest("POST", "/b", []byte(form), append(headers, "Content-Type", "application/x-www-form-urlencoded")...))
			vals, _ := url.ParseQuery(sig)
			consentJSON := ""
			for k, v := range vals {
				if k == "consent" {
					parts, _ := json.Marshal(strings.Split(v[0], ","))
					consentJSON += fmt.Sprintf(`,%q:%s`, k, parts)
				} else {
					consentJSON += fmt.Sprintf(`,%q:%q`, k, v[0])
				}
			}
			body := fmt.Sprintf(`[{"site":%q,"event":"add_to_cart","url":%q,"ref":"https://news.example/","uid":12345,"cid":"c-77","eid":"evt-0001-abcdef","props":{"plan":"pro","cart_value":129.5,"flag":false,"note":"mail jane@example.org","em":"jane@example.org","_fbc":"fb.1.1700000000000.IwAR1x"}%s},{"site":%q%s}]`,
				site, page, consentJSON, site, consentJSON)
			reqs = append(reqs, rawRequest("POST", "/b", []byte(body), append(headers, "Content-Type", "application/json")...))
			ts := now.Add(-time.Minute)
			ble := fmt.Sprintf(`{"site":%q,"store":"berlin-01","sensor":"gate-3","props":{"zone":"shoes"}%s,"sightings":[`+
				`{"uuid":"f7826da6-4fa2-4e98-8024-bc5b71e0893e","major":100,"minor":7,"rssi":-67,"ts":%d,"mac":"a4:5e:60:e8:1b:2c"},`+
				`{"uuid":"38400000-8cf0-11bd-b23e-10b96e40000d","major":1,"minor":2,"rssi":-60,"ts":%d,"mac":"02:5e:60:e8:1b:2c"},`+
				`{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-80,"ts":%q,"adid":"38400000-8CF0-11bd-b23e-10b96e40000d"},`+
				`{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-90,"ts":%d.5,"app_instance_id":"a1b2c3d4e5f6"},`+
				`{"uuid":"f7826da6-4fa2-4e98-8024-bc5b71e0893e","major":1,"minor":1,"rssi":-70,"props":{"zone":"tills"}}]}`,
				site, consentJSON, ts.UnixMilli(), ts.UnixMilli(), ts.UTC().Format(time.RFC3339), ts.Unix())
			reqs = append(reqs, rawRequest("POST", "/ble", []byte(ble), append(headers, "Content-Type", "application/json")...))
		}
	}
	return reqs
}

// TestEmittedRecordsMatchSchema runs requests under every consent signal
// and state, from browsers, crawlers and HTTP clients, through the pixel,
// beacon and BLE endpoints and the real privacy engine, for the example
// configs and one that turns on every optional member, and validates every
// record against schema/record.schema.json with a JSON Schema validator
// (types, formats, patterns, required and unknown members). It also checks
// the other way: every member the schema describes is written by some
// request, so a member dropped from the records, or renamed, fails here
// and not at a consumer.
func TestEmittedRecordsMatchSchema(t *testing.T) {
	schema := compileRecordSchema(t)
	configs := []struct{ name, yaml, site string }{
		{"golden", goldenConfig, "shop.example"},
		{"wide", wideSchemaConfig, "web"},
	}
	for _, ex := range []struct{ file, site string }{
		{"analytics-only", "blog"}, {"shop-retargeting", "shop"}, {"retail-ble", "store-berlin-001"},
	} {
		b, err := os.ReadFile(filepath.Join("..", "examples", ex.file+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		configs = append(configs, struct{ name, yaml, site string }{ex.file, string(b), ex.site})
	}
	seen := map[string]bool{}
	states := map[string]bool{}
	kinds := map[string]bool{}
	bad := 0
	for _, c := range configs {
		for _, peer := range []string{"81.2.69.142", "2a02:1234::1"} {
			p := newPipelineGateway(t, c.yaml, "", clocktest.Golden)
			d := newDriver(p.g, peer)
			reqs := schemaWalkRequests(c.site, clocktest.Golden)
			for _, raw := range reqs {
				d.do(raw)
			}
			if len(p.sp.records) < len(reqs)/2 {
				t.Fatalf("%s: %d records of %d requests", c.name, len(p.sp.records), len(reqs))
			}
			for _, rec := range p.sp.records {
				inst, err := jsonschema.UnmarshalJSON(strings.NewReader(rec))
				if err != nil {
					t.Fatalf("%s: %v: %s", c.name, err, rec)
				}
				if err := schema.Validate(inst); err != nil {
					t.Errorf("%s, peer %s: record does not match the schema: %v\n%s", c.name, peer, err, rec)
					if bad++; bad == 5 {
						t.FailNow()
					}
					continue
				}
				var m map[string]any
				if err := json.Unmarshal([]byte(rec), &m); err != nil {
					t.Fatal(err)
				}
				recordPaths(seen, "", m)
				states[m["consent"].(map[string]any)["state"].(string)] = true
				kinds[m["kind"].(string)] = true
			}
		}
	}
	for _, want := range []string{"none", "analytics", "ads"} {
		if !states[want] {
			t.Errorf("no record under consent state %s: the requests no longer cover it", want)
		}
	}
	for _, want := range []string{"pixel", "beacon", "ble"} {
		if !kinds[want] {
			t.Errorf("no record of kind %s", want)
		}
	}
	for _, path := range schemaPaths(t) {
		if !seen[path] {
			t.Errorf("the schema describes %s, but no record has it", path)
		}
	}
}

// TestReadmeRecordExampleMatchesSchema validates the example record of the
// README's "Output records" section against schema/record.schema.json, so
// the example a consumer copies is a record the schema accepts.
func TestReadmeRecordExampleMatchesSchema(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Output records\n")
	if !ok {
		t.Fatal("README has no Output records section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, example, ok := strings.Cut(section, "```json\n")
	if !ok {
		t.Fatal("the Output records section has no json example")
	}
	example, _, _ = strings.Cut(example, "```")
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(example))
	if err != nil {
		t.Fatalf("the README's example record is not JSON: %v", err)
	}
	if err := compileRecordSchema(t).Validate(inst); err != nil {
		t.Errorf("the README's example record does not match the schema: %v", err)
	}
}
