package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/upstream"
)

// TestReadyWhenBLESpoolFull: with ble.output: aggregates, BLE sightings
// are acknowledged once in their own spool (<data_dir>/ble-spool). Once it
// is full every BLE post gets 503, but /readyz answered 200 and
// beacongate_gateway_ready said 1, since readiness asked the pipeline's
// spool only: a load balancer kept sending the sensors' posts to a
// gateway refusing all of them, and BeacongateNotReady never fired.
// Readiness now also asks the BLE spool.
func TestReadyWhenBLESpoolFull(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse("ble.yaml", []byte("server:\n  data_dir: "+dir+
		"\nspool:\n  max_bytes: 16MiB\n  segment_bytes: 2MiB\nble:\n  output: aggregates\n  k: 1\n  enter_after: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(clocktest.Golden)
	main, err := upstream.Open(upstream.Options{DataDir: dir, Clock: clk,
		Destinations: []upstream.DestinationOptions{{Name: "warehouse", Sink: &aggregateSink{}, Batch: upstream.BatchOptions{MaxAge: 10 * time.Millisecond}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer main.Close(context.Background())
	b, err := openBLEAggregation(cfg, main, clk, nil, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	a := &app{pipeline: main, ble: b}
	reg := prometheus.NewRegistry()
	var stopping atomic.Bool
	registerReady(reg, a, &stopping)
	mux := a.adminMux(reg, &stopping, false)
	readyz := func() (int, string) {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return w.Code, w.Body.String()
	}
	if code, body := readyz(); code != http.StatusOK {
		t.Fatalf("/readyz before the BLE spool filled: %d %q", code, body)
	}

	seen := clk.Now().UTC().Format(time.RFC3339)
	pad := strings.Repeat("x", 2000)
	n := 0
	for {
		rec := fmt.Appendf(nil, `{"v":1,"id":"%022d","kind":"ble","site":"chain","visitor":"dev%d","ble":{"store":"A","sensor":"z1","rssi":-50,"seen":"%s"},"pad":"%s"}`,
			n, n%50, seen, pad)
		var p upstream.Pending
		err := b.Enqueue(&p, rec, upstream.RouteTo(0))
		if err == nil {
			err = b.Wait(&p)
		}
		if errors.Is(err, upstream.ErrFull) {
			break // a BLE post now gets 503
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	code, body := readyz()
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "ble spool") {
		t.Fatalf("/readyz with the BLE spool full (%d sightings, a post gets 503): %d %q; want 503 naming the BLE spool", n, code, body)
	}
	if g := registryValue(t, reg, "beacongate_gateway_ready"); g != 0 {
		t.Fatalf("beacongate_gateway_ready = %v with the BLE spool full; want 0", g)
	}
}

// registryValue returns the value of reg's counter or gauge name, which has
// no labels.
func registryValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			if c := mf.GetMetric()[0].GetCounter(); c != nil {
				return c.GetValue()
			}
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("%s is not registered", name)
	return 0
}

// TestBLESpoolMetrics: with ble.output: aggregates the BLE spool fills
// with the day's sightings and refuses posts beyond spool.max_bytes less
// its headroom (README), but /metrics showed neither its size nor that
// limit: beacongate_upstream_spool_* are the pipeline's spool, so an
// operator saw no spool filling before the 503s. Now
// beacongate_ble_spool_size_bytes and
// beacongate_ble_spool_sightings_max_bytes show both.
func TestBLESpoolMetrics(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse("ble.yaml", []byte("server:\n  data_dir: "+dir+
		"\nspool:\n  max_bytes: 16MiB\n  segment_bytes: 2MiB\nble:\n  output: aggregates\n"))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(clocktest.Golden)
	main, err := upstream.Open(upstream.Options{DataDir: dir, Clock: clk,
		Destinations: []upstream.DestinationOptions{{Name: "warehouse", Sink: &aggregateSink{}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer main.Close(context.Background())
	reg := prometheus.NewRegistry()
	b, err := openBLEAggregation(cfg, main, clk, nil, reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	rec := fmt.Appendf(nil, `{"v":1,"id":"%022d","kind":"ble","site":"chain","visitor":"dev1","ble":{"store":"A","sensor":"z1","rssi":-50,"seen":"%s"}}`,
		1, clk.Now().UTC().Format(time.RFC3339))
	if err := b.Append(rec, upstream.RouteTo(0)); err != nil {
		t.Fatal(err)
	}
	if got, want := registryValue(t, reg, "beacongate_ble_spool_size_bytes"), float64(b.sp.Size()); got != want || got < float64(len(rec)) {
		t.Errorf("beacongate_ble_spool_size_bytes = %v; want %v (the BLE spool's size, one sighting in it)", got, want)
	}
	if got, want := registryValue(t, reg, "beacongate_ble_spool_sightings_max_bytes"), float64(16<<20-bleHeadroom(16<<20)); got != want {
		t.Errorf("beacongate_ble_spool_sightings_max_bytes = %v; want %v (max_bytes less the headroom)", got, want)
	}
}
