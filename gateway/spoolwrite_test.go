package gateway

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/upstream"
)

// TestRequestEventsShareOneSpoolWrite: the events of one beacon or BLE
// request, handed to the real pipeline through the delivery step, become
// durable in one group write of the spool (the request waits once), and the
// request is answered after it. One by one, a 40-sighting ping took 40.
func TestRequestEventsShareOneSpoolWrite(t *testing.T) {
	pl := newPipelineGateway(t, goldenConfig, "", clocktest.Golden)
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	p, err := upstream.Open(upstream.Options{DataDir: dir, Registerer: reg,
		Destinations: []upstream.DestinationOptions{
			{Name: "all", File: &upstream.FileOptions{Dir: dir + "/out/all"}},
			{Name: "retargeting", File: &upstream.FileOptions{Dir: dir + "/out/retargeting"}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	pl.withSpool(p)
	counter := func(name string) float64 {
		t.Helper()
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			if f.GetName() == name {
				return f.GetMetric()[0].GetCounter().GetValue()
			}
		}
		t.Fatalf("no metric %s", name)
		return 0
	}
	batch := "[" + strings.Repeat(string(beaconBody())+",", 4) + string(beaconBody()) + "]"
	d := newDriver(pl.g, "81.2.69.142")
	for _, c := range []struct {
		name   string
		raw    []byte
		events int
	}{
		{"ble", rawRequest("POST", "/ble", bleBody(40), "Content-Type", "application/json", "User-Agent", "StoreSensor/2.1"), 40},
		{"beacon batch", rawRequest("POST", "/b", []byte(batch), "Content-Type", "text/plain;charset=UTF-8", "User-Agent", benchUA), 5},
	} {
		writes, records := counter("beacongate_upstream_spool_writes_total"), counter("beacongate_upstream_spooled_records_total")
		if resp := d.do(c.raw); resp.StatusCode() != 204 {
			t.Fatalf("%s: status %d: %s", c.name, resp.StatusCode(), resp.Body())
		}
		dw := counter("beacongate_upstream_spool_writes_total") - writes
		dr := counter("beacongate_upstream_spooled_records_total") - records
		if dw != 1 || dr < float64(c.events) {
			t.Errorf("%s: %v records of %d events in %v spool writes when answered; want them all in 1", c.name, dr, c.events, dw)
		}
	}
}
