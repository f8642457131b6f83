package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/retail"
	"github.com/beacongate/beacongate/upstream"
)

// TestBLEAggregationEnqueues: with ble.output: aggregates, a ping's
// sightings are enqueued into the aggregation's spool and written together
// when the request waits (before, each was appended and waited for on its
// own), and other records are enqueued into the pipeline.
func TestBLEAggregationEnqueues(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse("ble.yaml", []byte("server:\n  data_dir: "+dir+"\nble:\n  output: aggregates\n"))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(clocktest.Golden)
	main, err := upstream.Open(upstream.Options{DataDir: dir, Clock: clk,
		Destinations: []upstream.DestinationOptions{{Name: "local", File: &upstream.FileOptions{Dir: dir + "/out"}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer main.Close(context.Background())
	b, err := openBLEAggregation(cfg, main, clk, nil, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()

	sighting := []byte(`{"v":1,"id":"AAAAAAAAAAAAAAAAAAAAAA","kind":"ble","site":"store-chain","event":"ble_sighting"}`)
	var p upstream.Pending
	end := b.sp.End()
	for range 40 {
		if err := b.Enqueue(&p, sighting, upstream.RouteTo(0)); err != nil {
			t.Fatal(err)
		}
	}
	if p.Len() != 40 || p.Spool() != b.sp {
		t.Fatalf("Pending holds %d records of %p; want 40 of the aggregation's spool %p", p.Len(), p.Spool(), b.sp)
	}
	if b.sp.End() != end {
		t.Fatal("sightings written before the request waited")
	}
	if err := b.Wait(&p); err != nil {
		t.Fatal(err)
	}
	if b.sp.End() == end || p.Len() != 0 {
		t.Fatalf("after Wait: end %d (was %d), %d records pending", b.sp.End(), end, p.Len())
	}

	beacon := []byte(`{"v":1,"id":"BBBBBBBBBBBBBBBBBBBBBB","kind":"beacon","site":"shop","event":"click"}`)
	if err := b.Enqueue(&p, beacon, upstream.RouteTo(0)); err != nil {
		t.Fatal(err)
	}
	if p.Len() != 1 || p.Spool() == b.sp {
		t.Fatalf("a beacon record went to the aggregation's spool, or nowhere (%d pending)", p.Len())
	}
	if err := b.Wait(&p); err != nil {
		t.Fatal(err)
	}
}

// TestBLEAggregatesSkipAdPlatforms: aggregates go to every destination but
// the ad platforms, which take events only (an aggregate would be
// dead-lettered there as unmappable every interval); a config whose
// destinations are all ad platforms is refused with ble.output aggregates.
func TestBLEAggregatesSkipAdPlatforms(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	if err := os.WriteFile(tok, []byte("t0k3n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	meta := "  - {name: meta, type: meta_capi, requires: [ads], meta_capi: {pixel_id: \"1234567890\", access_token_file: " + tok + "}}\n"
	cfg, err := config.Parse("ble.yaml", []byte("server:\n  data_dir: "+dir+"\nconsent: {purposes: [analytics, ads]}\nble:\n  output: aggregates\ndestinations:\n"+meta+"  - {name: local, type: file}\n"))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(clocktest.Golden)
	main, err := upstream.Open(upstream.Options{DataDir: dir, Clock: clk, Destinations: []upstream.DestinationOptions{
		{Name: "meta", File: &upstream.FileOptions{Dir: dir + "/out/meta"}},
		{Name: "local", File: &upstream.FileOptions{Dir: dir + "/out/local"}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer main.Close(context.Background())
	b, err := newBLEAggregation(cfg, main, clk, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer b.sp.Close()
	if b.route != upstream.RouteTo(1) {
		t.Errorf("aggregates routed %b; want the file destination alone (%b)", b.route, upstream.RouteTo(1))
	}

	_, err = config.Parse("ble.yaml", []byte("consent: {purposes: [analytics, ads]}\nble:\n  output: aggregates\ndestinations:\n"+meta))
	if err == nil || !strings.Contains(err.Error(), "ble.output: aggregates go to every destination but the ad platforms") {
		t.Errorf("aggregates with ad platforms alone: %v", err)
	}
}

// TestBLEStopCutsTheReplay: once the gateway stops, the aggregation reads
// no further record of its spool: a stop that comes while it reads the
// day's sightings again after a restart (a few seconds for a spool of
// some hundred MiB, more from a cold disk) ends the read at once, as a
// kill would, and the next start reads them again. It used to finish the
// whole read first: the stop took that long beyond
// server.shutdown_timeout, whose deadline the delivery flush after it then
// found passed ("delivery did not finish" with nothing to deliver).
func TestBLEStopCutsTheReplay(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse("ble.yaml", []byte("server:\n  data_dir: "+dir+"\nble:\n  output: aggregates\n"))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(clocktest.Golden)
	main, err := upstream.Open(upstream.Options{DataDir: dir, Clock: clk,
		Destinations: []upstream.DestinationOptions{{Name: "local", File: &upstream.FileOptions{Dir: dir + "/out"}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer main.Close(context.Background())
	b, err := newBLEAggregation(cfg, main, clk, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer b.sp.Close()
	sighting := []byte(`{"v":1,"id":"AAAAAAAAAAAAAAAAAAAAAA","kind":"ble","site":"store-chain","event":"ble_sighting"}`)
	var p upstream.Pending
	for range 100 {
		if err := b.Enqueue(&p, sighting, upstream.RouteTo(0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Wait(&p); err != nil {
		t.Fatal(err)
	}
	r := b.sp.Reader(bleReaderAggregation)
	from := r.Pos()
	close(b.stop) // what close does first; run is not started here
	if err := b.step(); !errors.Is(err, errBLEStopped) {
		t.Errorf("step once stopping: %v; want errBLEStopped", err)
	}
	if r.Pos() != from {
		t.Errorf("the aggregation read on after the stop: from offset %d to %d (spool end %d)", from, r.Pos(), b.sp.End())
	}
}

// TestBLEEnterRSSIZeroIsKept: ble.enter_rssi takes -127..20, and 0 dBm is
// a threshold like any other; but the aggregation read a threshold of 0 as
// unset and counted sightings from -75 dBm on as presence, while config
// check and the processing record (beacongate ropa) said 0 dBm.
func TestBLEEnterRSSIZeroIsKept(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse("ble.yaml", []byte("server:\n  data_dir: "+dir+"\nble:\n  output: aggregates\n  enter_rssi: 0\n  k: 1\n  enter_after: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(clocktest.Golden)
	main, err := upstream.Open(upstream.Options{DataDir: dir, Clock: clk,
		Destinations: []upstream.DestinationOptions{{Name: "local", File: &upstream.FileOptions{Dir: dir + "/out"}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer main.Close(context.Background())
	b, err := newBLEAggregation(cfg, main, clk, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer b.sp.Close()
	var sent []retail.Aggregate
	b.send = func(agg []byte) error {
		var a retail.Aggregate
		if err := json.Unmarshal(agg, &a); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, a)
		return nil
	}
	seen := clocktest.Golden.Add(time.Minute).UTC().Format(time.RFC3339)
	for dev, rssi := range map[string]int{"near": 5, "far": -60} { // at and below 0 dBm
		rec := fmt.Appendf(nil, `{"v":1,"kind":"ble","site":"s","visitor":%q,"ble":{"store":"berlin","sensor":"gate","rssi":%d,"seen":%q}}`, dev, rssi, seen)
		if err := b.Append(rec, upstream.RouteTo(0)); err != nil {
			t.Fatal(err)
		}
	}
	clk.Set(clocktest.Golden.Add(time.Hour))
	for range 2 {
		if err := b.step(); err != nil {
			t.Fatal(err)
		}
	}
	if len(sent) != 1 || sent[0].Visitors != 1 || sent[0].Weak != 1 {
		t.Errorf("sent %+v; want one cell: the device at 5 dBm a visitor, the one at -60 dBm a weak sighting (ble.enter_rssi 0)", sent)
	}
}
