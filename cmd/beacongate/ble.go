package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
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
type bleAggregation struct {
	sp    *spool.Spool
	main  *upstream.Pipeline
	route upstream.Route
	f     *retail.Follower
	log   *slog.Logger
	stop  chan struct{}
	done  chan struct{}
}

// pollEvery is how often the aggregation reads its spool and the clock.
const pollEvery = 250 * time.Millisecond

func openBLEAggregation(cfg *config.Config, main *upstream.Pipeline, clk clock.Clock, reg prometheus.Registerer, log *slog.Logger) (*bleAggregation, error) {
	so := spool.Options{
		Dir:          filepath.Join(cfg.Server.DataDir, "ble-spool"),
		Destinations: []string{"aggregation"},
		MaxBytes:     int64(cfg.Spool.MaxBytes),
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
// destination, then back to the aggregation's spool. Each append is
// retried until it succeeds or the gateway stops, so a full pipeline
// delays aggregates and loses none; only a kill between the two appends
// can send one aggregate twice (the read-back then misses it).
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
			err = b.sp.Append(rec, spool.RouteTo(0))
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
