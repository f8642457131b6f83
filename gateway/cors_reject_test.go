package gateway

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/upstream"
)

// TestRejectionCORS: a rejection of POST /b or /ble (400, 403, 405, 413,
// 429, 503) from an origin configured under sites carries the same CORS
// headers as the 204 does, so that a page's fetch can read the status and
// the answer naming the field at fault; without them the browser hands the
// page an opaque network error. Until 2026-12 only the 204 carried them.
// An origin configured nowhere still gets none.
func TestRejectionCORS(t *testing.T) {
	const origin = "https://shop.example"
	sites := map[string][]string{"shop": {origin}, "blog": {"https://blog.example"}}
	g := New(Settings{Handler: &countingHandler{}, Sites: sites, Clock: clock.Fixed(bleNow), MaxRequestsPerClient: 1}, nil)
	refusing := New(Settings{Handler: refusingHandler{}, Sites: sites, Clock: clock.Fixed(bleNow)}, nil)
	busy := netip.MustParseAddr("198.51.100.9")
	if !g.inFlight.acquire(busy, 1) {
		t.Fatal("first request refused")
	}
	defer g.inFlight.release(busy)
	js := "application/json"
	cases := []struct {
		name string
		g    *Gateway
		peer string
		raw  []byte
		want int
	}{
		{"accepted", g, "192.0.2.1", rawRequest("POST", "/b", []byte(`{"site":"shop"}`), "Content-Type", js, "Origin", origin), 204},
		{"invalid json", g, "192.0.2.1", rawRequest("POST", "/b", []byte(`{"site":`), "Content-Type", js, "Origin", origin), 400},
		{"invalid field", g, "192.0.2.1", rawRequest("POST", "/b", []byte(`{"site":"shop","uid":true}`), "Content-Type", js, "Origin", origin), 400},
		{"unknown site", g, "192.0.2.1", rawRequest("POST", "/b", []byte(`{"site":"nope"}`), "Content-Type", js, "Origin", origin), 400},
		{"ble sighting", g, "192.0.2.1", rawRequest("POST", "/ble", []byte(`{"site":"shop","store":"s","sightings":[{"rssi":-5,"ts":"x"}]}`), "Content-Type", js, "Origin", origin), 400},
		{"ble media type", g, "192.0.2.1", rawRequest("POST", "/ble", []byte(`site=shop`), "Content-Type", "application/x-www-form-urlencoded", "Origin", origin), 415},
		{"origin of another site", g, "192.0.2.1", rawRequest("POST", "/b", []byte(`{"site":"blog"}`), "Content-Type", js, "Origin", origin), 403},
		{"method", g, "192.0.2.1", rawRequest("GET", "/b", nil, "Origin", origin), 405},
		{"too many requests", g, busy.String(), rawRequest("POST", "/b", []byte(`{"site":"shop"}`), "Content-Type", js, "Origin", origin), 429},
		{"unavailable", refusing, "192.0.2.1", rawRequest("POST", "/ble", []byte(`{"site":"shop","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50}]}`), "Content-Type", js, "Origin", origin), 503},
	}
	for _, c := range cases {
		resp := newDriver(c.g, c.peer).do(c.raw)
		if resp.StatusCode() != c.want {
			t.Fatalf("%s: %d; want %d", c.name, resp.StatusCode(), c.want)
		}
		if acao, acac, vary := string(resp.Header.Peek("Access-Control-Allow-Origin")), string(resp.Header.Peek("Access-Control-Allow-Credentials")), string(resp.Header.Peek("Vary")); acao != origin || acac != "true" || vary != "Origin" {
			t.Errorf("%s (%d): Access-Control-Allow-Origin %q, -Credentials %q, Vary %q; want %s, true, Origin", c.name, c.want, acao, acac, vary, origin)
		}
	}
	// An origin no site lists can read nothing, 204 or rejection.
	for _, raw := range [][]byte{
		rawRequest("POST", "/b", []byte(`{"site":"shop"}`), "Content-Type", js, "Origin", "https://evil.example"),
		rawRequest("POST", "/b", []byte(`{"site":`), "Content-Type", js, "Origin", "https://evil.example"),
	} {
		if resp := newDriver(g, "192.0.2.1").do(raw); resp.Header.Peek("Access-Control-Allow-Origin") != nil {
			t.Errorf("%d to an origin no site lists carries Access-Control-Allow-Origin %q", resp.StatusCode(), resp.Header.Peek("Access-Control-Allow-Origin"))
		}
	}
}

// TestRejectionCORSBodyTooLarge: the 413 the server answers to a body over
// server.max_body_bytes before the gateway's handler (refuseBody), on the
// real server on 127.0.0.1, carries the CORS headers too.
func TestRejectionCORSBodyTooLarge(t *testing.T) {
	const origin = "https://shop.example"
	g := New(Settings{Sites: map[string][]string{"shop": {origin}}}, nil)
	srv := g.NewServer(ServerOptions{MaxBodyBytes: 1024})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown()
	req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/b", strings.NewReader(`{"site":"shop","event":"`+strings.Repeat("x", 1500)+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", origin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 || resp.Header.Get("Access-Control-Allow-Origin") != origin || resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("body too large: %d, Access-Control-Allow-Origin %q, -Credentials %q; want 413, %s, true",
			resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Allow-Credentials"), origin)
	}
}

// reloadingHandler stands for the delivery step of a request during which
// the config is reloaded (it waited for spool space, say): it swaps in next
// and then refuses the event as a full spool does.
type reloadingHandler struct {
	g    *Gateway
	next Settings
}

func (h *reloadingHandler) HandleEvent(*event.Event) error {
	h.g.Update(h.next)
	return upstream.ErrFull
}

// TestRejectionCORSKeepsRequestSettings: a request is answered with the
// settings it started with (Update). The 503 of a request whose events were
// refused took its CORS headers from settings loaded again, after the
// events were handled: with a reload in between that moved the site to
// another origin, the page whose origin the request was accepted from got
// a 503 without Access-Control-Allow-Origin, an opaque network error, and
// could not read Retry-After. On the real server on 127.0.0.1.
func TestRejectionCORSKeepsRequestSettings(t *testing.T) {
	const origin, moved = "https://shop.example", "https://www.shop.example"
	h := &reloadingHandler{next: Settings{Handler: refusingHandler{}, Sites: map[string][]string{"shop": {moved}}, Clock: clock.Fixed(bleNow)}}
	g := New(Settings{Handler: h, Sites: map[string][]string{"shop": {origin}}, Clock: clock.Fixed(bleNow)}, nil)
	h.g = g
	srv := g.NewServer(ServerOptions{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown()
	req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/b", strings.NewReader(`{"site":"shop"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", origin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Access-Control-Allow-Origin") != origin || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("refused during a reload: %d, Access-Control-Allow-Origin %q, Retry-After %q; want 503 readable by %s, the origin the request was accepted from",
			resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Retry-After"), origin)
	}
}
