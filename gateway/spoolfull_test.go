package gateway

import (
	"bufio"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/delivery"
	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/upstream"
)

// slowDestination is a real HTTP destination on 127.0.0.1 that takes delay
// per batch, so the spool fills while it drains, and remembers the ids of
// the records it acknowledged. While stalled it answers 503.
type slowDestination struct {
	srv     *httptest.Server
	delay   time.Duration
	mu      sync.Mutex
	ids     map[string]bool
	stalled bool
}

var recordID = regexp.MustCompile(`"id":"([A-Za-z0-9_-]{22})"`)

func newSlowDestination(t *testing.T, delay time.Duration) *slowDestination {
	d := &slowDestination{delay: delay, ids: map[string]bool{}}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		stalled := d.stalled
		d.mu.Unlock()
		if stalled {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		time.Sleep(d.delay)
		var got []string
		sc := bufio.NewScanner(r.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if m := recordID.FindSubmatch(sc.Bytes()); m != nil {
				got = append(got, string(m[1]))
			}
		}
		if sc.Err() != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		d.mu.Lock()
		for _, id := range got {
			d.ids[id] = true
		}
		d.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *slowDestination) setStalled(s bool) {
	d.mu.Lock()
	d.stalled = s
	d.mu.Unlock()
}

func (d *slowDestination) delivered() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.ids)
}

// fullSpoolGateway wires a gateway to a real pipeline: a 128 KiB spool in
// 16 KiB segments, one HTTP destination, the default privacy engine.
func fullSpoolGateway(t *testing.T, dest *slowDestination, policy upstream.FullPolicy, shed ...event.Kind) (*Gateway, *upstream.Pipeline, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	p, err := upstream.Open(upstream.Options{
		DataDir: t.TempDir(),
		Spool: upstream.SpoolOptions{
			MaxBytes: 128 << 10, SegmentBytes: 16 << 10, MaxRecordBytes: 8 << 10,
			WhenFull: policy, BlockTimeout: 10 * time.Second,
		},
		Destinations: []upstream.DestinationOptions{{
			Name:        "slow",
			HTTP:        &upstream.HTTPOptions{URL: dest.srv.URL},
			Batch:       upstream.BatchOptions{MaxEvents: 40, MaxAge: 5 * time.Millisecond},
			Compression: upstream.CodecNone,
			Retry:       upstream.RetryOptions{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond},
		}},
		Registerer: reg,
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Closed after the test (before the destination's server: cleanups
	// run last first) if the test did not: a pipeline left open kept
	// retrying the closed server every few milliseconds for the rest of
	// the package's tests, and its allocations counted in their
	// AllocsPerRun (TestLongValuesAllocs read 2-4 allocations per request
	// after TestRetryAfterSpoolFull).
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p.Close(ctx)
	})
	cfg, err := config.Parse("t.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	en, err := anonymize.New(compilePlan(t, cfg), anonymize.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	d := delivery.NewDeliverer(en, p, delivery.NewMetrics(reg))
	if len(shed) > 0 {
		d = d.ShedWhenFull(shed...)
	}
	return New(Settings{Handler: d}, reg), p, reg
}

// pixelLoss sends n pixel hits from 8 clients at once and returns how many
// were answered with the GIF (acknowledged to the page) and how many
// records the destination holds once the pipeline drained.
func pixelLoss(t *testing.T, g *Gateway, p *upstream.Pipeline, dest *slowDestination, n int) (acked, delivered int) {
	t.Helper()
	const clients = 8
	raw := rawRequest("GET", "/p.gif?site=shop.example&event=pageview&url=https%3A%2F%2Fshop.example%2Fcart", nil,
		"User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	var mu sync.Mutex
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			drv := newDriver(g, "198.51.100.7")
			for i := c; i < n; i += clients {
				resp := drv.do(raw)
				if resp.StatusCode() == 200 && len(resp.Body()) == len(transparentGIF) {
					mu.Lock()
					acked++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatalf("draining the pipeline: %v", err)
	}
	return acked, dest.delivered()
}

// TestPixelUnderFullSpool measures acknowledged, delivered and lost pixel
// events while a slow destination keeps the spool full. Shedding (the old
// and default behaviour) loses events the page was answered for; blocking
// (pixel_when_full: block) loses none, within its bounded wait.
func TestPixelUnderFullSpool(t *testing.T) {
	const n = 2000
	t.Run("shed", func(t *testing.T) {
		dest := newSlowDestination(t, 20*time.Millisecond)
		g, p, reg := fullSpoolGateway(t, dest, upstream.FullShed)
		acked, delivered := pixelLoss(t, g, p, dest, n)
		lost := acked - delivered
		t.Logf("pixel_when_full: shed: acknowledged %d, delivered %d, lost %d", acked, delivered, lost)
		if acked != n || lost <= 0 {
			t.Fatalf("acknowledged %d of %d, lost %d: the spool never filled, so this test shows nothing", acked, n, lost)
		}
		if got := testutil.ToFloat64(g.metrics.rejected[endpointPixel][reasonUnavailable]); int(got) != lost {
			t.Fatalf("lost %d, but %v counted", lost, got)
		}
		_ = reg
	})
	t.Run("block", func(t *testing.T) {
		dest := newSlowDestination(t, 20*time.Millisecond)
		g, p, _ := fullSpoolGateway(t, dest, upstream.FullBlock)
		acked, delivered := pixelLoss(t, g, p, dest, n)
		t.Logf("pixel_when_full: block: acknowledged %d, delivered %d, lost %d", acked, delivered, acked-delivered)
		if acked != n || delivered != n {
			t.Fatalf("acknowledged %d, delivered %d of %d", acked, delivered, n)
		}
		if got := testutil.ToFloat64(g.metrics.rejected[endpointPixel][reasonUnavailable]); got != 0 {
			t.Fatalf("%v pixel events counted unavailable", got)
		}
	})
}

// TestShedWhenFullMixed runs one blocking spool for two policies: the pixel
// blocks (pixel_when_full: block) while beacons are shed (when_full: shed).
// With the destination stalled and the spool full, a beacon is refused by
// the Deliverer before it reaches the spool, so the spool never counts it;
// 60 pixel hits (more than the room the spool keeps back) wait instead of
// being dropped, and once the destination recovers all are delivered.
func TestShedWhenFullMixed(t *testing.T) {
	dest := newSlowDestination(t, 0)
	dest.setStalled(true)
	g, p, reg := fullSpoolGateway(t, dest, upstream.FullBlock, event.KindBeacon, event.KindBLE)
	drv := newDriver(g, "198.51.100.7")
	filled := 0
	for p.Ready() == nil {
		if filled > 10000 {
			t.Fatal("the spool never filled")
		}
		if st := drv.do(rawRequest("POST", "/b", []byte(`{"site":"shop.example","event":"fill"}`), "Content-Type", "application/json")).StatusCode(); st != 204 {
			t.Fatalf("filling: %d", st)
		}
		filled++
	}
	spoolFull := func() float64 {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() != "beacongate_upstream_dropped_records_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "reason" && l.GetValue() == "full" {
						return m.GetCounter().GetValue()
					}
				}
			}
		}
		return 0
	}
	before := spoolFull()
	if st := drv.do(rawRequest("POST", "/b", []byte(`{"site":"shop.example"}`), "Content-Type", "application/json")).StatusCode(); st != 503 {
		t.Fatalf("beacon into a full spool: %d; want 503", st)
	}
	if got := spoolFull(); got != before {
		t.Fatalf("the shed beacon reached the spool (full drops %v → %v)", before, got)
	}
	const pixels = 60
	var wg sync.WaitGroup
	status := make(chan int, pixels)
	for i := range pixels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := newDriver(g, "198.51.100.8")
			status <- d.do(rawRequest("GET", "/p.gif?site=shop.example&event=waited&p.i="+string(rune('a'+i%26)), nil)).StatusCode()
		}()
	}
	time.Sleep(50 * time.Millisecond) // let the pixels reach the full spool; the test holds either way
	dest.setStalled(false)
	wg.Wait()
	close(status)
	for st := range status {
		if st != 200 {
			t.Fatalf("pixel: %d", st)
		}
	}
	if got := testutil.ToFloat64(g.metrics.rejected[endpointPixel][reasonUnavailable]); got != 0 {
		t.Fatalf("%v waiting pixel events were dropped", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := dest.delivered(), filled+pixels; got != want {
		t.Fatalf("delivered %d; want %d (%d fill beacons and %d pixels)", got, want, filled, pixels)
	}
}

// TestBeaconRefusedWholeWhenSpoolFillsPartWay: a beacon request whose
// spool fills up part-way (its first event's record taken, a later one
// refused) is answered 503 and stores none of its events. Until
// 2026-12-06 the records enqueued before the refusal were written: the
// client's retry stored those events again under new ids, and with
// several destination policies one destination could keep part of an
// event whose other records were refused.
func TestBeaconRefusedWholeWhenSpoolFillsPartWay(t *testing.T) {
	partial := 0
	for pad := 0; pad < 40 && partial < 3; pad++ {
		dest := newSlowDestination(t, 0)
		dest.setStalled(true) // nothing drains: the spool fills
		// Pixels are shed when full; beacons are refused by the spool's
		// own limit, at the first record that does not fit.
		g, p, reg := fullSpoolGateway(t, dest, upstream.FullShed, event.KindPixel)
		drv := newDriver(g, "198.51.100.7")
		big := strings.Repeat("x", 2000+37*pad)
		body := []byte(`[{"site":"shop.example","event":"small"},` +
			`{"site":"shop.example","event":"big","url":"https://shop.example/p/` + big + `"},` +
			`{"site":"shop.example","event":"big2","url":"https://shop.example/q/` + big + `"}]`)
		spooled := func() float64 {
			return counterValue(t, reg, "beacongate_upstream_spooled_records_total", nil)
		}
		refused := func() float64 {
			return counterValue(t, reg, "beacongate_upstream_dropped_records_total", map[string]string{"reason": "full"})
		}
		for i := 0; ; i++ {
			if i > 200 {
				t.Fatal("the spool never filled")
			}
			s0, r0 := spooled(), refused()
			resp := drv.do(rawRequest("POST", "/b", body, "Content-Type", "text/plain"))
			if resp.StatusCode() == 204 {
				if got := spooled() - s0; got != 3 {
					t.Fatalf("an accepted request stored %v records; want 3", got)
				}
				continue
			}
			if resp.StatusCode() != 503 {
				t.Fatalf("status %d", resp.StatusCode())
			}
			if got := spooled() - s0; got != 0 {
				t.Fatalf("pad %d: a request answered 503 stored %v of its records; want none", pad, got)
			}
			if refused()-r0 >= 2 {
				partial++ // its first record had been taken, then withdrawn
			}
			break
		}
		dest.setStalled(false)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		p.Close(ctx)
		cancel()
	}
	if partial == 0 {
		t.Fatal("no request was refused part-way: the test proved nothing")
	}
}

// counterValue returns the value of counter name in reg whose labels
// include labels (nil: the first series), or 0 when there is none.
func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for k, v := range labels {
				found := false
				for _, l := range m.GetLabel() {
					found = found || l.GetName() == k && l.GetValue() == v
				}
				if !found {
					continue series
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
