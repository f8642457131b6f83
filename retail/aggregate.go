package retail

import (
	"errors"
	"hash/maphash"
	"math/bits"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/beacongate/beacongate/clock"
)

// Options configures an Aggregator. The zero value of a field takes the
// default named beside it.
type Options struct {
	Interval time.Duration // aggregation interval; 15m
	Absence  time.Duration // a visit ends this long after its last strong sighting; 5m
	Lateness time.Duration // an interval closes this long after its end; 2m
	Period   time.Duration // new vs returning is judged within this period (UTC-aligned); 24h
	// EnterRSSI: a sighting at or above this RSSI (dBm) is presence; -75
	// when nil (0 dBm is a threshold like any other, so 0 cannot mean
	// unset).
	EnterRSSI  *int16
	EnterAfter int // strong sightings within Absence that start a visit; 2
	K          int // minimum count of any emitted cell; 5
	MaxDevices int // cap on tracked devices; 100000
	// MaxCells caps the cells (site, store, zone) held at once: those the
	// open intervals count and those tracked devices are in; 50000. A
	// sighting that would add one more is refused (Stats.Refused), and
	// so, until its interval closes, is every sighting of a cell the
	// interval has no sighting of yet (see cell).
	MaxCells    int
	DwellBounds []time.Duration // dwell histogram upper bounds; 1m, 5m, 15m, 30m, 1h (and above)
	Clock       clock.Clock     // closes intervals; clock.Real when nil
	// MaxRecordBytes bounds the records a Follower writes back (the
	// stream's longest record); 1 MiB, the spool's default.
	MaxRecordBytes int
	// Instance names the gateway instance that aggregates (the gateway:
	// its data directory's id), mixed into each aggregate's id: two
	// instances that both take pings of a store (a balancer spreading
	// them) send partial counts of the same cell, which must not look like
	// copies of one record to a bus or a consumer that de-duplicates on
	// the id (JetStream drops a second message with the same Nats-Msg-Id).
	// "" leaves it out (the ids of earlier versions).
	Instance string
}

// Defaults of Options.
const (
	DefaultInterval   = 15 * time.Minute
	DefaultAbsence    = 5 * time.Minute
	DefaultLateness   = 2 * time.Minute
	DefaultPeriod     = 24 * time.Hour
	DefaultEnterRSSI  = -75
	DefaultK          = 5
	DefaultEnterAfter = 2 // one strong sighting may be a neighbouring zone's noise
	DefaultMaxDevices = 100000
	DefaultMaxCells   = 50000
	// MaxMaxCells bounds MaxCells (a cell index is 32 bits; 16M cells
	// are some 8 GB).
	MaxMaxCells = 1 << 24
	// DefaultMaxRecordBytes is spool.DefaultMaxRecordBytes.
	DefaultMaxRecordBytes = 1 << 20
)

// DefaultDwellBounds are the default dwell histogram bucket upper bounds;
// a last bucket holds longer visits.
var DefaultDwellBounds = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour}

// maxBuckets bounds the dwell histogram so counters are a fixed array.
const maxBuckets = 8

// slots is how many intervals can be open at once: the current one, the
// ones still waiting for late sightings (Lateness < Interval keeps it at
// 2), one a sensor clock ahead reaches, and after a restart the ones open
// at the stop (see slotFor).
const slots = 4

func (o *Options) fill() error {
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.Absence == 0 {
		o.Absence = DefaultAbsence
	}
	if o.Lateness == 0 {
		o.Lateness = DefaultLateness
	}
	if o.Period == 0 {
		o.Period = DefaultPeriod
	}
	if o.EnterRSSI == nil {
		rssi := int16(DefaultEnterRSSI)
		o.EnterRSSI = &rssi
	}
	if o.K == 0 {
		o.K = DefaultK
	}
	if o.EnterAfter == 0 {
		o.EnterAfter = DefaultEnterAfter
	}
	if o.MaxDevices == 0 {
		o.MaxDevices = DefaultMaxDevices
	}
	if o.MaxCells == 0 {
		o.MaxCells = DefaultMaxCells
	}
	if o.MaxRecordBytes == 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if o.DwellBounds == nil {
		o.DwellBounds = DefaultDwellBounds
	}
	switch {
	case o.Interval < time.Second:
		return errors.New("retail: interval must be at least 1s")
	case o.Lateness >= time.Duration(slots-2)*o.Interval:
		return errors.New("retail: lateness must be shorter than twice the interval")
	case o.Period < o.Interval || o.Period%o.Interval != 0:
		return errors.New("retail: period must be a whole number of intervals")
	case o.EnterAfter < 1 || o.EnterAfter > 255:
		return errors.New("retail: enter_after must be 1..255")
	case *o.EnterRSSI < -127 || *o.EnterRSSI > 20:
		return errors.New("retail: enter_rssi must be -127..20")
	case o.K < 1:
		return errors.New("retail: k must be at least 1")
	case o.MaxDevices < 1 || o.MaxDevices > 1<<26:
		return errors.New("retail: max_devices must be 1..67108864")
	case o.MaxCells < 1 || o.MaxCells > MaxMaxCells:
		return errors.New("retail: max_cells must be 1..16777216")
	case o.MaxRecordBytes < 4<<10:
		return errors.New("retail: max_record_bytes must be at least 4096")
	case len(o.DwellBounds) > maxBuckets-1:
		return errors.New("retail: at most 7 dwell bounds")
	}
	for i, b := range o.DwellBounds {
		if b <= 0 || i > 0 && b <= o.DwellBounds[i-1] {
			return errors.New("retail: dwell bounds must be positive and increasing")
		}
	}
	return nil
}

// Sighting is one BLE sighting as the aggregator needs it. The byte slices
// are only read during Add.
type Sighting struct {
	Site, Store, Zone []byte
	// Device is an opaque, stable id of the device within the period (the
	// record's visitor hash); empty when the sighting has none.
	Device     []byte
	Randomized bool  // a locally administered MAC: counted apart, never a visitor
	RSSI       int16 // dBm
	AtMS       int64 // sighting time, Unix milliseconds
}

// device is what is kept per tracked device and cell: 48 bytes, so with
// the table at most 3/4 full a tracked device costs at most 128 bytes.
type device struct {
	key     uint64 // maphash of (cell, device); 0 marks an empty slot
	startMS int64  // start of the current (or last) visit
	lastMS  int64  // last strong sighting
	cell    uint32
	// countedIv holds the low 32 bits of the latest interval counted as
	// a visitor (valid when counted is not 0): an interval number is
	// Unix seconds with a 1s interval, past 32 bits in 2038. Only
	// intervals still open are compared with it, by their difference
	// (countVisitor), which 32 bits hold exactly.
	countedIv uint32
	period    int32 // period (relative) of the last visit, for new vs returning
	visited   bool  // a visit started in period
	active    bool
	hits      uint8 // strong sightings towards a visit not yet started
	// counted has bit i set when interval countedIv-i counted the device
	// as a visitor: sightings of two open intervals may come in any order
	// (two sensors of a zone, a batch sent late), and the device is one
	// visitor of each however often they alternate. 0: never counted
	// (bit 0, the interval countedIv itself, is set once it was).
	counted uint8
	// started, fresh and returned are counted's like for the devices of
	// an interval's visits (see countStart): bit i set when a visit of
	// the device, a new one, a returning one, started in interval
	// countedIv-i and the device was counted among that interval's
	// devices of its kind. countedIv is valid while any of the four is
	// not 0 (see slide).
	started, fresh, returned uint8
	// dwellBits has bit b set when a visit of the device ended in dwell
	// bucket b of interval dwellIv (its low 32 bits, as countedIv) and
	// the device was counted among that bucket's devices (see countDwell).
	// 0: none counted.
	dwellBits uint8
	dwellIv   uint32
}

// slide moves d's window of intervals (countedIv and the bits of counted,
// started, fresh and returned) to cover interval iv and returns iv's bit;
// false when iv lies 8 or more intervals before the latest the window
// covers. Only intervals still open are asked about (at most slots of
// them), so the 8 intervals the bits cover are enough; one further back is
// never counted again.
func (d *device) slide(iv int64) (uint8, bool) {
	if d.counted|d.started|d.fresh|d.returned == 0 { // never counted
		d.countedIv = uint32(iv)
		return 1, true
	}
	// The difference of the low 32 bits is the intervals' own while
	// they lie within 2^31 intervals of each other (68 years of 1s).
	diff := int64(int32(d.countedIv - uint32(iv)))
	switch {
	case diff < 0: // a later interval than any counted
		if diff > -8 {
			n := uint(-diff)
			d.counted, d.started, d.fresh, d.returned = d.counted<<n, d.started<<n, d.fresh<<n, d.returned<<n
		} else {
			d.counted, d.started, d.fresh, d.returned = 0, 0, 0, 0
		}
		d.countedIv = uint32(iv)
		return 1, true
	case diff >= 8:
		return 0, false
	}
	return 1 << diff, true
}

// countVisitor notes d as a visitor of interval iv and reports whether it
// was not one yet.
func (d *device) countVisitor(iv int64) bool {
	bit, ok := d.slide(iv)
	if !ok || d.counted&bit != 0 {
		return false
	}
	d.counted |= bit
	return true
}

// counts are one cell's counters in one interval.
type counts struct {
	sightings, weak, randomized, anonymous uint32
	visitors, fresh, returning, visits     uint32
	dwell                                  [maxBuckets]uint32
	// devices[b] counts the distinct devices whose shortest visit that
	// ended in the interval (the lowest bucket they have a visit in) fell
	// in bucket b: the devices of buckets i..j add up to at most the
	// distinct devices with a visit in them, never more (see countDwell).
	devices [maxBuckets]uint32
	// The distinct devices behind visits, new and returning (a device
	// makes as many visits as it steps in: see countStart) and behind
	// weak, up to k (see countWeak). A count of fewer is left out however
	// many visits or sightings it holds (see withholdWith).
	visitDevs, freshDevs, returnDevs, weakDevs uint32
	weakHead                                   uint32 // the cell's first weak mark (see countWeak)
}

// Stats are the aggregator's own counters, for metrics.
type Stats struct {
	Sightings uint64 // sightings added
	Late      uint64 // sightings whose interval had closed: not counted
	// LateDwell counts the visits whose dwell went into a later interval
	// than the one they ended in: that interval had closed before the
	// visit's end was known (or, which advance prevents, no slot was
	// free for it).
	LateDwell uint64
	// Refused counts the sightings not counted for want of a cell at
	// Options.MaxCells; Cells is the cells held now.
	Refused          uint64
	Cells            int
	Evicted          uint64 // tracked devices evicted at the cap
	Tracked          int    // devices tracked now
	CellsEmitted     uint64 // aggregate cells emitted
	CellsMerged      uint64 // zone cells below k merged into the store's other-zones cell
	CellsSuppressed  uint64 // cells (or values) below k dropped, and values dropped so that none below k can be derived
	BytesPerDevice   int    // table bytes per device at the cap
	IntervalsEmitted uint64
}

// Aggregator turns sightings into visits and per-interval footfall
// aggregates with minimum counts. It is safe for concurrent use.
type Aggregator struct {
	mu    sync.Mutex
	o     Options
	clk   clock.Clock
	seed  maphash.Seed
	ivMS  int64
	enter int16 // *o.EnterRSSI
	table []device
	mask  uint64
	n     int
	hand  uint64 // eviction scan position

	// cells indexes the cells in use (see forgetCells) by their key;
	// cellKeys holds each index's cell, freeCells the indices forgotten,
	// which new cells take first, and cellUse is forgetCells' scratch.
	cells     map[string]uint32
	cellKeys  []cellKey
	freeCells []uint32
	cellUse   []bool
	scratch   []byte
	// nCells is the cells held (live), at most MaxCells.
	nCells int
	// keepCells, set by tests only, never forgets a cell: the behaviour
	// before cells were forgotten, the reference of TestCellReuseDifferential.
	// A cell it would forget stays in the index, not live: it is not held
	// (nCells), and is held again like a new one.
	keepCells bool

	slot   [slots][]counts
	slotIv [slots]int64 // interval number held by each slot; -1 none
	// capped marks a slot whose interval refused a sighting at MaxCells:
	// it takes no sighting of a cell it has none of yet (see cell).
	capped [slots]bool
	// counted holds, per slot, each (cell, device) counted as a visitor
	// in the slot's interval while the cell was below k: the OtherZones
	// cell counts the distinct devices of the zones merged into it, not
	// the sum of their visitors (one device in k small zones is one
	// visitor).
	counted [slots][]visitorMark
	// starts holds, per slot, each (cell, device) counted among the
	// devices of the visits (and of new, of returning: kinds) of a cell
	// that had fewer than k visitors when the visit started, so the
	// OtherZones cell counts the distinct devices behind its visits as
	// behind its visitors: a cell merged into it had fewer than k
	// visitors, all of whose visits are marked (at most two marks per
	// device and interval, see countStart).
	starts [slots][]visitorMark
	// weak holds, per slot, each (cell, device) of a weak sighting while
	// the cell has fewer than k weak devices: at most k-1 per cell,
	// chained per cell from its counts' weakHead.
	weak     [slots][]weakMark
	closedTo int64 // intervals below this are closed
	sweptMS  int64 // time of the last sweep
	// nextEndMS is at most the earliest time an active visit may end
	// (lastMS + Absence; noEnd when none): exact after a sweep, lowered
	// when a visit starts (a visit's lastMS only grows). advance sweeps
	// for an interval only when a visit may have ended by its end.
	nextEndMS int64
	// closedAny: closeBelow closed an interval since forgetCells last ran
	// (see forget).
	closedAny bool
	stats     counters
	// bytesPerDevice is Stats.BytesPerDevice, fixed at New.
	bytesPerDevice int
	emit           func(rec []byte)
	// skip, when set, tells a cell already emitted before a restart
	// (Follower); closed is told each interval closed, after its cells.
	skip   func(site, store, zone, start string) bool
	closed func(iv int64)
	// withhold, when set, tells an interval that sends no cell at all
	// (Follower: one that may count a device under two keys).
	withhold func(iv int64) bool
	// oldKeysToMS is the latest sighting time hashed under visitor keys
	// that were replaced (Follower: KindKeysChanged); a visit whose last
	// sighting is no later is counted as no device of a dwell bucket
	// (see countDwell). noEnd negated: none.
	oldKeysToMS int64
}

type cellKey struct {
	site, store, zone string
	live              bool // false: forgotten, the index in freeCells
}

// visitorMark is one device counted as a visitor of a cell in an interval:
// dev is a hash of the device alone (not of the cell).
type visitorMark struct {
	dev  uint64
	cell uint32
	// kinds, in starts: markStarted, markFresh, markReturning (0 in
	// counted and weak).
	kinds uint8
}

// weakMark is one device of a cell's weak sightings in an interval; next
// is the index+1 of the cell's next one (0: none).
type weakMark struct {
	dev        uint64
	cell, next uint32
}

// The kinds of a mark in starts: the device started a visit, a new one, a
// returning one, in the cell and interval.
const (
	markStarted uint8 = 1 << iota
	markFresh
	markReturning
)

// New returns an Aggregator that hands each closed interval's aggregate
// records (one JSON object per cell, owned by emit only during the call)
// to emit.
func New(o Options, emit func(rec []byte)) (*Aggregator, error) {
	if err := o.fill(); err != nil {
		return nil, err
	}
	size := 1
	for size*3 < o.MaxDevices*4 {
		size <<= 1
	}
	a := &Aggregator{
		o: o, clk: clock.Or(o.Clock), seed: maphash.MakeSeed(), ivMS: o.Interval.Milliseconds(), enter: *o.EnterRSSI,
		table: make([]device, size), mask: uint64(size - 1),
		cells: map[string]uint32{}, emit: emit, closedTo: -1 << 62, nextEndMS: noEnd, oldKeysToMS: -noEnd,
	}
	for i := range a.slotIv {
		a.slotIv[i] = -1
	}
	a.bytesPerDevice = size * int(deviceSize) / o.MaxDevices
	return a, nil
}

// Options returns the options in force, defaults filled in.
func (a *Aggregator) Options() Options { return a.o }

// Add counts one sighting. It does not allocate once the sighting's cell
// (site, store, zone) has been seen.
func (a *Aggregator) Add(s *Sighting) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stats.sightings.Add(1)
	iv := floorDiv(s.AtMS, a.ivMS)
	if iv < a.closedTo {
		a.stats.late.Add(1)
		return
	}
	si := a.slotFor(iv)
	if si < 0 {
		a.stats.late.Add(1) // beyond the intervals that can be open at once
		return
	}
	cell, ok := a.cell(s, si)
	if !ok {
		a.stats.refused.Add(1)
		return
	}
	c := &a.slot[si]
	for int(cell) >= len(*c) {
		*c = append(*c, counts{})
	}
	k := &(*c)[cell]
	k.sightings++
	switch {
	case s.Randomized:
		k.randomized++
		return
	case len(s.Device) == 0:
		k.anonymous++
		return
	case s.RSSI < a.enter:
		k.weak++
		a.countWeak(k, si, cell, s.Device)
		return
	}
	var h maphash.Hash
	h.SetSeed(a.seed)
	var cb [4]byte
	cb[0], cb[1], cb[2], cb[3] = byte(cell), byte(cell>>8), byte(cell>>16), byte(cell>>24)
	_, _ = h.Write(cb[:])
	_, _ = h.Write(s.Device)
	key := h.Sum64() | 1 // never 0, the empty mark
	d := a.find(key)
	period := int32(floorDiv(s.AtMS, a.o.Period.Milliseconds()))
	if d.key == 0 {
		d = a.insert(key, cell, a.latestOpen())
		// An eviction ends a visit, whose dwell may grow this slot's
		// counts (the evicted device's cell index beyond them) into a
		// new array: k is taken again.
		k = &a.slot[si][cell]
	}
	absence := a.o.Absence.Milliseconds()
	// Absent for Absence or longer ends a visit, here as in sweep, so the
	// result does not depend on when sweeps ran (Follower replays have none).
	if d.active && s.AtMS-d.lastMS >= absence {
		a.end(d, noEnd) // a gap longer than the absence: the old visit ended
	}
	if !d.active && d.hits > 0 && (s.AtMS-d.lastMS >= absence || d.startMS-s.AtMS >= absence) {
		// The earlier strong sightings were too long ago, or (out of
		// order: a sensor's batch sent late) too long after.
		d.hits = 0
	}
	if !d.active && int(d.hits)+1 < a.o.EnterAfter {
		if d.hits == 0 {
			d.startMS, d.lastMS = s.AtMS, s.AtMS
		}
		d.hits++
		// Pending sightings may come in any order: the earliest is the
		// visit's start, the latest its last.
		d.startMS, d.lastMS = min(d.startMS, s.AtMS), max(d.lastMS, s.AtMS)
		return
	}
	if !d.active {
		start := s.AtMS
		if d.hits > 0 {
			start = min(d.startMS, s.AtMS)
		}
		d.hits = 0
		returning := d.period == period && d.visited
		if returning {
			k.returning++
		} else {
			k.fresh++
		}
		a.countStart(d, k, si, cell, iv, returning, string(s.Zone) == OtherZones, s.Device)
		d.period = period
		d.visited = true
		d.active = true
		d.startMS, d.lastMS = start, max(d.lastMS, s.AtMS)
		k.visits++
		// From here on lastMS only grows while the visit lasts.
		a.nextEndMS = min(a.nextEndMS, d.lastMS+absence)
	}
	if s.AtMS > d.lastMS {
		d.lastMS = s.AtMS
	}
	if s.AtMS < d.startMS && d.startMS-s.AtMS < absence {
		// A sighting of the visit that came after later ones (another
		// sensor of the zone, a batch sent late), within the absence
		// before its start: the visit began then, as it would have in
		// order. (One further back is of an earlier visit, not this one.)
		d.startMS = s.AtMS
	}
	firstCount := d.counted == 0
	if !d.countVisitor(iv) {
		return
	}
	// A zone named "*" is always counted in the store's other-zones cell,
	// whose zone it is (see emitInterval): its visitors are marked however
	// many there are, to be counted among that cell's distinct devices.
	other := string(s.Zone) == OtherZones
	if k.visitors >= uint32(a.o.K) && !other {
		k.visitors++ // the cell reached k with distinct devices
		return
	}
	h.Reset()
	_, _ = h.Write(s.Device)
	m := visitorMark{dev: h.Sum64(), cell: cell}
	// A device evicted at MaxDevices and seen again is new to the table:
	// while its cell is below k its mark tells it was counted already,
	// or four shoppers could make a cell of 5 visitors, sent with k 5.
	// (Looked up only for a device's first count, once one was evicted.)
	if firstCount && a.stats.evicted.Load() > 0 && slices.Contains(a.counted[si], m) {
		return
	}
	k.visitors++
	// Only a cell that ends the interval below k is merged into "*",
	// and one that reached k never falls back: its marks would never
	// be read. So a cell keeps at most k-1, and the marks stay bounded
	// by the cells, not by the interval's visitors (but for a zone named
	// "*", which is always merged: at most its interval's visitors).
	if k.visitors < uint32(a.o.K) || other {
		a.counted[si] = append(a.counted[si], m)
	}
}

// Tick ends the visits whose devices have been absent long enough and
// emits the intervals whose end lies Lateness behind the clock.
func (a *Aggregator) Tick() {
	a.TickAt(a.clk.Now())
}

// TickAt is Tick at now.
func (a *Aggregator) TickAt(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	nowMS := now.UnixMilli()
	closeTo := floorDiv(nowMS-a.o.Lateness.Milliseconds(), a.ivMS) // intervals below this are closed
	a.advance(closeTo, nowMS)
	// A sweep walks the whole table: at most once per tenth of the
	// absence, which bounds how late the end of a visit in the current
	// interval is noticed (advance ends those of earlier intervals).
	if nowMS-a.sweptMS >= a.o.Absence.Milliseconds()/10 {
		a.sweep(nowMS)
		a.sweptMS = nowMS
	}
	a.closeBelow(closeTo)
	a.forget()
}

// noEnd is a time (and an interval) after every other.
const noEnd = int64(1) << 62

// advance closes the intervals below closeTo and ends the visits that
// ended before the interval of nowMS, in time order, one interval at a
// time: the visits that ended in an interval are ended (their dwell goes
// into it) before it closes, and before any visit that ended in a later
// one. So a sweep never needs a slot for more than one interval, and an
// interval that is over frees its slot before a visit ending after it
// needs one. Ending every absent visit at once, before closing (as until
// 2026-12-07), needed a slot for each interval they ended in while the
// intervals about to close still held theirs: after a gap between ticks
// (a backlog read first, a restart reading the day again, a stalled
// process) a visit found none and lost its dwell, which visit depending
// on the device table's order, that is on the hash seed. Only intervals
// that hold a slot or in which a visit may end are visited, a sweep each
// at most (none when nextEndMS says no visit ended by its end).
func (a *Aggregator) advance(closeTo, nowMS int64) {
	from := a.closedTo
	for {
		j := noEnd
		for _, v := range a.slotIv {
			if v >= from && v < j {
				j = v
			}
		}
		if a.nextEndMS < noEnd {
			j = min(j, floorDiv(a.nextEndMS, a.ivMS))
		}
		if j == noEnd {
			return
		}
		j = max(j, from)
		last := (j+1)*a.ivMS - 1 // the interval's last millisecond
		if j >= closeTo && last >= nowMS {
			return
		}
		if t := min(last, nowMS); a.nextEndMS <= t {
			a.sweep(t) // ends visits in interval j only (or in closedTo, j too)
		}
		if j < closeTo {
			a.closeBelow(j + 1)
		}
		from = j + 1
	}
}

// forget runs forgetCells once intervals were closed.
func (a *Aggregator) forget() {
	if a.closedAny {
		a.forgetCells()
	}
	a.closedAny = false
}

// Flush closes every open interval (at shutdown, or to end a test),
// ending all visits first.
func (a *Aggregator) Flush() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.advance(noEnd, noEnd)
	a.sweep(noEnd)
	a.closeBelow(noEnd >> 1)
	a.forget()
}

// Stats returns the aggregator's counters. It does not take the
// aggregator's lock, which is held while emit runs: a metrics scrape never
// waits for an emit that waits for space (the Follower's append retries).
func (a *Aggregator) Stats() Stats {
	c := &a.stats
	return Stats{
		Sightings: c.sightings.Load(), Late: c.late.Load(), LateDwell: c.lateDwell.Load(), Evicted: c.evicted.Load(),
		Tracked: int(c.tracked.Load()), Refused: c.refused.Load(), Cells: int(c.cells.Load()),
		CellsEmitted: c.cellsEmitted.Load(), CellsMerged: c.cellsMerged.Load(), CellsSuppressed: c.cellsSuppressed.Load(),
		BytesPerDevice: a.bytesPerDevice, IntervalsEmitted: c.intervalsEmitted.Load(),
	}
}

// counters are Stats as the aggregator keeps them: atomics, read without
// its lock (see Stats), written under it.
type counters struct {
	sightings, late, lateDwell, evicted        atomic.Uint64
	cellsEmitted, cellsMerged, cellsSuppressed atomic.Uint64
	intervalsEmitted, refused                  atomic.Uint64
	tracked, cells                             atomic.Int64
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// slotFor returns the slot of interval iv, claiming a free one when the
// interval is new; -1 when all are held by other open intervals. Any free
// slot will do, not only iv's place in a cycle of slots: the intervals
// open at once need not be consecutive (a restart an hour after a stop
// reads the day again, with the interval open at the stop, before it
// closes anything by the clock, and the sightings taken meanwhile are of
// the current interval).
func (a *Aggregator) slotFor(iv int64) int {
	free := -1
	for i, v := range a.slotIv {
		if v == iv {
			return i
		}
		if v == -1 && free < 0 {
			free = i
		}
	}
	if free >= 0 {
		a.slotIv[free] = iv
	}
	return free
}

// cell returns the index of s's cell, for a sighting of slot si; false
// when the sighting is refused at MaxCells: its cell is not held and
// MaxCells are, or si's interval refused one already and has no sighting of
// the cell yet. So a cell's counts of an interval hold all its sightings of
// the interval or none (besides the dwell of visits that began before):
// never the part of them that came after room was made by cells
// forgotten.
func (a *Aggregator) cell(s *Sighting, si int) (uint32, bool) {
	a.scratch = appendCellKey(a.scratch[:0], s.Site, s.Store, s.Zone)
	c, ok := a.cells[string(a.scratch)]
	if ok && a.cellKeys[c].live {
		if a.capped[si] && (int(c) >= len(a.slot[si]) || a.slot[si][c].sightings == 0) {
			return 0, false
		}
		return c, true
	}
	if a.capped[si] || a.nCells >= a.o.MaxCells {
		a.capped[si] = true
		return 0, false
	}
	a.nCells++
	a.stats.cells.Store(int64(a.nCells))
	if ok { // keepCells: a cell it would have forgotten
		a.cellKeys[c].live = true
		return c, true
	}
	ck := cellKey{string(s.Site), string(s.Store), string(s.Zone), true}
	if n := len(a.freeCells); n > 0 {
		c = a.freeCells[n-1]
		a.freeCells = a.freeCells[:n-1]
		a.cellKeys[c] = ck
	} else {
		c = uint32(len(a.cellKeys))
		a.cellKeys = append(a.cellKeys, ck)
	}
	a.cells[string(a.scratch)] = c
	return c, true
}

// appendCellKey appends the key of cell (site, store, zone) in cells.
func appendCellKey[T string | []byte](b []byte, site, store, zone T) []byte {
	b = strconv.AppendInt(b, int64(len(site)), 10)
	b = append(b, ':')
	b = append(b, site...)
	b = strconv.AppendInt(b, int64(len(store)), 10)
	b = append(b, ':')
	b = append(b, store...)
	return append(b, zone...)
}

// forgetCells forgets the cells no open interval counts and no tracked
// device is in, their indices to be used again, so that the cells kept
// are those of the open intervals and of the day's devices (themselves
// forgotten when the day ends, or evicted at MaxDevices), not every store
// and zone ever sighted. A device's table key hashes its cell's index,
// which is therefore freed only once no device holds it; the visitor marks
// of an open interval are of cells it counts.
func (a *Aggregator) forgetCells() {
	if len(a.cells) == 0 {
		return
	}
	if cap(a.cellUse) < len(a.cellKeys) {
		a.cellUse = make([]bool, len(a.cellKeys))
	}
	use := a.cellUse[:len(a.cellKeys)]
	clear(use)
	for si, iv := range a.slotIv {
		if iv < 0 {
			continue
		}
		for c := range a.slot[si] {
			if !a.slot[si][c].empty() {
				use[c] = true
			}
		}
	}
	for i := range a.table {
		if d := &a.table[i]; d.key != 0 {
			use[d.cell] = true
		}
	}
	for c, ck := range a.cellKeys {
		if use[c] || !ck.live {
			continue
		}
		a.nCells--
		a.stats.cells.Store(int64(a.nCells))
		if a.keepCells {
			a.cellKeys[c].live = false
			continue
		}
		a.scratch = appendCellKey(a.scratch[:0], ck.site, ck.store, ck.zone)
		delete(a.cells, string(a.scratch))
		a.cellKeys[c] = cellKey{}
		a.freeCells = append(a.freeCells, uint32(c))
	}
}

// find returns the device with key, or the empty slot where it would go.
func (a *Aggregator) find(key uint64) *device {
	for i := key & a.mask; ; i = (i + 1) & a.mask {
		d := &a.table[i]
		if d.key == key || d.key == 0 {
			return d
		}
	}
}

// insert adds a device, evicting one first at the cap; an evicted visit's
// dwell goes into interval latest at the latest (see evict).
func (a *Aggregator) insert(key uint64, cell uint32, latest int64) *device {
	if a.n >= a.o.MaxDevices {
		a.evict(latest)
	}
	d := a.find(key)
	*d = device{key: key, cell: cell, period: -1}
	a.n++
	a.stats.tracked.Store(int64(a.n))
	return d
}

// evict removes the least recently seen of the next 8 tracked devices from
// the hand (an approximate LRU at constant cost), ending its visit first so
// its dwell is still counted: in the interval it would end in, or in
// latest (the latest open interval) when that lies beyond. Its end is not
// known; it ends now, and claims no slot for an interval in the future
// (with an absence of several intervals, a few evictions would hold every
// slot, and the current interval's sightings would be refused as late).
func (a *Aggregator) evict(latest int64) {
	var victim uint64
	oldest := int64(1 << 62)
	seen := 0
	for i := a.hand; seen < 8; i = (i + 1) & a.mask {
		if d := &a.table[i]; d.key != 0 {
			seen++
			if d.lastMS < oldest {
				oldest, victim = d.lastMS, i
			}
		}
		a.hand = (i + 1) & a.mask
	}
	if d := &a.table[victim]; d.active {
		a.end(d, latest)
	}
	// Seen again, the device is new to the table, and its visits would
	// count it among a bucket's devices once more: it is counted as none
	// of the buckets it was (its visits stay in them).
	a.uncountDwell(&a.table[victim])
	a.uncountStarts(&a.table[victim])
	a.remove(victim)
	a.stats.evicted.Add(1)
}

// remove empties slot i with backward-shift deletion, so lookups need no
// tombstones.
func (a *Aggregator) remove(i uint64) {
	for {
		a.table[i] = device{}
		j := i
		for {
			j = (j + 1) & a.mask
			d := &a.table[j]
			if d.key == 0 {
				a.n--
				a.stats.tracked.Store(int64(a.n))
				return
			}
			home := d.key & a.mask
			// d may move to i when its home is not in (i, j].
			if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
				a.table[i] = *d
				i = j
				break
			}
		}
	}
}

// end closes d's visit: its dwell goes into the histogram of the interval
// in which its end became known (last sighting + absence), or latest when
// that is earlier.
func (a *Aggregator) end(d *device, latest int64) {
	d.active = false
	iv := min(floorDiv(d.lastMS+a.o.Absence.Milliseconds(), a.ivMS), latest)
	late := false
	if iv < a.closedTo {
		iv, late = a.closedTo, true // its interval closed already: the oldest open one
	}
	si := a.slotFor(iv)
	if si < 0 {
		// Every slot is held by another interval. advance, and latest
		// for an eviction, keep that from happening (a sighting's end
		// of a visit lies in or before its own interval, which holds a
		// slot); should it, the dwell goes into the earliest interval
		// after iv (else the latest), never lost.
		late = true
		for i, v := range a.slotIv {
			if v > iv && (si < 0 || v < a.slotIv[si]) {
				si = i
			}
		}
		if si < 0 {
			for i, v := range a.slotIv {
				if si < 0 || v > a.slotIv[si] {
					si = i
				}
			}
		}
	}
	if late {
		a.stats.lateDwell.Add(1)
	}
	c := &a.slot[si]
	for int(d.cell) >= len(*c) {
		*c = append(*c, counts{})
	}
	b := 0
	dwell := time.Duration(d.lastMS-d.startMS) * time.Millisecond
	for b < len(a.o.DwellBounds) && dwell >= a.o.DwellBounds[b] {
		b++
	}
	(*c)[d.cell].dwell[b]++
	a.countDwell(d, si, b)
}

// countStart counts d among the devices of the visits of interval iv
// (slot si, cell's counts k), where a visit of it just started, and among
// those of the new or (returning) the returning visits, unless it is
// counted there already: one shopper who steps into a zone three times is
// three visits of one device. While the cell has fewer than k visitors (or
// is a zone named OtherZones, always merged) each first count is marked in
// starts too, for the OtherZones cell's distinct devices: it is counted
// before the device as a visitor, so a cell that ends the interval below k
// has all its visits' devices marked, and a cell at k or more is never
// merged.
func (a *Aggregator) countStart(d *device, k *counts, si int, cell uint32, iv int64, returning, other bool, dev []byte) {
	bit, ok := d.slide(iv)
	if !ok {
		return
	}
	var kinds uint8
	if d.started&bit == 0 {
		d.started |= bit
		k.visitDevs++
		kinds |= markStarted
	}
	switch {
	case returning && d.returned&bit == 0:
		d.returned |= bit
		k.returnDevs++
		kinds |= markReturning
	case !returning && d.fresh&bit == 0:
		d.fresh |= bit
		k.freshDevs++
		kinds |= markFresh
	}
	if kinds != 0 && (k.visitors < uint32(a.o.K) || other) {
		a.starts[si] = append(a.starts[si], visitorMark{dev: maphash.Bytes(a.seed, dev), cell: cell, kinds: kinds})
	}
}

// uncountStarts takes d out of the devices of the visits, new and
// returning it was counted among in the intervals still open (d is about
// to be forgotten: seen again, it is new to the table and counted anew).
// Its marks stay: the OtherZones cell counts each device once however
// often it is marked.
func (a *Aggregator) uncountStarts(d *device) {
	if d.started|d.fresh|d.returned == 0 {
		return
	}
	for si, v := range a.slotIv {
		if v < 0 || int(d.cell) >= len(a.slot[si]) {
			continue
		}
		diff := int64(int32(d.countedIv - uint32(v)))
		if diff < 0 || diff >= 8 {
			continue
		}
		bit := uint8(1) << diff
		k := &a.slot[si][d.cell]
		if d.started&bit != 0 && k.visitDevs > 0 {
			k.visitDevs--
		}
		if d.fresh&bit != 0 && k.freshDevs > 0 {
			k.freshDevs--
		}
		if d.returned&bit != 0 && k.returnDevs > 0 {
			k.returnDevs--
		}
	}
	d.started, d.fresh, d.returned = 0, 0, 0
}

// countWeak counts the device of a weak sighting (dev; a weak sighting
// always has one: one without is anonymous) among the weak devices of
// cell's counts k in slot si, up to k devices: a passer-by outside the
// window seen seven times is seven weak sightings of one device.
func (a *Aggregator) countWeak(k *counts, si int, cell uint32, dev []byte) {
	if k.weakDevs >= uint32(a.o.K) {
		return
	}
	h := maphash.Bytes(a.seed, dev)
	marks := a.weak[si]
	for i := k.weakHead; i != 0; i = marks[i-1].next { // at most k-1
		if marks[i-1].dev == h {
			return
		}
	}
	a.weak[si] = append(marks, weakMark{dev: h, cell: cell, next: k.weakHead})
	k.weakHead = uint32(len(a.weak[si]))
	k.weakDevs++
}

// dayMS is a UTC day: a device's visitor hash is the day's.
const dayMS = 24 * 60 * 60 * 1000

// countDwell counts d among the devices of dwell bucket b of slot si's
// interval, where a visit of it just ended, unless it is counted there
// already: the device is counted once per interval, in the lowest bucket
// it has a visit in (so a run of buckets never counts one device twice). A
// visit whose sightings are of another UTC day than the interval is
// counted as no device: that day's visitor hash of the same shopper may
// have a visit there too (a visit of 23:58 ends at 00:03). So is a visit
// whose last sighting may be hashed under visitor keys replaced since
// (oldKeysToMS): its end may lie past the intervals withheld for the
// change (within the absence of the next one), where the same shopper's
// visit under the new key ends too.
func (a *Aggregator) countDwell(d *device, si, b int) {
	iv := a.slotIv[si]
	if floorDiv(d.lastMS, dayMS) != floorDiv(iv*a.ivMS, dayMS) || d.lastMS <= a.oldKeysToMS {
		return
	}
	k := &a.slot[si][d.cell]
	bit := uint8(1) << b
	diff := int32(uint32(iv) - d.dwellIv)
	switch {
	case d.dwellBits == 0 || diff > 0: // the device's first in iv
		d.dwellIv, d.dwellBits = uint32(iv), bit
		k.devices[b]++
	case diff < 0:
		// An earlier interval than one it was counted in (a visit
		// end that found no slot of its own, see end): not counted,
		// since its bits there are not known any more.
	case d.dwellBits&bit == 0:
		low := bits.TrailingZeros8(d.dwellBits)
		d.dwellBits |= bit
		if b < low && k.devices[low] > 0 {
			k.devices[low]--
			k.devices[b]++
		}
	}
}

// uncountDwell takes d out of the devices of the buckets it was counted in,
// while their interval is open (d is about to be forgotten).
func (a *Aggregator) uncountDwell(d *device) {
	if d.dwellBits == 0 {
		return
	}
	for si, v := range a.slotIv {
		if v >= 0 && uint32(v) == d.dwellIv && int(d.cell) < len(a.slot[si]) {
			k := &a.slot[si][d.cell]
			if low := bits.TrailingZeros8(d.dwellBits); k.devices[low] > 0 {
				k.devices[low]--
			}
		}
	}
	d.dwellBits = 0
}

// sweep ends absent devices' visits and forgets the devices whose last
// visit lies in an earlier period (the period's memory is destroyed).
func (a *Aggregator) sweep(nowMS int64) {
	absence := a.o.Absence.Milliseconds()
	period := int32(floorDiv(nowMS, a.o.Period.Milliseconds()))
	next := noEnd
	for i := uint64(0); i <= a.mask; {
		d := &a.table[i]
		if d.key == 0 {
			i++
			continue
		}
		if d.active && nowMS-d.lastMS >= absence {
			a.end(d, noEnd)
		}
		if d.active {
			next = min(next, d.lastMS+absence)
		}
		if !d.active && nowMS-d.lastMS >= absence {
			d.hits = 0
		}
		if !d.active && d.period < period && nowMS-d.lastMS >= absence {
			// Never a device with strong sightings towards a visit
			// still within the absence: forgetting it would make the
			// count depend on when sweeps ran.
			a.remove(i) // i now holds a shifted entry: look again
			continue
		}
		i++
	}
	a.nextEndMS = next
}

const deviceSize = unsafe.Sizeof(device{})

// latestOpen returns the latest interval that holds a slot (noEnd when
// none does).
func (a *Aggregator) latestOpen() int64 {
	latest := int64(-1)
	for _, v := range a.slotIv {
		latest = max(latest, v)
	}
	if latest < 0 {
		return noEnd
	}
	return latest
}
