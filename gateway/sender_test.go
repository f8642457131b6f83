package gateway

import (
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestShopRetargetingSenders runs examples/shop-retargeting.yaml's policy
// through the gateway the way the problem was found: ads-consented events
// from HTTP client libraries (an app backend, a store box) were dropped as
// bots under bots: drop. They are kept now, with the class in the record,
// and crawlers are still dropped.
func TestShopRetargetingSenders(t *testing.T) {
	yaml, err := os.ReadFile("../examples/shop-retargeting.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := newPipelineGateway(t, string(yaml), "", clocktest.Golden)
	dr := newDriver(p.g, "81.2.69.142")

	// send runs one request and returns the records it made.
	send := func(raw []byte) []map[string]any {
		t.Helper()
		p.sp.records, p.sp.routes = p.sp.records[:0], p.sp.routes[:0]
		if st := dr.do(raw).StatusCode(); st >= 300 {
			t.Fatalf("status %d", st)
		}
		// The warehouse reduces the user agent under ads (its own policy), so
		// each event makes a record for each destination; the partner's is
		// returned.
		var out []map[string]any
		warehouse := 0
		for i, rec := range p.sp.records {
			var m map[string]any
			if err := json.Unmarshal([]byte(rec), &m); err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
			switch route := routeNames(p.names, p.sp.routes[i]); route {
			case "[warehouse]":
				if _, ok := m["user_agent"]; ok || m["ua"] == nil {
					t.Fatalf("record %d for the warehouse: user_agent %v, ua %v; want the reduced ua only", i, m["user_agent"], m["ua"])
				}
				warehouse++
			case "[retargeting]":
				out = append(out, m)
			case "[ga4]":
				// GA4 gets its own records (contact data hashed by its
				// rules); the partner's is checked.
			case "[meta]", "[tiktok]":
				// These take no app events from the gateway (the
				// platforms require app data it does not know): no
				// HTTP client's event goes there, from any site.
				t.Fatalf("record %d of an HTTP client routed to %s", i, route)
			default:
				t.Fatalf("record %d routed to %s; want one record per destination", i, route)
			}
		}
		if warehouse != len(out) {
			t.Fatalf("%d warehouse records, %d partner records; want one each per event", warehouse, len(out))
		}
		return out
	}
	pixel := func(site, ua string) []byte {
		return rawRequest("GET", "/p.gif?site="+site+"&consent=analytics,ads&url="+url.QueryEscape("https://shop.example.com/p/42"), nil, "User-Agent", ua)
	}
	httpClient := func(rec map[string]any, ua string, s2s bool) {
		t.Helper()
		u, _ := rec["ua"].(map[string]any)
		if u == nil || u["class"] != "http_client" || u["bot"] != false || rec["bot"] != nil {
			t.Fatalf("%q: ua %v, bot %v; want class http_client and no bot", ua, rec["ua"], rec["bot"])
		}
		if rec["user_agent"] != ua {
			t.Fatalf("%q: user_agent %v; ads keeps the header", ua, rec["user_agent"])
		}
		_, hasIP := rec["ip"]
		// A BLE sighting's visitor is its device's (never the sender's
		// address), so it does not depend on who sent it.
		isBLE := rec["kind"] == "ble"
		if s2s != (rec["server_to_server"] == true) || s2s == hasIP || !isBLE && s2s == (rec["visitor"] != nil) {
			t.Fatalf("%q, server-to-server %v: record %v", ua, s2s, rec)
		}
	}

	for _, ua := range []string{"python-requests/2.31.0", "okhttp/4.12.0", "Go-http-client/2.0", "Dart/3.2 (dart:io)", "Java/17.0.9"} {
		for _, site := range []string{"shop", "shop-app"} {
			recs := send(pixel(site, ua))
			if len(recs) != 1 {
				t.Fatalf("%s, %q: %d records; want the ads-consented event kept", site, ua, len(recs))
			}
			httpClient(recs[0], ua, site == "shop-app")
		}
		// The app backend's beacon and a store box's BLE sightings.
		recs := send(rawRequest("POST", "/b", []byte(`{"site":"shop-app","event":"add_to_cart","consent":"analytics,ads","props":{"product_id":"42"}}`),
			"Content-Type", "application/json", "User-Agent", ua))
		if len(recs) != 1 {
			t.Fatalf("beacon, %q: %d records", ua, len(recs))
		}
		httpClient(recs[0], ua, true)
		ble := strings.Replace(string(bleBody(2)), `"site":"retail.example"`, `"site":"shop-app"`, 1)
		ble = strings.Replace(ble, `"consent":"analytics"`, `"consent":"analytics,ads"`, 1)
		recs = send(rawRequest("POST", "/ble", []byte(ble), "Content-Type", "application/json", "User-Agent", ua))
		if len(recs) != 2 {
			t.Fatalf("BLE, %q: %d records; want both sightings", ua, len(recs))
		}
		for _, r := range recs {
			httpClient(r, ua, true)
			if b, _ := r["ble"].(map[string]any); b == nil || b["device"] == nil {
				t.Fatalf("BLE, %q: ble %v", ua, r["ble"])
			}
		}
	}
	kept := p.counter(t, "beacongate_anonymize_records_total", "state", "ads")

	for _, ua := range []string{
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.28 Safari/537.36",
		"Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
		"Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
	} {
		for _, site := range []string{"shop", "shop-app"} {
			if recs := send(pixel(site, ua)); len(recs) != 0 {
				t.Fatalf("%s, %q: %d records; crawlers are dropped under ads", site, ua, len(recs))
			}
		}
	}
	if n := p.counter(t, "beacongate_anonymize_dropped_total", "reason", "bot"); n != 10 {
		t.Fatalf("dropped{reason=bot} = %v; want 10 (the crawlers only)", n)
	}
	if n := p.counter(t, "beacongate_anonymize_dropped_total", "reason", "http_client"); n != 0 {
		t.Fatalf("dropped{reason=http_client} = %v; want 0", n)
	}
	// Five distinct policies: the warehouse's, the partner's (site-wide)
	// and one per ad platform (each hashes contact data its own way); the
	// HTTP clients' events make records for three, Meta and TikTok taking
	// none.
	if kept != 5*5*3 {
		t.Fatalf("records{state=ads} = %v; want 75 (25 events, a record for each of the three distinct policies that take them)", kept)
	}
}

// TestDroppedHTTPClientMetric: an HTTP client dropped by http_clients: drop
// is counted under its own reason, not as a bot.
func TestDroppedHTTPClientMetric(t *testing.T) {
	p := newPipelineGateway(t, goldenConfig+"policies: {ads: {http_clients: drop}}\n", "", clocktest.Golden)
	dr := newDriver(p.g, "81.2.69.142")
	for _, ua := range []string{"okhttp/4.12.0", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "curl/8.4.0"} {
		dr.do(rawRequest("GET", "/p.gif?site=shop.example&consent=analytics,ads", nil, "User-Agent", ua))
	}
	if len(p.sp.records) != 0 {
		t.Fatalf("%d records; want all three dropped", len(p.sp.records))
	}
	if b, c := p.counter(t, "beacongate_anonymize_dropped_total", "reason", "bot"), p.counter(t, "beacongate_anonymize_dropped_total", "reason", "http_client"); b != 1 || c != 2 {
		t.Fatalf("dropped{reason=bot} = %v, {reason=http_client} = %v; want 1 and 2", b, c)
	}
}
