package gateway

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/delivery"
	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/upstream"
)

// threePolicies routes an event with analytics and ads consent to three
// destinations with three distinct policies: three records per event.
const threePolicies = `
consent:
  purposes: [analytics, ads]
destinations:
  - {name: all, type: file}
  - {name: retargeting, type: file, requires: [analytics, ads], policies: {ads: {user_agent: {action: reduce}}}}
  - {name: third, type: file, policies: {ads: {url: path}}}
`

// TestRequestEventsShareOneSpoolWrite: the records of one request (the
// events of a beacon batch or a BLE ping, the records of a pixel event for
// destinations with different policies), handed to the real pipeline
// through the delivery step, become durable in one group write of the
// spool (the request waits once), and the request is answered after it.
// One by one, a 40-sighting ping took 40 writes, a pixel with three
// policies 3.
func TestRequestEventsShareOneSpoolWrite(t *testing.T) {
	batch := "[" + strings.Repeat(string(beaconBody())+",", 4) + string(beaconBody()) + "]"
	for _, c := range []struct {
		name    string
		yaml    string
		raw     []byte
		status  int
		records int
	}{
		{"ble", goldenConfig, rawRequest("POST", "/ble", bleBody(40), "Content-Type", "application/json", "User-Agent", "StoreSensor/2.1"), 204, 40},
		{"beacon batch", goldenConfig, rawRequest("POST", "/b", []byte(batch), "Content-Type", "text/plain;charset=UTF-8", "User-Agent", benchUA), 204, 5},
		{"pixel, three policies", threePolicies, rawRequest("GET", "/p.gif?site=s&consent=analytics,ads&url=https%3A%2F%2Fs.example%2Fp&uid=u-1", nil, "User-Agent", benchUA), 200, 3},
	} {
		pl := newPipelineGateway(t, c.yaml, "", clocktest.Golden)
		reg := prometheus.NewRegistry()
		pl.withSpool(pl.openFilePipeline(t, reg))
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
		writes, records := counter("beacongate_upstream_spool_writes_total"), counter("beacongate_upstream_spooled_records_total")
		if resp := newDriver(pl.g, "81.2.69.142").do(c.raw); resp.StatusCode() != c.status {
			t.Fatalf("%s: status %d: %s", c.name, resp.StatusCode(), resp.Body())
		}
		dw := counter("beacongate_upstream_spool_writes_total") - writes
		dr := counter("beacongate_upstream_spooled_records_total") - records
		if dw != 1 || dr != float64(c.records) {
			t.Errorf("%s: %v records in %v spool writes when answered; want %d in 1", c.name, dr, dw, c.records)
		}
	}
}

// failingWait is a real pipeline whose Wait writes the records, then reports
// a failed write, as after a disk error.
type failingWait struct{ *upstream.Pipeline }

func (f failingWait) Wait(p *upstream.Pending) error {
	f.Pipeline.Wait(p)
	return errors.New("write: input/output error")
}

// suppressName suppresses events by name.
type suppressName string

func (s suppressName) Suppressed(e *event.Event) bool { return string(e.Name) == string(s) }

// TestFailedWriteCountsEachEventOnce: when the write of a request's records
// fails, the request is refused (503), none of its events counts as
// accepted, and each event that had stored a record counts once as dropped
// by the spool; a suppressed event, which stored nothing, does not.
func TestFailedWriteCountsEachEventOnce(t *testing.T) {
	pl := newPipelineGateway(t, goldenConfig, "", clocktest.Golden)
	p := pl.openFilePipeline(t, nil)
	h := delivery.NewDeliverer(pl.engine, failingWait{p}, pl.metrics).WithSuppression(suppressName("hidden"))
	pl.g.Update(Settings{Handler: h, Clock: pl.g.settings.Load().clock})
	ev := func(name string) string {
		return `{"site":"shop.example","event":"` + name + `","url":"https://shop.example/p","consent":["analytics"]}`
	}
	body := "[" + ev("one") + "," + ev("hidden") + "," + ev("two") + "]"
	d := newDriver(pl.g, "81.2.69.142")
	if st := d.do(rawRequest("POST", "/b", []byte(body), "Content-Type", "text/plain;charset=UTF-8", "User-Agent", benchUA)).StatusCode(); st != 503 {
		t.Fatalf("status %d; want 503 after a failed write", st)
	}
	if n := pl.counter(t, "beacongate_anonymize_dropped_total", "reason", "spool"); n != 2 {
		t.Errorf("dropped{reason=spool} = %v; want 2 (the two events that stored records)", n)
	}
	if n := pl.counter(t, "beacongate_gateway_events_total", "endpoint", "beacon"); n != 0 {
		t.Errorf("events accepted = %v; want 0", n)
	}
}
