package explain

import (
	"encoding/json"
	"net"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/anonymize/consent/tctest"
	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/delivery"
	"github.com/beacongate/beacongate/gateway"
	"github.com/beacongate/beacongate/plan"
	"github.com/beacongate/beacongate/ropa"
	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/wiring"
)

// deliveredConfig has destinations whose policies and requires differ, and
// one whose policy keeps crawlers the site-wide ads policy drops.
const deliveredConfig = `
properties: {allow: [plan, note]}
consent: {purposes: [analytics, ads]}
policies:
  ads: {user_agent: {action: keep}}
destinations:
  - name: warehouse
    type: file
    tcf: {without_vendor: true}
    policies:
      analytics: {client_id: drop}
      ads: {user_agent: {action: reduce}, client_id: drop}
  - name: partner
    type: file
    requires: [analytics, ads]
    tcf: {without_vendor: true}
  - name: lab
    type: file
    requires: [analytics]
    tcf: {without_vendor: true}
    policies:
      analytics: {url: keep}
      ads: {url: keep, bots: flag}
  - name: meta
    type: meta_capi
    requires: [analytics, ads]
    meta_capi: {pixel_id: "1234567890", access_token_file: /nonexistent/meta.token}
    policies: {ads: {contact: hash, click_ids: keep}}
`

// spoolRecords is a delivery.Spool that keeps every record with its route.
type spoolRecords struct {
	recs   [][]byte
	routes []upstream.Route
}

func (s *spoolRecords) Append(rec []byte, route upstream.Route) error {
	s.recs = append(s.recs, append([]byte(nil), rec...))
	s.routes = append(s.routes, route)
	return nil
}

// stripID decodes a record without its own id.
func stripID(t *testing.T, rec []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec, &m); err != nil {
		t.Fatalf("record is not JSON: %v: %s", err, rec)
	}
	delete(m, "id")
	return m
}

// deliveredSetup returns an Explainer and a server's gateway (the real
// handler around a Deliverer) built from one config, with the same keys
// and clock, and the spool the server's records go to.
func deliveredSetup(t *testing.T, yaml string) (*Explainer, *gateway.Gateway, *spoolRecords, *plan.Plan) {
	t.Helper()
	cfg, err := config.Parse("t.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	p, err := wiring.Compile(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.Fixed(clocktest.Golden)
	secret, err := pseudonym.NewSecret([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pseudonym.New(pseudonym.Options{Mode: pseudonym.Derived, Secret: secret, Period: 24 * time.Hour, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	deps := anonymize.Deps{Keys: keys, Clock: clk}
	x, err := New(Options{Plan: p, Facts: ropa.FactsOf(cfg), Settings: gateway.Settings{Clock: clk},
		Deps: deps, MaxHeaderBytes: 8 << 10, MaxBodyBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	en, err := anonymize.New(p, deps)
	if err != nil {
		t.Fatal(err)
	}
	sp := &spoolRecords{}
	gw := gateway.New(gateway.Settings{Clock: clk, Handler: delivery.NewDeliverer(en, sp, delivery.NewMetrics(nil))}, nil)
	return x, gw, sp, p
}

// serve sends one request built as explain builds it to gw.
func serve(t *testing.T, gw *gateway.Gateway, sample []byte, peer netip.Addr) {
	t.Helper()
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	if _, _, err := buildRequest(req, sample, 8<<10, 64<<10); err != nil {
		t.Fatalf("sample refused: %v", err)
	}
	var ctx fasthttp.RequestCtx
	ctx.Init(req, &net.TCPAddr{IP: peer.AsSlice(), Port: 50000}, nil)
	gw.Handle(&ctx)
}

// TestExplainSaysWhatIsDelivered: for samples under every consent state and
// sender class, explain's per-destination answer is what the server
// delivers to that destination (the record, ids aside, or nothing), and the
// state that applies lists no destination that gets nothing of it and
// does not say "no destination" while one gets a record.
func TestExplainSaysWhatIsDelivered(t *testing.T) {
	x, gw, sp, p := deliveredSetup(t, deliveredConfig)
	peer := netip.MustParseAddr("81.2.69.142")
	chrome := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	googlebot := "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	pixel := func(consent, ua string) string {
		q := url.Values{"site": {"shop"}, "event": {"signup jane.doe@example.org"}, "uid": {"user-8812"}, "cid": {"c-77"},
			"url":  {"https://shop.example/a/jane.doe@example.org?gclid=Cj0secret&utm_source=n"},
			"p.em": {"Jane.Doe@example.org"}, "p.plan": {"pro"}, "p.note": {"call +49 30 1234567"}}
		if consent != "" {
			q.Set("consent", consent)
		}
		return "GET /p.gif?" + q.Encode() + " HTTP/1.1\nUser-Agent: " + ua + "\nAccept-Language: de-DE\n"
	}
	samples := map[string]string{}
	for _, c := range []string{"", "analytics", "analytics,ads"} {
		samples["browser "+c] = pixel(c, chrome)
		samples["crawler "+c] = pixel(c, googlebot)
		samples["http client "+c] = pixel(c, "okhttp/4.12.0")
	}
	samples["gpc"] = pixel("analytics,ads", chrome) + "Sec-GPC: 1\n"
	// GDPR applies: meta, no TCF vendor, gets nothing.
	tc := tctest.Valid(clocktest.Golden.Add(-24 * time.Hour)).Encode()
	samples["tcf"] = pixel("", chrome) + "Cookie: euconsent-v2=" + tc + "\n"
	samples["batch"] = `[{"site":"shop","event":"a","consent":"analytics,ads","uid":"u1"},{"site":"shop","event":"b","consent":"analytics"},{"site":"shop","event":"c"}]`
	for name, sample := range samples {
		out := x.Explain([]byte(sample), peer)
		sp.recs, sp.routes = nil, nil
		serve(t, gw, []byte(sample), peer)
		if out.Rejected != nil {
			t.Fatalf("%s: rejected %+v", name, out.Rejected)
		}
		// Records of the server, by event in order: the records of one
		// event are consecutive; split them by the explain events.
		next := 0
		for ei, ev := range out.Events {
			gets := 0
			for _, r := range ev.Recipients {
				if r.Gets {
					gets++
				}
			}
			delivered := map[int][]byte{}
			for next < len(sp.recs) && len(delivered) < gets {
				for i := range p.Destinations {
					if sp.routes[next]&upstream.RouteTo(i) != 0 {
						delivered[i] = sp.recs[next]
					}
				}
				next++
			}
			for i, r := range ev.Recipients {
				rec, ok := delivered[i]
				switch {
				case r.Gets != ok:
					t.Errorf("%s event %d: %s: explain says gets %v (%s), delivered %v", name, ei, r.Destination, r.Gets, r.Why, ok)
				case ok && !reflect.DeepEqual(stripID(t, r.Record), stripID(t, rec)):
					t.Errorf("%s event %d: %s: explain shows\n%s\ndelivered\n%s", name, ei, r.Destination, r.Record, rec)
				}
			}
			for _, c := range ev.States {
				if !c.Applies {
					continue
				}
				listed := map[string]bool{}
				for _, d := range c.Destinations {
					listed[d] = true
				}
				for i, r := range ev.Recipients {
					_, ok := delivered[i]
					if ok != listed[r.Destination] {
						t.Errorf("%s event %d: state %s lists %v; %s gets a record: %v", name, ei, c.State, c.Destinations, r.Destination, ok)
					}
				}
			}
		}
		// The text says the same: the block of the state that applies
		// names each destination that gets a record on a destinations line
		// and never says no destination gets it while one does.
		var text strings.Builder
		if err := out.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		for _, block := range strings.Split(text.String(), "\n--- ")[1:] {
			if !strings.Contains(block, "<== applies") || len(out.Events) != 1 {
				continue
			}
			var line string
			for _, l := range strings.Split(block, "\n") {
				if strings.HasPrefix(strings.TrimSpace(l), "destinations") {
					line = l
				}
			}
			for _, r := range out.Events[0].Recipients {
				if r.Gets && !strings.Contains(line, r.Destination) {
					t.Errorf("%s: %s gets a record; the text of the state that applies says %q", name, r.Destination, line)
				}
			}
			if strings.Contains(block, "no destination") && next > 0 {
				t.Errorf("%s: the text says no destination; %d records are delivered:\n%s", name, next, block)
			}
		}
		if next != len(sp.recs) {
			t.Errorf("%s: %d records delivered; explain accounts for %d", name, len(sp.recs), next)
		}
	}
}

// TestExplainStateRecordIsTheirs: the destinations a state's text names
// beside its record ("destinations: ...", "record: ...") are those that
// get that record; a destination whose own policy makes another record in
// the state is named apart, in the text and in own_policy. On the code
// before, under ads the warehouse (user agent reduced) and meta (contact
// data hashed) were named beside the site-wide record, which keeps the
// user agent as sent and has no contact data.
func TestExplainStateRecordIsTheirs(t *testing.T) {
	x, gw, sp, p := deliveredSetup(t, deliveredConfig)
	peer := netip.MustParseAddr("81.2.69.142")
	for _, consent := range []string{"", "analytics", "analytics,ads"} {
		sample := "GET /p.gif?site=shop&event=e&cid=c-1&url=" + url.QueryEscape("https://shop.example/a?gclid=x1&utm_source=n") +
			"&p.em=jane%40example.org&consent=" + url.QueryEscape(consent) + " HTTP/1.1\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0\n"
		out := x.Explain([]byte(sample), peer)
		sp.recs, sp.routes = nil, nil
		serve(t, gw, []byte(sample), peer)
		var c *Case
		for i := range out.Events[0].States {
			if out.Events[0].States[i].Applies {
				c = &out.Events[0].States[i]
			}
		}
		own := map[string]bool{}
		for _, d := range c.OwnPolicy {
			own[d] = true
		}
		var text strings.Builder
		if err := out.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		var line string
		for _, block := range strings.Split(text.String(), "\n--- ") {
			if strings.Contains(block, "<== applies") {
				for _, l := range strings.Split(block, "\n") {
					if strings.HasPrefix(l, "  destinations: ") {
						line = strings.TrimPrefix(l, "  destinations: ")
					}
				}
			}
		}
		shown, _, _ := strings.Cut(line, ";")
		for j, rec := range sp.recs {
			for i, d := range p.Destinations {
				if sp.routes[j]&upstream.RouteTo(i) == 0 {
					continue
				}
				same := reflect.DeepEqual(stripID(t, rec), stripID(t, c.Record))
				named := strings.Contains(", "+shown+",", ", "+d.Name+",")
				if same != named || same == own[d.Name] {
					t.Errorf("consent %q: %s gets the state's record: %v; the text names it beside it: %v (%q), own_policy %v", consent, d.Name, same, named, line, c.OwnPolicy)
				}
			}
		}
	}
}
