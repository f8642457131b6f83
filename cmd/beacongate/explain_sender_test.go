package main

import (
	"strings"
	"testing"

	"github.com/beacongate/beacongate/explain"
)

// TestExplainHTTPClients explains examples/shop-retargeting.yaml for
// ads-consented requests: HTTP client libraries are kept under ads (bots:
// drop acts on crawlers only), with the class in the record, on the web
// site and on the server-to-server app site; crawlers are dropped.
func TestExplainHTTPClients(t *testing.T) {
	row := func(c explain.Case, field string) (explain.Row, bool) {
		for _, r := range c.Fields {
			if r.Field == field {
				return r, true
			}
		}
		return explain.Row{}, false
	}
	for _, ua := range []string{"python-requests/2.31.0", "okhttp/4.12.0", "Go-http-client/2.0", "Dart/3.2 (dart:io)", "Java/17.0.9"} {
		for _, site := range []string{"shop", "shop-app"} {
			sample := "GET /p.gif?site=" + site + "&consent=analytics,ads HTTP/1.1\nUser-Agent: " + ua + "\n\n"
			c := stateCase(t, explainJSON(t, sample, "-config", exampleConfig("shop-retargeting.yaml")), "ads")
			if !c.Applies || c.Dropped {
				t.Fatalf("%s, %q: ads applies %v, dropped %v; want kept", site, ua, c.Applies, c.Dropped)
			}
			if ua := recordField(t, c, "ua"); !strings.Contains(ua, `"class":"http_client"`) || !strings.Contains(ua, `"bot":false`) {
				t.Fatalf("%s: ua %s; want class http_client, bot false", site, ua)
			}
			if r, ok := row(c, "http_clients"); !ok || r.Action != "keep" {
				t.Fatalf("%s, %q: http_clients row %+v", site, ua, r)
			}
			if s2s := recordField(t, c, "server_to_server"); (s2s == "true") != (site == "shop-app") {
				t.Fatalf("%s: server_to_server %q", site, s2s)
			}
		}
	}
	sample := "GET /p.gif?site=shop&consent=analytics,ads HTTP/1.1\nUser-Agent: Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)\n\n"
	c := stateCase(t, explainJSON(t, sample, "-config", exampleConfig("shop-retargeting.yaml")), "ads")
	if r, _ := row(c, "bots"); !c.Dropped || r.Arrived != "known crawler" || jsonText(r.Result) != "event dropped" {
		t.Fatalf("Googlebot under ads: dropped %v, bots row %+v", c.Dropped, r)
	}
}
