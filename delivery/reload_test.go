package delivery_test

import (
	"encoding/json"
	"net"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/delivery"
	"github.com/beacongate/beacongate/gateway"
	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/wiring"
)

// hookSpool keeps records and calls onAppend after each.
type hookSpool struct {
	recs     [][]byte
	routes   []upstream.Route
	onAppend func()
}

func (s *hookSpool) Append(rec []byte, route upstream.Route) error {
	s.recs = append(s.recs, append([]byte(nil), rec...))
	s.routes = append(s.routes, route)
	if s.onAppend != nil {
		s.onAppend()
	}
	return nil
}

// settingsFor builds the gateway settings a server builds from yaml: a
// Deliverer around a new engine and spool sp, and the policy version.
func settingsFor(t *testing.T, yaml string, sp delivery.Spool, m *delivery.Metrics) (gateway.Settings, string) {
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
	en, err := anonymize.New(p, anonymize.Deps{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return gateway.Settings{Clock: clk, Handler: delivery.NewDeliverer(en, sp, m)}, p.Version()
}

// TestReloadNeverMixesPoliciesInARequest: a policy reload that lands while a
// request's events are being delivered applies from the next request on:
// every record of the request in flight, of every event and destination,
// was made under the old policy, and every record of the next under the
// new one.
func TestReloadNeverMixesPoliciesInARequest(t *testing.T) {
	const base = "consent: {purposes: [analytics, ads]}\n"
	const dests = `destinations:
  - {name: a, type: file, tcf: {without_vendor: true}}
  - name: b
    type: file
    requires: [analytics]
    tcf: {without_vendor: true}
    policies: {analytics: {url: keep}, ads: {url: keep}}
`
	oldYAML := base + dests
	newYAML := base + "policies: {analytics: {url: path}, ads: {url: path}}\n" + dests
	sp := &hookSpool{}
	m := delivery.NewMetrics(nil)
	oldS, oldV := settingsFor(t, oldYAML, sp, m)
	newS, newV := settingsFor(t, newYAML, sp, m)
	if oldV == newV {
		t.Fatal("the two configs have one policy version")
	}
	gw := gateway.New(oldS, nil)
	sp.onAppend = func() { gw.Update(newS); sp.onAppend = nil } // the reload lands after the first record
	body := `[{"site":"s","event":"a","consent":"analytics","url":"https://s.example/p?q=1"},` +
		`{"site":"s","event":"b","consent":"analytics,ads","url":"https://s.example/p?q=2"},` +
		`{"site":"s","event":"c","url":"https://s.example/p?q=3"}]`
	post := func() int {
		var ctx fasthttp.RequestCtx
		req := fasthttp.AcquireRequest()
		defer fasthttp.ReleaseRequest(req)
		req.Header.SetMethod(fasthttp.MethodPost)
		req.SetRequestURI("/b")
		req.Header.SetContentType("application/json")
		req.SetBodyString(body)
		ctx.Init(req, &net.TCPAddr{IP: net.IPv4(203, 0, 113, 7), Port: 5000}, nil)
		gw.Handle(&ctx)
		return ctx.Response.StatusCode()
	}
	versions := func(from int) map[string]int {
		n := map[string]int{}
		for _, rec := range sp.recs[from:] {
			var r struct{ Policy string }
			if err := json.Unmarshal(rec, &r); err != nil {
				t.Fatal(err)
			}
			n[r.Policy]++
		}
		return n
	}
	if st := post(); st != fasthttp.StatusNoContent {
		t.Fatalf("status %d", st)
	}
	first := len(sp.recs)
	if v := versions(0); len(v) != 1 || v[oldV] != first || first < 4 {
		t.Fatalf("request in flight at the reload: %d records by policy %v; want all %s", first, v, oldV)
	}
	if st := post(); st != fasthttp.StatusNoContent {
		t.Fatalf("status %d", st)
	}
	if v := versions(first); len(v) != 1 || v[newV] == 0 {
		t.Fatalf("request after the reload: records by policy %v; want all %s", v, newV)
	}
}
