package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/delivery"
	"github.com/beacongate/beacongate/retail"
	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/upstream/spool"
)

// bleAggregation runs ble.output: aggregates. BLE sighting records go to
// their own spool (<data_dir>/ble-spool), acknowledged only once there; a
// retail.Follower aggregates them from it and appends each closed
// interval's aggregates to the delivery pipeline (every destination) and
// back to that spool, which is what makes a restart after a kill count
// every acknowledged sighting once (see retail.Follower).
//
// That spool is freed only when the Follower's cursor moves (to the day's
// first sighting, once the day before is closed), and the Follower moves
// on only once an interval's aggregates are written back. So the
// write-backs must never wait for space that only they can free: sightings
// may fill the spool only to spool.max_bytes minus a headroom
// (bleHeadroom) that only the write-backs use (refused beyond it with
// ErrFull, a 503, as a full spool always was). A write-back that finds even
// the headroom full is skipped rather than retried (see appendAggregate):
// the aggregation goes on, and acknowledged sightings are never stranded.
type bleAggregation struct {
	sp      *spool.Spool
	main    *upstream.Pipeline
	route   upstream.Route
	f       *retail.Follower
	log     *slog.Logger
	stop    chan struct{}
	done    chan struct{}
	skipped atomic.Uint64 // write-backs skipped: the headroom was full
}

// bleHeadroom is the part of the BLE spool's maxBytes that sightings
// cannot use: an eighth, at least 2 MiB (spool.max_bytes is at least
// 16 MiB). It holds the write-backs (about 600 bytes an aggregate cell, 70
// a marker) of the intervals that close once sightings fill the rest,
// until the day's end lets the cursor move: 2 MiB is some 3,000 cells,
// 128 MiB of the default 1 GiB some 200,000. It is larger than the largest
// record a write-back can be (a frame of spool.DefaultMaxRecordBytes), so a
// write-back refused for want of space proves that no sighting can be
// appended after it either, until the cursor moves: what skipping it
// relies on (see appendAggregate).
func bleHeadroom(maxBytes int64) int64 {
	return max(maxBytes/8, 2*spool.DefaultMaxRecordBytes)
}

// pollEvery is how often the aggregation reads its spool and the clock.
const pollEvery = 250 * time.Millisecond

func openBLEAggregation(cfg *config.Config, main *upstream.Pipeline, clk clock.Clock, reg prometheus.Registerer, log *slog.Logger) (*bleAggregation, error) {
	so := spool.Options{
		Dir:          filepath.Join(cfg.Server.DataDir, "ble-spool"),
		Destinations: []string{"aggregation"},
		MaxBytes:     int64(cfg.Spool.MaxBytes),
		Headroom:     bleHeadroom(int64(cfg.Spool.MaxBytes)),
		Durability:   spool.DurabilityProcess,
		GatherWindow: cfg.Spool.GatherWindow.D(),
		WhenFull:     spool.FullShed,
		Clock:        clk,
		Logger:       log,
	}
	if cfg.Spool.Durability == config.DurabilityFsync {
		so.Durability, so.FsyncMaxDelay = spool.DurabilityFsync, cfg.Spool.FsyncMaxDelay.D()
	}
	sp, err := spool.Open(so)
	if err != nil {
		return nil, fmt.Errorf("ble.output aggregates: %w", err)
	}
	b := &bleAggregation{sp: sp, main: main, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	for i := range cfg.Destinations {
		b.route |= upstream.RouteTo(i)
	}
	bl := &cfg.BLE
	b.f, err = retail.NewFollower(retail.Options{
		Interval: bl.Interval.D(), Absence: bl.Absence.D(), Lateness: bl.Lateness.D(),
		EnterRSSI: int16(bl.EnterRSSI), EnterAfter: bl.EnterAfter, K: bl.K, MaxDevices: bl.MaxDevices, Clock: clk,
	}, sp.Reader(0), b.appendAggregate)
	if err != nil {
		sp.Close()
		return nil, fmt.Errorf("ble: %w", err)
	}
	b.register(reg)
	go b.run()
	return b, nil
}

// bleKind marks a BLE sighting's record; the closing quote tells it from
// the aggregates' kinds.
var bleKind = []byte(`"kind":"ble"`)

// Append implements gateway.Spool: a BLE sighting's record goes to the
// aggregation's spool, every other record to the pipeline.
func (b *bleAggregation) Append(rec []byte, route upstream.Route) error {
	if head := rec[:min(len(rec), 96)]; bytes.Contains(head, bleKind) {
		return b.sp.Append(rec, spool.RouteTo(0))
	}
	return b.main.Append(rec, route)
}

// Enqueue implements the delivery step's enqueuing spool: a BLE
// sighting's record is enqueued into the aggregation's spool, every other
// record into the pipeline, and Wait waits on the one p's records went to.
// A request's records all go to one of them (a BLE ping makes sightings
// only); one that mixed them would be refused by the second spool.
func (b *bleAggregation) Enqueue(p *upstream.Pending, rec []byte, route upstream.Route) error {
	if head := rec[:min(len(rec), 96)]; bytes.Contains(head, bleKind) {
		return b.sp.Enqueue(p, rec, spool.RouteTo(0))
	}
	return b.main.Enqueue(p, rec, route)
}

// Wait waits for the records Enqueue took, in the spool they went to.
func (b *bleAggregation) Wait(p *upstream.Pending) error {
	if p.Spool() == b.sp {
		return b.sp.Wait(p)
	}
	return b.main.Wait(p)
}

// Ready tells whether the pipeline accepts writes.
func (b *bleAggregation) Ready() error { return b.main.Ready() }

// appendAggregate hands an aggregate (or interval marker) to every
// destination, then back to the aggregation's spool, into its headroom
// (bleHeadroom). The hand-over is retried until it succeeds or the
// gateway stops, so a full pipeline delays aggregates and loses none; so is
// the write-back on a failing disk. Only a kill between the two appends
// can send one aggregate twice (the read-back then misses it).
//
// A write-back refused because even the headroom is full is skipped: its
// space could only come from the cursor, which moves only once the
// aggregation goes on. The aggregate has reached the destinations, so no
// sighting is lost; what is lost is only its read-back after a restart,
// which is what a kill between the two appends costs: the headroom is
// larger than any write-back, so no sighting can follow it in the spool
// until the cursor moves, and a restart before then reads the same
// sightings, closes the interval at the same place (the spool's end) and
// sends the cell again under the same id. Skips are counted
// (beacongate_ble_writebacks_skipped_total) and logged, and told to the
// Follower (retail.ErrNotWritten): without its interval marker it moves
// its cursor past what it read once the day is closed, as before.
func (b *bleAggregation) appendAggregate(rec []byte) error {
	marker := bytes.Contains(rec, []byte(retail.KindIntervalClosed))
	for step := 0; step < 2; {
		var err error
		switch {
		case step == 0 && marker:
			step++ // markers are for the read-back only
			continue
		case step == 0:
			err = b.main.Append(rec, b.route)
		default:
			err = b.sp.AppendHeadroom(rec, spool.RouteTo(0))
			if errors.Is(err, spool.ErrFull) {
				if n := b.skipped.Add(1); n == 1 || marker { // at most once an interval
					b.log.Warn("ble aggregation: the BLE spool's headroom is full; the aggregate was sent, its write-back skipped (a restart before the day's end sends it again under the same id)",
						"skipped", n)
				}
				return retail.ErrNotWritten
			}
		}
		if err == nil {
			step++
			continue
		}
		b.log.Warn("ble aggregation: append failed; retrying", "error", err.Error())
		select {
		case <-b.stop:
			return errors.New("ble aggregation stopped")
		case <-time.After(time.Second):
		}
	}
	return nil
}

func (b *bleAggregation) run() {
	defer close(b.done)
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		if err := b.f.Poll(); err != nil {
			b.log.Warn("ble aggregation: reading the spool failed; retrying", "error", err.Error())
		}
		select {
		case <-b.stop:
			return
		case <-t.C:
		}
	}
}

// close stops the aggregation: open intervals are not emitted; the next
// start rebuilds them from the spool.
func (b *bleAggregation) close() error {
	close(b.stop)
	<-b.done
	return b.sp.Close()
}

func (b *bleAggregation) register(reg prometheus.Registerer) {
	if reg == nil {
		return
	}
	a := b.f.Aggregator()
	counter := func(name, help string, f func(retail.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f(a.Stats())) })
	}
	reg.MustRegister(
		counter("beacongate_ble_aggregated_sightings_total", "BLE sightings read by the aggregation.", func(s retail.Stats) uint64 { return s.Sightings }),
		counter("beacongate_ble_late_sightings_total", "BLE sightings whose interval had closed: not counted.", func(s retail.Stats) uint64 { return s.Late }),
		counter("beacongate_ble_evicted_devices_total", "Tracked devices evicted at ble.max_devices.", func(s retail.Stats) uint64 { return s.Evicted }),
		counter("beacongate_ble_cells_emitted_total", "Aggregate cells sent.", func(s retail.Stats) uint64 { return s.CellsEmitted }),
		counter("beacongate_ble_cells_merged_total", "Zone cells below k merged into a store's other zones.", func(s retail.Stats) uint64 { return s.CellsMerged }),
		counter("beacongate_ble_cells_suppressed_total", "Cells or counts below k left out.", func(s retail.Stats) uint64 { return s.CellsSuppressed }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "beacongate_ble_writebacks_skipped_total",
			Help: "Aggregates or interval markers sent but not written back to the BLE spool: its headroom was full."},
			func() float64 { return float64(b.skipped.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "beacongate_ble_tracked_devices", Help: "Devices the aggregation tracks now."},
			func() float64 { return float64(a.Stats().Tracked) }),
	)
}

// recordSink is where the Deliverer appends: the pipeline, or the BLE
// aggregation in front of it.
func (a *app) recordSink() delivery.Spool {
	if a.ble != nil {
		return a.ble
	}
	return a.pipeline
}
