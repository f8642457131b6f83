package gateway

import (
	"net/netip"
	"testing"

	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/upstream"
)

// TestRetryAfterSpoolFull: with the spool full (a stalled destination
// behind the real pipeline), a beacon and a BLE ping are answered 503 with
// Retry-After, so that a store sensor or a server-to-server sender knows
// when to try again. Until 2026-12 the 503 carried none.
func TestRetryAfterSpoolFull(t *testing.T) {
	dest := newSlowDestination(t, 0)
	dest.setStalled(true)
	g, p, _ := fullSpoolGateway(t, dest, upstream.FullBlock, event.KindBeacon, event.KindBLE)
	drv := newDriver(g, "198.51.100.7")
	for filled := 0; p.Ready() == nil; filled++ {
		if filled > 10000 {
			t.Fatal("the spool never filled")
		}
		if st := drv.do(rawRequest("POST", "/b", []byte(`{"site":"shop.example","event":"fill"}`), "Content-Type", "application/json")).StatusCode(); st != 204 {
			t.Fatalf("filling: %d", st)
		}
	}
	for _, raw := range [][]byte{
		rawRequest("POST", "/b", []byte(`{"site":"shop.example"}`), "Content-Type", "application/json"),
		rawRequest("POST", "/ble", []byte(`{"site":"shop.example","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50}]}`), "Content-Type", "application/json"),
	} {
		resp := drv.do(raw)
		if st, ra := resp.StatusCode(), string(resp.Header.Peek("Retry-After")); st != 503 || ra != "5" {
			t.Errorf("%.14s into a full spool: %d, Retry-After %q; want 503, Retry-After 5", raw, st, ra)
		}
	}
	dest.setStalled(false)
}

// TestRetryAfterPerClientLimit: a beacon or a BLE ping from a client
// that has server.max_requests_per_client requests in progress is answered
// 429 with Retry-After 1 (a request in progress ends within a second or
// so), allocation-free; the pixel keeps its GIF, with no Retry-After.
func TestRetryAfterPerClientLimit(t *testing.T) {
	g := New(Settings{MaxRequestsPerClient: 1}, nil)
	client := netip.MustParseAddr("198.51.100.7")
	if !g.inFlight.acquire(client, 1) { // the request in progress
		t.Fatal("first request refused")
	}
	defer g.inFlight.release(client)
	drv := newDriver(g, client.String())
	beacon := rawRequest("POST", "/b", []byte(`{"site":"s"}`), "Content-Type", "application/json")
	ble := rawRequest("POST", "/ble", bleBody(1), "Content-Type", "application/json")
	for _, raw := range [][]byte{beacon, ble} {
		resp := drv.do(raw)
		if st, ra := resp.StatusCode(), string(resp.Header.Peek("Retry-After")); st != 429 || ra != "1" {
			t.Errorf("%.14s over the limit: %d, Retry-After %q; want 429, Retry-After 1", raw, st, ra)
		}
	}
	resp := drv.do(rawRequest("GET", "/p.gif?site=s", nil))
	if st, ra := resp.StatusCode(), resp.Header.Peek("Retry-After"); st != 200 || ra != nil {
		t.Errorf("pixel over the limit: %d, Retry-After %q; want 200 (the GIF) without one", st, ra)
	}
}
