package anonymize

import (
	"testing"

	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/event"
)

// Server-to-server senders (store boxes, app backends) post with the user
// agent of their HTTP library. They are not bots: examples/shop-retargeting.yaml
// says bots: drop under ads, and must still keep their ads-consented events,
// while crawlers stay dropped there.

var httpClientUAs = []string{
	"python-requests/2.31.0",
	"okhttp/4.12.0",
	"Go-http-client/2.0",
	"Dart/3.2 (dart:io)",
	"Java/17.0.9",
	"Dalvik/2.1.0 (Linux; U; Android 13; SM-S918B Build/TP1A.220624.014)",
	"MyShop/5.2 CFNetwork/1410.0.3 Darwin/22.6.0",
	"Apache-HttpClient/4.5.14 (Java/17.0.9)",
	"curl/8.4.0",
}

var crawlerUAs = []string{
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.28 Safari/537.36",
	"Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
	"Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
	"Uptime-Kuma/1.23.11",
}

func shopRetargeting(t *testing.T) *Engine {
	t.Helper()
	cfg, err := config.Load("../examples/shop-retargeting.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return newTestEngineFor(t, cfg, clocktest.Golden)
}

// senderEvent is an ads-consented event of site with user agent ua.
func senderEvent(site, ua string, ble bool) *event.Event {
	e := plantedEvent("analytics,ads")
	e.Site = []byte(site)
	e.UserAgent = []byte(ua)
	if ble {
		makeBLE(e)
	}
	return e
}

func TestShopRetargetingKeepsHTTPClients(t *testing.T) {
	en := shopRetargeting(t)
	f := func(site, ua string, ble bool) map[string]any {
		t.Helper()
		e := senderEvent(site, ua, ble)
		out, res := en.AppendRecord(nil, e)
		if res.Drop || len(out) == 0 {
			t.Fatalf("%s, %q, ble %v: ads-consented event dropped", site, ua, ble)
		}
		m, _, _ := record(t, en, e)
		if res.State != StateAds {
			t.Fatalf("%s, %q: state %v; want ads", site, ua, res.State)
		}
		if _, ok := m["bot"]; ok {
			t.Fatalf("%s, %q: record carries bot: %v", site, ua, m["bot"])
		}
		u, _ := m["ua"].(map[string]any)
		if u == nil || u["bot"] != false || u["class"] != "http_client" || u["client_name"] == "" || u["device"] == "bot" {
			t.Fatalf("%s, %q: ua %v; want bot false, class http_client and a client name", site, ua, m["ua"])
		}
		return m
	}
	for _, ua := range httpClientUAs {
		// The web shop's own site: http_clients defaults to keep.
		m := f("shop", ua, false)
		if m["ip"] != "81.2.69.0" || m["visitor"] == nil {
			t.Fatalf("shop, %q: ip %v, visitor %v; a browser site keeps both", ua, m["ip"], m["visitor"])
		}
		// The app site posts server-to-server: the address is the backend's.
		m = f("shop-app", ua, false)
		for _, k := range []string{"ip", "geo", "visitor"} {
			if _, ok := m[k]; ok {
				t.Fatalf("shop-app, %q: record has %s (%v); the address is the server's", ua, k, m[k])
			}
		}
		if m["server_to_server"] != true {
			t.Fatalf("shop-app, %q: server_to_server %v; want true", ua, m["server_to_server"])
		}
		if m["user"] == nil || m["client"] == nil {
			t.Fatalf("shop-app, %q: user %v, client %v; ids are still pseudonymized", ua, m["user"], m["client"])
		}
		// A BLE sighting posted by a store box.
		m = f("shop-app", ua, true)
		if b, _ := m["ble"].(map[string]any); b == nil || b["device"] == nil {
			t.Fatalf("shop-app, %q: ble %v; want the sighting with its device pseudonym", ua, m["ble"])
		}
	}
}

func TestShopRetargetingDropsCrawlers(t *testing.T) {
	en := shopRetargeting(t)
	for _, ua := range crawlerUAs {
		for _, site := range []string{"shop", "shop-app"} {
			e := senderEvent(site, ua, false)
			if out, res := en.AppendRecord(nil, e); !res.Drop || len(out) != 0 {
				t.Fatalf("%s, %q: ads (bots: drop): drop %v, %d bytes", site, ua, res.Drop, len(out))
			}
			// analytics keeps the built-in bots: flag.
			e.Consent.Explicit = []byte("analytics")
			m, _, res := record(t, en, e)
			u, _ := m["ua"].(map[string]any)
			if res.Drop || m["bot"] != true || u == nil || u["bot"] != true || u["class"] != "crawler" || u["device"] != "bot" {
				t.Fatalf("%s, %q: analytics (bots: flag): drop %v, bot %v, ua %v", site, ua, res.Drop, m["bot"], m["ua"])
			}
		}
	}
}
