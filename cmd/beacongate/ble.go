package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/delivery"
	"github.com/beacongate/beacongate/internal/atomicfile"
	"github.com/beacongate/beacongate/retail"
	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/upstream/spool"
)

// bleAggregation runs ble.output: aggregates. BLE sighting records go to
// their own spool (<data_dir>/ble-spool), acknowledged only once there; a
// retail.Follower (the spool's reader "aggregation") aggregates them from
// it and writes each closed interval's aggregates back to that spool, in
// the interval's marker record, which is what makes a restart after a kill
// count every acknowledged sighting once (see retail.Follower). Only what
// is stored there is sent: a second reader of the spool, "delivery", to
// which only the write-backs are routed, hands each aggregate to the
// delivery pipeline (every destination) and commits its cursor once the
// pipeline took them (retail.Forward). A kill between the two sends the
// same stored bytes again after the restart, so an aggregate id never goes
// out with two contents.
//
// That spool is freed only when the Follower's cursor moves (to the day's
// first sighting, once the day before is closed), and the Follower moves
// on only once an interval's aggregates are written back. So the
// write-backs must never wait for space that only they can free: sightings
// may fill the spool only to spool.max_bytes minus a headroom
// (bleHeadroom) that only the write-backs use (refused beyond it with
// ErrFull, a 503, as a full spool always was). A write-back that finds even
// the headroom full is not retried: its aggregates are sent directly (see
// appendAggregate), the aggregation goes on, and acknowledged sightings are
// never stranded.
type bleAggregation struct {
	sp    *spool.Spool
	main  *upstream.Pipeline
	route upstream.Route
	f     *retail.Follower
	log   *slog.Logger
	// send hands one aggregate to the pipeline (main.Append to every
	// destination; a test's stand-in).
	send    func(agg []byte) error
	stop    chan struct{}
	done    chan struct{}
	skipped atomic.Uint64 // write-backs skipped: the headroom was full
	sent    atomic.Uint64 // aggregates the pipeline took
	// refused is the sightings refused at ble.max_cells last logged, and
	// polls the polls since (the log says so at most once a minute).
	refused uint64
	polls   int
	// keys make the sightings' visitor hashes; keyFile records their
	// fingerprint (bleKeyFile), last written as keyRecorded.
	keys        *pseudonym.Keyring
	clk         clock.Clock
	keyFile     string
	keyRecorded bleKeyRecord
}

// The BLE spool's readers: the aggregation reads sightings and its own
// write-backs; delivery reads the write-backs only, and sends them.
const (
	bleReaderAggregation = 0
	bleReaderDelivery    = 1
)

// bleWriteBack is the route of a write-back: both readers.
const bleWriteBack = spool.Route(1<<bleReaderAggregation | 1<<bleReaderDelivery)

// bleHeadroom is the part of the BLE spool's maxBytes that sightings
// cannot use: an eighth, at least 2 MiB (spool.max_bytes is at least
// 16 MiB). It holds the write-backs (about 600 bytes an aggregate cell, 70
// a marker) of the intervals that close once sightings fill the rest,
// until the day's end lets the cursor move: 2 MiB is some 3,000 cells,
// 128 MiB of the default 1 GiB some 200,000. Less its reserve (bleReserve)
// it is larger than the largest record a write-back can be (a frame of
// spool.DefaultMaxRecordBytes), so a write-back refused for want of space
// proves that no sighting can be appended after it either, until the
// cursor moves: what skipping it relies on (see appendAggregate).
func bleHeadroom(maxBytes int64) int64 {
	return max(maxBytes/8, 2*spool.DefaultMaxRecordBytes)
}

// bleReserve is the end of the headroom that only write-backs without
// aggregates use (interval markers written bare, retail.ErrNotWritten):
// 64 KiB, at most an eighth of the headroom. Write-backs with aggregates
// are refused before it. Once one is refused, sightings can no longer be
// appended (the headroom left is larger than any record), so at most the
// intervals open then (4) close before the cursor moves: a few bare
// markers of some 150 bytes, which always fit.
func bleReserve(headroom int64) int64 {
	return min(64<<10, headroom/8)
}

// pollEvery is how often the aggregation reads its spool and the clock.
const pollEvery = 250 * time.Millisecond

func openBLEAggregation(cfg *config.Config, main *upstream.Pipeline, clk clock.Clock, keys *pseudonym.Keyring, reg prometheus.Registerer, log *slog.Logger) (*bleAggregation, error) {
	b, err := newBLEAggregation(cfg, main, clk, keys, log)
	if err != nil {
		return nil, err
	}
	b.register(reg)
	go b.run()
	return b, nil
}

// bleSpoolDir is the BLE spool of ble.output: aggregates.
func bleSpoolDir(cfg *config.Config) string {
	return filepath.Join(cfg.Server.DataDir, config.BLESpoolFolder)
}

// newBLEAggregation opens the BLE spool and its Follower; run starts them.
// keys are the keyring the sightings' visitor hashes are made with (nil in
// tests that do not change keys: only ephemeral mode then writes the
// ble_keys_changed marker).
func newBLEAggregation(cfg *config.Config, main *upstream.Pipeline, clk clock.Clock, keys *pseudonym.Keyring, log *slog.Logger) (*bleAggregation, error) {
	so := spool.Options{
		Dir:          bleSpoolDir(cfg),
		Destinations: []string{bleReaderAggregation: "aggregation", bleReaderDelivery: "delivery"},
		MaxBytes:     int64(cfg.Spool.MaxBytes),
		Headroom:     bleHeadroom(int64(cfg.Spool.MaxBytes)),
		Durability:   spool.DurabilityProcess,
		GatherWindow: cfg.Spool.GatherWindow.D(),
		WhenFull:     spool.FullShed,
		Clock:        clk,
		Logger:       log,
		MetricPrefix: "beacongate_ble", // register adds them: beacongate_ble_spool_size_bytes, ...
	}
	if cfg.Spool.Durability == config.DurabilityFsync {
		so.Durability, so.FsyncMaxDelay = spool.DurabilityFsync, cfg.Spool.FsyncMaxDelay.D()
	}
	sp, err := spool.Open(so)
	if err != nil {
		return nil, fmt.Errorf("ble.output aggregates: %w", err)
	}
	instance, err := dataDirInstance(cfg.Server.DataDir)
	if err != nil {
		sp.Close()
		return nil, fmt.Errorf("ble.output aggregates: %w", err)
	}
	b := &bleAggregation{sp: sp, main: main, log: log, stop: make(chan struct{}), done: make(chan struct{}),
		keys: keys, clk: clock.Or(clk), keyFile: filepath.Join(cfg.Server.DataDir, bleKeyFile)}
	for i := range cfg.Destinations {
		// Every destination but the ad platforms, which take events only:
		// an aggregate would be dead-lettered there as unmappable, every
		// interval.
		if !cfg.Destinations[i].Type.AdPlatform() {
			b.route |= upstream.RouteTo(i)
		}
	}
	b.send = func(agg []byte) error { return b.main.Append(agg, b.route) }
	bl := &cfg.BLE
	enter := int16(bl.EnterRSSI) // -127..20: 0 dBm included
	b.f, err = retail.NewFollower(retail.Options{
		Interval: bl.Interval.D(), Absence: bl.Absence.D(), Lateness: bl.Lateness.D(),
		EnterRSSI: &enter, EnterAfter: bl.EnterAfter, K: bl.K, MaxDevices: bl.MaxDevices, MaxCells: bl.MaxCells, Clock: clk,
		MaxRecordBytes: sp.Options().MaxRecordBytes, Instance: instance,
	}, stoppableSource{Source: sp.Reader(bleReaderAggregation), stop: b.stop}, b.appendAggregate)
	if err != nil {
		sp.Close()
		return nil, fmt.Errorf("ble: %w", err)
	}
	changed, why := cfg.Pseudonym.Mode == config.PseudonymEphemeral, "pseudonym.mode: ephemeral draws new keys at every start"
	if !changed && keys != nil {
		changed, why = b.keyMayHaveChanged()
	}
	if changed {
		// This start's visitor hashes may not join up with those spooled
		// before it (ephemeral keys; another secret or mode than the
		// sightings of the day so far were hashed with): the aggregation
		// must not count a device seen on both sides as two visitors of
		// one interval (retail.KindKeysChanged). Written before any
		// sighting of this start, past the sightings' limit (as a bare
		// marker is), so a spool full of sightings takes it.
		if keys != nil && cfg.Pseudonym.Mode != config.PseudonymEphemeral {
			log.Info("ble aggregation: the intervals open across this start send no cell", "reason", why)
		}
		marker := []byte(`{"v":1,"kind":"` + retail.KindKeysChanged + `"}`)
		if err := sp.AppendUpTo(marker, spool.RouteTo(bleReaderAggregation), sp.Options().MaxBytes); err != nil {
			sp.Close()
			return nil, fmt.Errorf("ble spool: writing the start's marker: %w", err)
		}
	}
	if err := b.recordKey(false); err != nil {
		sp.Close()
		return nil, err
	}
	return b, nil
}

// instanceFile, in server.data_dir, holds the data directory's id: drawn
// at random by the first start that aggregates BLE sightings there, and
// kept, so that a restart on the same directory is the same instance.
const instanceFile = "instance-id"

// dataDirInstance returns the id of the gateway instance whose data
// directory dir is (instanceFile), drawing and writing it when the file
// is absent. The aggregates' ids hold it (retail.Options.Instance): two
// instances that take pings of one store send their partial counts of a
// cell under ids of their own, and one instance sends a cell again (after
// a kill) under the same id.
func dataDirInstance(dir string) (string, error) {
	path := filepath.Join(dir, instanceFile)
	raw, err := os.ReadFile(path)
	if err == nil {
		id := string(bytes.TrimSpace(raw))
		if !validInstanceID(id) {
			return "", fmt.Errorf("%s holds no instance id (16 characters A-Z a-z 0-9 - _): delete it to draw a new one, or restore it from a backup of this data directory", path)
		}
		return id, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("reading the instance id: %w", err)
	}
	var r [12]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("drawing the instance id: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(r[:])
	if err := atomicfile.Write(path, []byte(id+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("writing the instance id: %w", err)
	}
	return id, nil
}

// validInstanceID reports whether id is one dataDirInstance draws: 16
// base64url characters.
func validInstanceID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// bleKeyFile, in server.data_dir, holds a fingerprint of the visitor key
// the gateway hashes BLE sightings with, and its UTC day (bleKeyRecord).
// A start compares it with its own key's, to tell whether the day's
// sightings spooled before it were hashed with another key: another
// pseudonym secret, ephemeral keys before derived ones, or the other way
// round, make one shopper two visitor hashes within a day, as an
// ephemeral restart does.
const bleKeyFile = "ble-visitor-key.json"

// bleKeyRecord is bleKeyFile's content. Closed is set by a gateway that
// stopped (close) on Day: it hashed no sighting of a later day.
type bleKeyRecord struct {
	Day         string `json:"day"`
	Fingerprint string `json:"fingerprint"`
	Closed      bool   `json:"closed,omitempty"`
}

// bleKeyProbe is what the fingerprint hashes as a visitor: a site no
// config can name (it holds a NUL), so it is no visitor hash of anyone.
var bleKeyProbe = [3][]byte{[]byte("beacongate\x00ble-key-fingerprint"), []byte("probe"), []byte("fingerprint")}

// keyFingerprint returns a fingerprint of the visitor key of t's day: the
// first 16 bytes of SHA-256 over the visitor hash of bleKeyProbe, which
// tells two keys apart and gives nothing of the key; "" when the day's
// key cannot be had.
func keyFingerprint(keys *pseudonym.Keyring, t time.Time) string {
	h := keys.AppendVisitorHash(nil, bleKeyProbe[0], bleKeyProbe[1], bleKeyProbe[2], t)
	if len(h) == 0 {
		return ""
	}
	sum := sha256.Sum256(append([]byte("beacongate ble visitor key fingerprint\x00"), h...))
	return hex.EncodeToString(sum[:16])
}

// keyMayHaveChanged tells whether the sightings of today spooled before
// this start may have been hashed with another visitor key than the one
// in use now, and why: when bleKeyFile is missing or unreadable (a first
// start, or one after an upgrade: its spool may hold such sightings), says
// today under another key, or says an earlier day without a stop (a kill
// may have come after the day's first sightings, before they were
// recorded), or when today's key cannot be had.
func (b *bleAggregation) keyMayHaveChanged() (bool, string) {
	now := b.clk.Now().UTC()
	fp := keyFingerprint(b.keys, now)
	if fp == "" {
		return true, "today's visitor key cannot be had"
	}
	raw, err := os.ReadFile(b.keyFile)
	if err != nil {
		return true, "no record of the visitor key the spooled sightings were hashed with (" + bleKeyFile + ")"
	}
	var rec bleKeyRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return true, bleKeyFile + " unreadable"
	}
	switch today := now.Format(time.DateOnly); {
	case rec.Day == today && rec.Fingerprint != fp:
		return true, "today's sightings so far were hashed with another visitor key (pseudonym secret or mode changed)"
	case rec.Day != today && !rec.Closed:
		return true, "the gateway before this start was not stopped, and may have hashed sightings of today with another visitor key"
	}
	return false, ""
}

// recordKey writes bleKeyFile for the day of now, with closed when the
// gateway stops; nothing when it holds that already. It is written at the
// start, before any sighting, at the first poll of each UTC day, and at
// the stop.
func (b *bleAggregation) recordKey(closed bool) error {
	if b.keys == nil {
		return nil
	}
	now := b.clk.Now().UTC()
	day := now.Format(time.DateOnly)
	if day == b.keyRecorded.Day && closed == b.keyRecorded.Closed {
		return nil // a day has one key: its fingerprint is recorded already
	}
	rec := bleKeyRecord{Day: day, Fingerprint: keyFingerprint(b.keys, now), Closed: closed}
	if rec.Fingerprint == "" {
		return nil
	}
	raw, _ := json.Marshal(&rec)
	if err := atomicfile.Write(b.keyFile, append(raw, '\n'), 0o600); err != nil {
		return fmt.Errorf("ble: recording the visitor key's fingerprint: %w", err)
	}
	b.keyRecorded = rec
	return nil
}

// bleKind marks a BLE sighting's record; the closing quote tells it from
// the aggregates' kinds.
var bleKind = []byte(`"kind":"ble"`)

// Append implements gateway.Spool: a BLE sighting's record goes to the
// aggregation's spool, every other record to the pipeline.
func (b *bleAggregation) Append(rec []byte, route upstream.Route) error {
	if head := rec[:min(len(rec), 96)]; bytes.Contains(head, bleKind) {
		return b.sp.Append(rec, spool.RouteTo(bleReaderAggregation))
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
		return b.sp.Enqueue(p, rec, spool.RouteTo(bleReaderAggregation))
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

// Withdraw takes back the records Enqueue took, from the spool they went
// to, when it can (see spool.Spool.Withdraw).
func (b *bleAggregation) Withdraw(p *upstream.Pending) bool {
	if p.Spool() == b.sp {
		return b.sp.Withdraw(p)
	}
	return b.main.Withdraw(p)
}

// Ready tells whether the pipeline accepts writes.
func (b *bleAggregation) Ready() error { return b.main.Ready() }

// sightingsReady tells whether the BLE spool takes sightings: no recent
// disk error, and room for a record below its headroom (what Append
// checks). For /readyz.
func (b *bleAggregation) sightingsReady() error {
	if err := b.sp.Err(); err != nil {
		return fmt.Errorf("ble spool: %w", err)
	}
	if b.sp.Full() {
		return fmt.Errorf("ble spool: %w", spool.ErrFull)
	}
	return nil
}

// appendAggregate writes a record of the Follower (an interval's marker
// with its aggregates, or some of them) back to the aggregation's spool,
// into its headroom (bleHeadroom), routed to both readers: the delivery
// reader sends its aggregates (see step). It does not send them itself.
// A failing disk is retried until the write succeeds or the gateway stops.
//
// A write-back refused because even the headroom is full is not retried:
// its space could only come from the cursor, which moves only once the
// aggregation goes on. Its aggregates are then sent directly (retried like
// the delivery reader's sends), so no acknowledged sighting is lost; what
// is lost is that they were stored before they were sent. Skips are
// counted (beacongate_ble_writebacks_skipped_total) and logged, and told
// to the Follower (retail.ErrNotWritten), which then writes the interval's
// marker without its aggregates: such records, and only they, may use the
// end of the headroom (bleReserve), so the marker is written, and a
// restart computes none of the interval's cells again. Only a restart
// after a split interval's records were skipped and before its marker was
// written computes those cells again (the same ids, normally the same
// counts; with evictions at ble.max_devices possibly others).
func (b *bleAggregation) appendAggregate(rec []byte) error {
	o := b.sp.Options()
	limit := o.MaxBytes - bleReserve(o.Headroom)
	if !bytes.Contains(rec, aggregatesKey) {
		limit = o.MaxBytes // a bare marker: it may use the reserve
	}
	for {
		err := b.sp.AppendUpTo(rec, bleWriteBack, limit)
		if err == nil {
			return nil
		}
		// A record too long (cannot happen: the Follower bounds them) is
		// no better retried.
		if errors.Is(err, spool.ErrFull) || errors.Is(err, spool.ErrInvalidRecord) {
			if n := b.skipped.Add(1); n == 1 || bytes.Contains(rec, []byte(retail.KindIntervalClosed)) { // at most once an interval
				b.log.Warn("ble aggregation: cannot write aggregates back to the BLE spool; they are sent without being written back (their interval's marker is written without them)",
					"error", err.Error(), "skipped", n)
			}
			if err := retail.Aggregates(rec, b.sendRetry); err != nil {
				return err
			}
			return retail.ErrNotWritten
		}
		b.log.Warn("ble aggregation: writing aggregates back failed; retrying", "error", err.Error())
		if !b.pause() {
			return errBLEStopped
		}
	}
}

// aggregatesKey is in every write-back that holds aggregates.
var aggregatesKey = []byte(`"aggregates":`)

var errBLEStopped = errors.New("ble aggregation stopped")

// stoppableSource is the aggregation's reader of its spool, which reads
// nothing more once stop is closed: Next then fails, and the Follower's
// Poll returns at once, with nothing committed, as after a kill. Reading
// the day's sightings again after a restart takes seconds for a spool of
// some hundred MiB; a stop must not wait for it beyond
// server.shutdown_timeout. The next start reads them again.
type stoppableSource struct {
	retail.Source
	stop <-chan struct{}
}

// Next returns the next record, or errBLEStopped once stopping.
func (s stoppableSource) Next() ([]byte, int64, bool, error) {
	select {
	case <-s.stop:
		return nil, 0, false, errBLEStopped
	default:
	}
	return s.Source.Next()
}

// sendRetry hands an aggregate to the pipeline, retried until it takes it
// or the gateway stops: a full pipeline delays aggregates and loses none.
func (b *bleAggregation) sendRetry(agg []byte) error {
	for {
		err := b.send(agg)
		if err == nil {
			b.sent.Add(1)
			return nil
		}
		b.log.Warn("ble aggregation: sending an aggregate failed; retrying", "error", err.Error())
		if !b.pause() {
			return errBLEStopped
		}
	}
}

// pause waits a second before a retry; false when the gateway stops.
func (b *bleAggregation) pause() bool {
	select {
	case <-b.stop:
		return false
	case <-time.After(time.Second):
		return true
	}
}

// step reads the BLE spool: the Follower aggregates what it holds and
// writes back the intervals the clock closes, then the delivery reader
// sends what was written back.
func (b *bleAggregation) step() error {
	err := b.f.Poll()
	if err != nil {
		err = fmt.Errorf("aggregating: %w", err)
	}
	b.polls++
	if kerr := b.recordKey(false); kerr != nil && b.polls%int(time.Minute/pollEvery) == 1 {
		b.log.Warn("ble aggregation: "+kerr.Error()+"; a restart today writes a ble_keys_changed marker", "error", kerr.Error())
	}
	if n := b.f.Aggregator().Stats().Refused; n > b.refused && b.polls >= int(time.Minute/pollEvery) {
		b.log.Warn("ble aggregation: sightings refused at ble.max_cells: their stores or zones are missing from the aggregates",
			"refused", n-b.refused, "max_cells", b.f.Aggregator().Options().MaxCells)
		b.refused, b.polls = n, 0
	}
	if ferr := retail.Forward(b.sp.Reader(bleReaderDelivery), b.sendRetry); ferr != nil && err == nil {
		err = fmt.Errorf("sending: %w", ferr)
	}
	return err
}

func (b *bleAggregation) run() {
	defer close(b.done)
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		if err := b.step(); err != nil && !errors.Is(err, errBLEStopped) {
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
	if err := b.recordKey(true); err != nil {
		b.log.Warn("ble aggregation: " + err.Error())
	}
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
		counter("beacongate_ble_late_dwell_visits_total", "Visits whose dwell went into a later interval than the one they ended in, which had closed before their end was known.", func(s retail.Stats) uint64 { return s.LateDwell }),
		counter("beacongate_ble_refused_sightings_total", "BLE sightings not counted: their store or zone would have been one beyond ble.max_cells (or was not counted yet in an interval that refused one).", func(s retail.Stats) uint64 { return s.Refused }),
		counter("beacongate_ble_evicted_devices_total", "Tracked devices evicted at ble.max_devices.", func(s retail.Stats) uint64 { return s.Evicted }),
		counter("beacongate_ble_cells_emitted_total", "Aggregate cells computed (and written back to the BLE spool to be sent).", func(s retail.Stats) uint64 { return s.CellsEmitted }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "beacongate_ble_cells_sent_total",
			Help: "Aggregate cells the delivery pipeline took (sent again after a kill included)."},
			func() float64 { return float64(b.sent.Load()) }),
		counter("beacongate_ble_cells_merged_total", "Zone cells below k merged into a store's other zones.", func(s retail.Stats) uint64 { return s.CellsMerged }),
		counter("beacongate_ble_cells_suppressed_total", "Cells or counts below k left out.", func(s retail.Stats) uint64 { return s.CellsSuppressed }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "beacongate_ble_writebacks_skipped_total",
			Help: "Aggregate records (an interval's marker, or some of its aggregates) not written back to the BLE spool, its headroom full: their aggregates were sent without being stored."},
			func() float64 { return float64(b.skipped.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "beacongate_ble_tracked_devices", Help: "Devices the aggregation tracks now."},
			func() float64 { return float64(a.Stats().Tracked) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "beacongate_ble_tracked_cells", Help: "Stores and zones (site, store, zone) the aggregation holds now, at most ble.max_cells."},
			func() float64 { return float64(a.Stats().Cells) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "beacongate_ble_spool_sightings_max_bytes",
			Help: "Bytes sightings may fill in the BLE spool (spool.max_bytes less the write-backs' headroom); beyond them a BLE post gets 503 and /readyz 503."},
			func() float64 { o := b.sp.Options(); return float64(o.MaxBytes - o.Headroom) }),
	)
	// The BLE spool's own metrics, as the pipeline spool's but named
	// beacongate_ble_ (beacongate_ble_spool_size_bytes: the day's
	// sightings and their write-backs, beacongate_ble_dropped_records_total,
	// ...): the pipeline spool's series keep their names and labels.
	reg.MustRegister(b.sp.Collectors()...)
}

// recordSink is where the Deliverer appends: the pipeline, or the BLE
// aggregation in front of it.
func (a *app) recordSink() delivery.Spool {
	if a.ble != nil {
		return a.ble
	}
	return a.pipeline
}
