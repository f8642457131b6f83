package gateway

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/event"
)

// gateHandler holds every event until release is closed, so requests stay
// in progress.
type gateHandler struct {
	entered chan struct{}
	release chan struct{}
}

func (h *gateHandler) HandleEvent(*event.Event) error {
	h.entered <- struct{}{}
	<-h.release
	return nil
}

// TestMaxRequestsPerClient runs the real server on 127.0.0.1 behind a
// trusted "proxy" (the loopback peer), with two clients whose addresses come
// in X-Forwarded-For. Once one client has max requests in progress, its
// next one is refused (429 for a beacon, the GIF and no event for the
// pixel) while the other client is still served: the limit is per client,
// not per proxy connection.
func TestMaxRequestsPerClient(t *testing.T) {
	const max = 2
	h := &gateHandler{entered: make(chan struct{}, 16), release: make(chan struct{})}
	reg := prometheus.NewRegistry()
	g := New(Settings{
		Handler:              h,
		TrustedProxies:       []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		MaxRequestsPerClient: max,
	}, reg)
	srv := g.NewServer(ServerOptions{MaxConnsPerIP: 100})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown()
	c := &fasthttp.Client{MaxConnsPerHost: 64}
	do := func(path, client string) int {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI("http://" + ln.Addr().String() + path)
		req.Header.Set("X-Forwarded-For", client)
		if path == "/b" {
			req.Header.SetMethod("POST")
			req.Header.SetContentType("application/json")
			req.SetBodyString(`{"site":"s"}`)
		}
		if err := c.DoTimeout(req, resp, 10*time.Second); err != nil {
			t.Errorf("%s from %s: %v", path, client, err)
			return 0
		}
		return resp.StatusCode()
	}
	var wg sync.WaitGroup
	for range max {
		wg.Add(1)
		go func() { defer wg.Done(); do("/b", "198.51.100.7") }()
	}
	for range max {
		<-h.entered // both are in progress, inside the handler
	}
	if st := do("/b", "198.51.100.7"); st != 429 {
		t.Errorf("beacon over the limit: %d; want 429", st)
	}
	if st := do("/p.gif?site=s", "198.51.100.7"); st != 200 {
		t.Errorf("pixel over the limit: %d; want 200 (the GIF)", st)
	}
	wg.Add(1)
	go func() { defer wg.Done(); do("/b", "203.0.113.9") }()
	select {
	case <-h.entered: // another client behind the same proxy gets through
	case <-time.After(10 * time.Second):
		t.Fatal("another client's request was not served")
	}
	close(h.release)
	wg.Wait()
	if n := testutil.ToFloat64(g.metrics.rejected[endpointBeacon][reasonTooManyRequests]); n != 1 {
		t.Errorf("beacon too_many_requests counted %v; want 1", n)
	}
	if n := testutil.ToFloat64(g.metrics.rejected[endpointPixel][reasonTooManyRequests]); n != 1 {
		t.Errorf("pixel too_many_requests counted %v; want 1", n)
	}
	// Everything finished: the client is under its limit again.
	h.release = make(chan struct{})
	close(h.release)
	if st := do("/b", "198.51.100.7"); st != 204 {
		t.Errorf("after the others finished: %d; want 204", st)
	}
	for i := range g.inFlight.shards {
		if n := len(g.inFlight.shards[i].n); n != 0 {
			t.Fatalf("shard %d keeps %d idle clients", i, n)
		}
	}
}

// TestMaxRequestsPerClientIPv6Network: an IPv6 host picks its addresses
// from its /64 at will (RFC 8981 temporary addresses rotate there), so a
// limit per IPv6 address limited nothing: one client spreading requests
// over addresses of its /64 took every slot the server has. Through the
// real server on 127.0.0.1 behind a trusted proxy, the /64 is one client,
// and a neighbouring /64 another.
func TestMaxRequestsPerClientIPv6Network(t *testing.T) {
	const max = 2
	h := &gateHandler{entered: make(chan struct{}, 16), release: make(chan struct{})}
	g := New(Settings{
		Handler:              h,
		TrustedProxies:       []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		MaxRequestsPerClient: max,
	}, prometheus.NewRegistry())
	srv := g.NewServer(ServerOptions{MaxConnsPerIP: 100})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown()
	c := &fasthttp.Client{MaxConnsPerHost: 64}
	do := func(client string) int {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI("http://" + ln.Addr().String() + "/b")
		req.Header.SetMethod("POST")
		req.Header.SetContentType("application/json")
		req.Header.Set("X-Forwarded-For", client)
		req.SetBodyString(`{"site":"s"}`)
		if err := c.DoTimeout(req, resp, 10*time.Second); err != nil {
			t.Errorf("beacon from %s: %v", client, err)
			return 0
		}
		return resp.StatusCode()
	}
	var wg sync.WaitGroup
	for _, a := range []string{"2001:db8:1:2::a", "2001:db8:1:2:1234:5678:9abc:def0"} {
		wg.Add(1)
		go func() { defer wg.Done(); do(a) }()
	}
	for range max {
		<-h.entered
	}
	if st := do("[2001:db8:1:2::c]:4711"); st != 429 {
		t.Errorf("a third address of the same /64: %d; want 429", st)
	}
	wg.Add(1)
	go func() { defer wg.Done(); do("2001:db8:1:3::a") }()
	select {
	case <-h.entered: // the next /64 is another client
	case <-time.After(10 * time.Second):
		t.Fatal("a client in another /64 was not served")
	}
	close(h.release)
	wg.Wait()
	for i := range g.inFlight.shards {
		if n := len(g.inFlight.shards[i].n); n != 0 {
			t.Fatalf("shard %d keeps %d idle clients", i, n)
		}
	}
}
