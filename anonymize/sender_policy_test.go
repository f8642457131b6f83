package anonymize

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// TestHTTPClientsByPolicy checks each http_clients action and that bots
// acts on crawlers only.
func TestHTTPClientsByPolicy(t *testing.T) {
	en := newTestEngine(t, testConfig+`
policies:
  none: {http_clients: drop}
  analytics: {http_clients: flag, bots: keep}
  ads: {http_clients: keep, bots: drop}
`)
	e := plantedEvent("")
	e.UserAgent = []byte("python-requests/2.31.0")
	if out, res := en.AppendRecord(nil, e); !res.Drop || !res.HTTPClient || res.Bot || len(out) != 0 {
		t.Fatalf("none (http_clients: drop): drop %v, http client %v, bot %v, %d bytes", res.Drop, res.HTTPClient, res.Bot, len(out))
	}
	e.Consent.Explicit = []byte("analytics")
	m, _, res := record(t, en, e)
	if res.Drop || m["http_client"] != true || m["bot"] != nil {
		t.Fatalf("analytics (http_clients: flag): drop %v, http_client %v, bot %v", res.Drop, m["http_client"], m["bot"])
	}
	e.UserAgent = []byte(crawlerUAs[0])
	m, _, res = record(t, en, e)
	if res.Drop || !res.Bot || m["bot"] != nil || m["http_client"] != nil {
		t.Fatalf("analytics (bots: keep) crawler: drop %v, bot %v, http_client %v", res.Drop, m["bot"], m["http_client"])
	}
	e.Consent.Explicit = []byte("analytics,ads")
	e.UserAgent = []byte("okhttp/4.12.0")
	m, _, res = record(t, en, e)
	if res.Drop || m["http_client"] != nil || m["bot"] != nil {
		t.Fatalf("ads (http_clients: keep): drop %v, http_client %v, bot %v", res.Drop, m["http_client"], m["bot"])
	}
	if u := m["ua"].(map[string]any); u["class"] != "http_client" || u["client_name"] != "okhttp" {
		t.Fatalf("ads: ua %v; want class http_client, client_name okhttp", u)
	}
}

// TestServerToServerSite: a declared server-to-server site keeps HTTP-client
// events whatever http_clients says, and takes nothing from the address.
func TestServerToServerSite(t *testing.T) {
	en := newTestEngine(t, testConfig+`
sites:
  - id: shop.example
    origins: [https://shop.example]
  - id: backend.example
    server_to_server: true
policies:
  analytics: {http_clients: drop}
`)
	e := plantedEvent("analytics")
	e.UserAgent = []byte("Go-http-client/1.1")
	if _, res := en.AppendRecord(nil, e); !res.Drop {
		t.Fatal("browser site, http_clients: drop: event kept")
	}
	e.Site = []byte("backend.example")
	m, _, res := record(t, en, e)
	if res.Drop || m["server_to_server"] != true || m["ip"] != nil || m["geo"] != nil || m["visitor"] != nil {
		t.Fatalf("server-to-server site: drop %v, record %v", res.Drop, m)
	}
	// A crawler stays a crawler on a server-to-server site.
	e.UserAgent = []byte(crawlerUAs[0])
	if m, _, _ := record(t, en, e); m["bot"] != true {
		t.Fatalf("crawler on a server-to-server site: bot %v; want flagged", m["bot"])
	}
	// A browser on it too loses ip, geo and visitor: the site said its
	// addresses are servers'.
	e.UserAgent = []byte(chromeUA)
	e.ClientIP = netip.MustParseAddr("81.2.69.142")
	if m, _, _ := record(t, en, e); m["ip"] != nil || m["visitor"] != nil {
		t.Fatalf("browser UA on a server-to-server site: ip %v, visitor %v", m["ip"], m["visitor"])
	}
}

// TestBLEBoxNotMarkedBot: a store box whose user agent the policy drops
// leaves no bot mark on its sightings.
func TestBLEBoxNotMarkedBot(t *testing.T) {
	en := newTestEngine(t, testConfig+`
policies:
  none: {user_agent: {action: drop}}
`)
	e := plantedEvent("")
	makeBLE(e)
	for _, ua := range httpClientUAs {
		e.UserAgent = []byte(ua)
		m, _, res := record(t, en, e)
		if res.Drop || m["bot"] != nil || m["ua"] != nil {
			t.Fatalf("%q: drop %v, bot %v, ua %v", ua, res.Drop, m["bot"], m["ua"])
		}
	}
}

// TestAdPlatformsTakeNoAppEvents: an HTTP client library's event reaches
// no Meta or TikTok destination, from a server-to-server site too (whose
// HTTP client events every other policy keeps): their event APIs
// require app data the gateway does not know, so the sink would only
// dead-letter the record. GA4 and the warehouse still get it, and a
// browser's event still reaches every destination.
func TestAdPlatformsTakeNoAppEvents(t *testing.T) {
	cfg := adConfig + `
sites:
  - id: shop.example
    origins: [https://shop.example]
  - id: backend.example
    server_to_server: true
`
	en := newTestEngine(t, cfg)
	names := []string{"warehouse", "meta", "ga", "tiktok"}
	for _, site := range []string{"shop.example", "backend.example"} {
		e := adEvent("analytics,ads")
		e.Site = []byte(site)
		// Android's and Apple's own HTTP stacks are native apps too.
		for _, ua := range []string{"okhttp/4.12.0", "Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230805.001)", "MyShop/5.2 CFNetwork/1410.0.3 Darwin/22.6.0"} {
			e.UserAgent = []byte(ua)
			recs := recordsByDest(t, en, e, names...)
			if recs["warehouse"] == nil || recs["ga"] == nil || recs["meta"] != nil || recs["tiktok"] != nil {
				t.Errorf("%s, %s: records for %v; want warehouse and ga only", site, ua, keysOf(recs))
			}
			rs, _ := en.Recipients(e)
			for _, r := range rs {
				if (r.Name == "meta" || r.Name == "tiktok") && (r.Gets || !strings.Contains(r.Why, "takes no app events")) {
					t.Errorf("%s, %s: recipient %s: gets %v, why %q", site, ua, r.Name, r.Gets, r.Why)
				}
			}
		}
		e.UserAgent = []byte("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
		if recs := recordsByDest(t, en, e, names...); len(recs) != 4 {
			t.Errorf("%s, a browser: records for %v; want all four", site, keysOf(recs))
		}
	}
}

func keysOf(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
