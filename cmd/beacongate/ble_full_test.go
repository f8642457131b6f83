package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/retail"
	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/upstream/spool"
)

// aggregateSink records every record delivered to it.
type aggregateSink struct {
	mu   sync.Mutex
	recs []string
}

func (s *aggregateSink) Send(_ context.Context, b *upstream.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range b.Len() {
		s.recs = append(s.recs, string(b.Record(i)))
	}
	return nil
}
func (s *aggregateSink) Close() error { return nil }
func (s *aggregateSink) aggregates() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.recs {
		if strings.Contains(r, `"ble_aggregate"`) {
			out = append(out, r)
		}
	}
	return out
}

// TestBLEAggregationWithFullSpool (found by a review): with ble.output:
// aggregates the BLE spool holds the whole day's sightings (its cursor only
// moves to the day's first sighting). Once the day's acknowledged sightings
// filled it to spool.max_bytes, the aggregation had to write each closed
// interval's aggregate back into that same full spool before it could go
// on: appendAggregate retried that write for ever, holding the
// aggregator's lock, so the interval's other cells (here store B's) never
// reached the destination, no later interval was ever closed, and nothing
// ever freed the spool. Sightings acknowledged with 204 were never
// delivered. Now sightings leave the spool's headroom to the write-backs:
// both stores' aggregates are delivered and written back, /metrics' Stats
// answers, and the next day the spool is freed and takes sightings again.
func TestBLEAggregationWithFullSpool(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse("ble.yaml", []byte("server:\n  data_dir: "+dir+
		"\nspool:\n  max_bytes: 16MiB\n  segment_bytes: 2MiB\nble:\n  output: aggregates\n  k: 1\n  enter_after: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(clocktest.Golden)
	sink := &aggregateSink{}
	main, err := upstream.Open(upstream.Options{DataDir: dir, Clock: clk,
		Destinations: []upstream.DestinationOptions{{Name: "warehouse", Sink: sink, Batch: upstream.BatchOptions{MaxAge: 10 * time.Millisecond}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer main.Close(context.Background())
	b, err := openBLEAggregation(cfg, main, clk, nil, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()

	sighting := func(store string, dev int, pad int) []byte {
		seen := clk.Now().UTC().Format(time.RFC3339)
		return fmt.Appendf(nil, `{"v":1,"id":"%022d","kind":"ble","site":"chain","visitor":"dev%d","ble":{"store":"%s","sensor":"z1","rssi":-50,"seen":"%s"},"pad":"%s"}`,
			dev, dev, store, seen, strings.Repeat("x", pad))
	}
	// Both stores have visitors in the current interval (acknowledged).
	for dev := range 3 {
		for _, st := range []string{"A", "B"} {
			if err := b.Append(sighting(st, dev, 0), upstream.RouteTo(0)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The day goes on: more acknowledged sightings until the BLE spool is
	// full (a post then gets 503, as the README says).
	n := 0
	for _, pad := range []int{2000, 200, 20} {
		for {
			var p upstream.Pending
			err := b.Enqueue(&p, sighting("A", 100+n%50, pad), upstream.RouteTo(0))
			if err == nil {
				err = b.Wait(&p)
			}
			if errors.Is(err, upstream.ErrFull) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	t.Logf("%d sightings acknowledged after the first six; BLE spool %d of %d bytes", n, b.sp.Size(), cfg.Spool.MaxBytes.Int())
	if limit := cfg.Spool.MaxBytes.Int() - bleHeadroom(int64(cfg.Spool.MaxBytes)); b.sp.Size() > limit {
		t.Fatalf("sightings took %d bytes of the BLE spool, more than the %d left to them", b.sp.Size(), limit)
	}
	// The aggregation reads them (it polls every 250 ms).
	waitFor(t, "the aggregation to read every sighting", func() bool {
		return b.f.Aggregator().Stats().Sightings == uint64(n+6)
	})

	// The interval ends, and its lateness passes: both stores' cells are due.
	clk.Advance(40 * time.Minute)
	deadline := time.Now().Add(6 * time.Second)
	for time.Now().Before(deadline) && len(sink.aggregates()) < 2 {
		time.Sleep(50 * time.Millisecond)
	}
	if got := sink.aggregates(); len(got) == 2 {
		if sk := b.skipped.Load(); sk != 0 {
			t.Fatalf("%d write-backs skipped: the headroom should hold them", sk)
		}
		// The next day: the day's intervals close, the cursor moves past
		// them, and the spool takes sightings again.
		clk.Advance(clk.Now().Truncate(24 * time.Hour).Add(24*time.Hour + 30*time.Minute).Sub(clk.Now()))
		waitFor(t, "the BLE spool to take the next day's sightings", func() bool {
			return b.Append(sighting("A", 1, 0), upstream.RouteTo(0)) == nil
		})
		return
	}
	got := sink.aggregates()
	var stores []string
	for _, r := range got {
		if i := bytes.Index([]byte(r), []byte(`"store":"`)); i >= 0 {
			stores = append(stores, r[i+9:i+10])
		}
	}
	t.Fatalf("after 6 s the destination holds %d aggregates (stores %v) of the 2 due: the aggregation is stuck writing an aggregate back into its full spool (BLE spool %d bytes, full %v)",
		len(got), stores, b.sp.Size(), b.sp.Full())
}

// waitFor polls cond for up to 6 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(6 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 6 s for %s", what)
		}
	}
}

// TestBLEWriteBackSkippedWhenHeadroomFull: a write-back that finds even
// the headroom full is skipped and counted at once, not retried for ever:
// only the aggregation going on can free the spool. Its aggregates are
// sent directly (no acknowledged sighting is lost), and it tells the
// Follower so (retail.ErrNotWritten), which then goes on.
func TestBLEWriteBackSkippedWhenHeadroomFull(t *testing.T) {
	sp, err := spool.Open(spool.Options{Dir: t.TempDir(), Destinations: []string{"aggregation"},
		MaxBytes: 64 << 10, SegmentBytes: 8 << 10, MaxRecordBytes: 1 << 10, Headroom: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	pad := []byte(`{"kind":"ble_interval_closed","pad":"` + strings.Repeat("x", 900) + `"}`)
	for sp.AppendHeadroom(pad, spool.RouteTo(0)) == nil {
	}
	var logs strings.Builder
	b := &bleAggregation{sp: sp, log: slog.New(slog.NewTextHandler(&logs, nil)), stop: make(chan struct{})}
	var sent []string
	b.send = func(agg []byte) error { sent = append(sent, string(agg)); return nil }
	agg := `{"v":1,"kind":"` + retail.KindAggregate + `","id":"x","site":"s","store":"a","zone":"z","start":"2026-11-24T12:00:00Z"}`
	done := make(chan error, 1)
	go func() {
		done <- b.appendAggregate([]byte(`{"v":1,"kind":"` + retail.KindIntervalClosed + `","start":"2026-11-24T12:00:00Z","aggregates":[` + agg + `],"pad":"` + strings.Repeat("y", 800) + `"}`))
	}()
	select {
	case err := <-done:
		if !errors.Is(err, retail.ErrNotWritten) {
			t.Fatalf("appendAggregate = %v; want retail.ErrNotWritten (the Follower goes on)", err)
		}
	case <-time.After(10 * time.Second): // a bound on waiting, not a timing: a retry never returns
		close(b.stop)
		<-done
		t.Fatalf("appendAggregate still retrying after 10 s:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "retrying") || b.skipped.Load() != 1 {
		t.Fatalf("appendAggregate skipped %d, log:\n%s; want 1 skip at once, no retry", b.skipped.Load(), logs.String())
	}
	if len(sent) != 1 || sent[0] != agg {
		t.Fatalf("sent %q; want the record's aggregate, as stored, sent directly (it is not written back)", sent)
	}
}

// TestBLEBareMarkerUsesTheReserve: once write-backs with aggregates are
// refused, the Follower's bare marker (retail.ErrNotWritten) still fits,
// in the reserve at the headroom's end, so a restart knows the interval
// closed.
func TestBLEBareMarkerUsesTheReserve(t *testing.T) {
	sp, err := spool.Open(spool.Options{Dir: t.TempDir(), Destinations: []string{"aggregation"},
		MaxBytes: 64 << 10, SegmentBytes: 8 << 10, MaxRecordBytes: 1 << 10, Headroom: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	o := sp.Options()
	for _, n := range []int{900, 10} {
		pad := []byte(`{"kind":"ble_interval_closed","pad":"` + strings.Repeat("x", n) + `"}`)
		for sp.AppendUpTo(pad, spool.RouteTo(0), o.MaxBytes-bleReserve(o.Headroom)) == nil {
		}
	}
	var logs strings.Builder
	b := &bleAggregation{sp: sp, log: slog.New(slog.NewTextHandler(&logs, nil)), stop: make(chan struct{})}
	var sent []string
	b.send = func(agg []byte) error { sent = append(sent, string(agg)); return nil }
	agg := `{"v":1,"kind":"` + retail.KindAggregate + `","id":"x","site":"s","store":"a","zone":"z","start":"2026-11-24T12:00:00Z"}`
	marker := `{"v":1,"kind":"` + retail.KindIntervalClosed + `","start":"2026-11-24T12:00:00Z","read":0`
	if err := b.appendAggregate([]byte(marker + `,"aggregates":[` + agg + `]}`)); !errors.Is(err, retail.ErrNotWritten) {
		t.Fatalf("a marker with aggregates into the reserve: %v; want retail.ErrNotWritten", err)
	}
	if len(sent) != 1 || b.sent.Load() != 1 {
		t.Fatalf("sent %q (beacongate_ble_cells_sent_total %d); want the aggregate sent directly, and counted", sent, b.sent.Load())
	}
	for i := range 8 {
		if err := b.appendAggregate([]byte(marker + `,"unwritten":true}`)); err != nil {
			t.Fatalf("bare marker %d: %v; want it written into the reserve", i, err)
		}
	}
	if b.skipped.Load() != 1 {
		t.Fatalf("%d skipped; want 1", b.skipped.Load())
	}
}
