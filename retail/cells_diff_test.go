package retail

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
)

// Cell indices are used again once a cell is forgotten (forgetCells); the
// tests here check that this changes nothing that is sent: an aggregator
// that forgets cells and one that never does (keepCells, the behaviour
// before 2026-12-07), fed the same sightings and ticks, emit the same
// bytes. Their device tables hash other cell indices, so the streams keep
// eviction independent of the table's layout: a cap of at most 8 devices
// (evict then sees all of them), or one never reached, and no two
// sightings at the same millisecond (the least recently seen is one
// device); and ticks as often as the gateway's (see cellDiffTicks).

// diffRand is what a differential run draws from: a seeded generator, or
// the fuzzer's bytes.
type diffRand interface {
	intn(n int) int
	done() bool
}

type pcgRand struct{ r *rand.Rand }

func (p pcgRand) intn(n int) int { return p.r.IntN(n) }
func (p pcgRand) done() bool     { return false }

// byteRand draws from b, two bytes a number; 0 once b is used up.
type byteRand struct{ b []byte }

func (r *byteRand) intn(n int) int {
	if len(r.b) == 0 {
		return 0
	}
	var v uint16
	if len(r.b) >= 2 {
		v = binary.LittleEndian.Uint16(r.b)
		r.b = r.b[2:]
	} else {
		v, r.b = uint16(r.b[0]), nil
	}
	return int(v) % n
}
func (r *byteRand) done() bool { return len(r.b) == 0 }

func pick[T any](r diffRand, xs ...T) T { return xs[r.intn(len(xs))] }

// cellDiffOptions draws the options of a differential run: short
// intervals and periods, so that a stream spans many intervals and days.
func cellDiffOptions(r diffRand) Options {
	o := Options{
		Interval:   time.Minute,
		Period:     pick(r, 5*time.Minute, 10*time.Minute, time.Hour),
		Absence:    pick(r, 20*time.Second, 45*time.Second, 2*time.Minute),
		Lateness:   pick(r, 10*time.Second, 30*time.Second, 90*time.Second),
		K:          pick(r, 2, 3, 4, 5),
		EnterAfter: 1 + r.intn(3),
		MaxDevices: pick(r, 1, 2, 3, 5, 8, 1000),
		// Cells refused at the cap: the reference, which keeps cells,
		// holds (and refuses) the same ones.
		MaxCells:    pick(r, 3, 6, 12, 50000, 50000, 50000, 50000, 50000),
		DwellBounds: []time.Duration{10 * time.Second, 30 * time.Second, time.Minute, 3 * time.Minute},
	}
	return o
}

// cellDiffEvent is one step of a stream: a sighting, or a tick at nowMS.
type cellDiffEvent struct {
	tick  bool
	nowMS int64
	s     Sighting
	recv  int64 // when the gateway received the sighting (Follower runs)
}

// cellDiffStream draws a stream of up to n events for options o: stores
// named after their day (so most live one or two days and are forgotten),
// zones that come and go (and "*"), a dozen devices seen in all of them,
// late sightings (within the lateness and beyond), sightings ahead of the
// clock, weak, randomized and anonymous ones, ticks of a second to a day.
func cellDiffStream(r diffRand, o Options, n int) []cellDiffEvent {
	now, iv := t0.UnixMilli(), o.Interval.Milliseconds()
	used := map[int64]bool{}
	var evs []cellDiffEvent
	for range n {
		if r.done() {
			break
		}
		if r.intn(20) < 17 {
			day := now / o.Period.Milliseconds()
			s := Sighting{
				Site:  []byte(pick(r, "s", "s", "s", "t")),
				Store: fmt.Appendf(nil, "st%d-%d", day-int64(r.intn(2)), r.intn(2)),
				Zone:  []byte(pick(r, "a", "a", "b", OtherZones, fmt.Sprintf("z%d", r.intn(6)))),
				RSSI:  -60,
			}
			if r.intn(8) == 0 {
				s.Store = []byte("main")
			}
			switch r.intn(12) {
			case 0:
				s.Randomized = true
				s.Device = []byte("r")
			case 1: // anonymous
			case 2:
				s.RSSI = -90
				s.Device = fmt.Appendf(nil, "d%d", r.intn(12))
			default:
				s.Device = fmt.Appendf(nil, "d%d", r.intn(12))
			}
			at := now - int64(r.intn(int(o.Lateness.Milliseconds()+o.Interval.Milliseconds())))
			if r.intn(20) == 0 {
				// A sensor's clock ahead: into the next interval at most.
				at = (now/iv+1)*iv + int64(r.intn(int(iv))) - iv/2
			}
			for used[at] {
				at++
			}
			used[at] = true
			s.AtMS = at
			evs = append(evs, cellDiffEvent{s: s, recv: now})
			continue
		}
		step := pick(r, time.Second, 10*time.Second, 30*time.Second, time.Minute, 3*time.Minute, 20*time.Minute, o.Period)
		evs, now = cellDiffTicks(evs, now, now+int64(r.intn(int(step/time.Millisecond))), r.intn(6) == 0)
	}
	evs, _ = cellDiffTicks(evs, now, now+o.Period.Milliseconds()+o.Interval.Milliseconds(), false)
	return evs
}

// cellDiffTicks appends the ticks that take the clock from now to to: one
// every 10s, as the gateway polls (every 250ms), for as long as a visit may
// still end or an interval close (6 minutes), then one at to; with gap, only
// the one at to (a backlog read before a tick, a stalled process). Until
// 2026-12-07 such a tick ended the absent devices' visits before closing
// the intervals that were over, which still held the slots: a visit ending
// in another interval lost its dwell when none was free, a visit chosen by
// the device table's order, which hashes cell indices, so the two
// aggregators differed (TestDwellCountedAfterATickGap).
func cellDiffTicks(evs []cellDiffEvent, now, to int64, gap bool) ([]cellDiffEvent, int64) {
	for t := now; t < to; {
		t = min(to, t+10_000)
		if gap || t-now > 6*60*1000 {
			t = to
		}
		evs = append(evs, cellDiffEvent{tick: true, nowMS: t})
	}
	return evs, to
}

// cellDiffAggregators returns an aggregator that forgets cells and one
// that keeps them, with one hash seed, emitting into their slices.
func cellDiffAggregators(t testing.TB, o Options) (cur, ref *Aggregator, curOut, refOut *[][]byte) {
	t.Helper()
	curOut, refOut = new([][]byte), new([][]byte)
	var err error
	if cur, err = New(o, func(rec []byte) { *curOut = append(*curOut, bytes.Clone(rec)) }); err != nil {
		t.Fatal(err)
	}
	if ref, err = New(o, func(rec []byte) { *refOut = append(*refOut, bytes.Clone(rec)) }); err != nil {
		t.Fatal(err)
	}
	ref.keepCells = true
	ref.seed = cur.seed
	return cur, ref, curOut, refOut
}

// runCellDiff feeds the stream drawn from r to both aggregators and
// reports where their aggregates or counters first differ. It returns
// the number of aggregates, how many cells took an index forgotten, and
// how many sightings were refused at MaxCells.
func runCellDiff(t testing.TB, label string, r diffRand, steps int) (emitted, reused, refused int) {
	t.Helper()
	o := cellDiffOptions(r)
	evs := cellDiffStream(r, o, steps)
	cur, ref, curOut, refOut := cellDiffAggregators(t, o)
	check := func(step int) {
		t.Helper()
		if len(*curOut) != len(*refOut) || !equalRecs(*curOut, *refOut) {
			t.Fatalf("%s: options %+v: after event %d of %d:\n%s", label, o, step, len(evs), diffRecs(*curOut, *refOut))
		}
		cs, rs := cur.Stats(), ref.Stats()
		if cs.Cells > o.MaxCells {
			t.Fatalf("%s: options %+v: after event %d: %d cells held", label, o, step, cs.Cells)
		}
		if cs != rs {
			t.Fatalf("%s: options %+v: after event %d: stats %+v, keeping cells %+v", label, o, step, cs, rs)
		}
	}
	for i := range evs {
		e := &evs[i]
		if e.tick {
			cur.TickAt(time.UnixMilli(e.nowMS))
			ref.TickAt(time.UnixMilli(e.nowMS))
			check(i)
			continue
		}
		free := len(cur.freeCells)
		cur.Add(&e.s)
		if len(cur.freeCells) < free {
			reused++
		}
		ref.Add(&e.s)
	}
	check(len(evs))
	return len(*curOut), reused, int(cur.Stats().Refused)
}

func equalRecs(a, b [][]byte) bool {
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// diffRecs describes the first difference of two record sequences.
func diffRecs(cur, ref [][]byte) string {
	for i := range min(len(cur), len(ref)) {
		if !bytes.Equal(cur[i], ref[i]) {
			return fmt.Sprintf("record %d:\nforgetting cells %s\nkeeping cells    %s", i, cur[i], ref[i])
		}
	}
	if len(cur) > len(ref) {
		return fmt.Sprintf("%d records, keeping cells %d; the first extra: %s", len(cur), len(ref), cur[len(ref)])
	}
	return fmt.Sprintf("%d records, keeping cells %d; the first missing: %s", len(cur), len(ref), ref[len(cur)])
}

// TestCellReuseDifferential: over 3000 seeded random streams, the
// aggregator that forgets cells and uses their indices again emits the
// same bytes as one that never forgets a cell, and counts the same
// (late, evicted, merged, suppressed).
func TestCellReuseDifferential(t *testing.T) {
	runs := 3000
	if testing.Short() {
		runs = 300
	}
	emitted, reused, refused := 0, 0, 0
	for seed := range uint64(runs) {
		r := pcgRand{rand.New(rand.NewPCG(seed, 0xce11))}
		n, u, f := runCellDiff(t, fmt.Sprintf("seed %d", seed), r, 400)
		emitted += n
		reused += u
		refused += f
	}
	t.Logf("%d streams: %d aggregates, %d cells on an index used again, %d sightings refused at max_cells", runs, emitted, reused, refused)
	if refused < runs {
		t.Fatalf("%d streams: %d sightings refused at max_cells: the streams test too little", runs, refused)
	}
	// 2.9 and 3.2 aggregates per stream in the 300 streams of -short
	// and the 3000 of a full run: streams whose cap refuses sightings
	// emit fewer.
	if emitted < runs*5/2 || reused < runs*10 {
		t.Fatalf("%d streams: %d aggregates, %d cells on an index used again: the streams test too little", runs, emitted, reused)
	}
}

// FuzzCellReuseDifferential is TestCellReuseDifferential on streams drawn
// from the fuzzer's bytes.
func FuzzCellReuseDifferential(f *testing.F) {
	for seed := range uint64(8) {
		b := make([]byte, 1200)
		r := rand.New(rand.NewPCG(seed, 0xf022))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		runCellDiff(t, "fuzz", &byteRand{b}, 2000)
	})
}

// timedSource is a Source over records in memory with the times they were
// spooled at; a restart reads it again from the cursor committed.
type timedSource struct {
	recs      [][]byte
	at        []int64
	pos       int
	committed uint64
}

func (m *timedSource) Next() ([]byte, int64, bool, error) {
	if m.pos >= len(m.recs) {
		return nil, 0, false, nil
	}
	m.pos++
	return m.recs[m.pos-1], m.at[m.pos-1], true, nil
}
func (m *timedSource) Pos() uint64             { return uint64(m.pos) }
func (m *timedSource) Commit(off uint64) error { m.committed = off; return nil }
func (m *timedSource) add(rec []byte, at int64) {
	m.recs, m.at = append(m.recs, bytes.Clone(rec)), append(m.at, at)
}

// runFollowerCellDiff is runCellDiff through two Followers, each writing
// back to its own stream, restarted together at random ticks (a new
// Follower on the stream from its committed cursor, as after kill -9): the
// streams, sightings and written-back intervals, must stay byte for byte
// the same.
func runFollowerCellDiff(t testing.TB, label string, r diffRand, steps int) (written int) {
	t.Helper()
	o := cellDiffOptions(r)
	evs := cellDiffStream(r, o, steps)
	clk := clock.NewManual(t0)
	o.Clock = clk
	var cur, ref *Follower
	curSrc, refSrc := &timedSource{}, &timedSource{}
	start := func() {
		t.Helper()
		var err error
		curSrc.pos, refSrc.pos = int(curSrc.committed), int(refSrc.committed)
		now := func() int64 { return clk.Now().UnixMilli() }
		if cur, err = NewFollower(o, curSrc, func(rec []byte) error { curSrc.add(rec, now()); return nil }); err != nil {
			t.Fatal(err)
		}
		if ref, err = NewFollower(o, refSrc, func(rec []byte) error { refSrc.add(rec, now()); return nil }); err != nil {
			t.Fatal(err)
		}
		ref.a.keepCells = true
		ref.a.seed = cur.a.seed
	}
	start()
	for i := range evs {
		e := &evs[i]
		if !e.tick {
			s := &e.s
			rec := fmt.Appendf(nil, `{"v":1,"kind":"ble","site":%q,"visitor":%q,"received":%q,"ble":{"store":%q,"zone":%q,"rssi":%d,"randomized":%t,"seen":%q}}`,
				s.Site, s.Device, time.UnixMilli(e.recv).UTC().Format(time.RFC3339), s.Store, s.Zone, s.RSSI, s.Randomized,
				time.UnixMilli(s.AtMS).UTC().Format("2006-01-02T15:04:05.000Z"))
			curSrc.add(rec, e.recv)
			refSrc.add(rec, e.recv)
			continue
		}
		clk.Set(time.UnixMilli(e.nowMS))
		if r.intn(40) == 0 {
			start()
		}
		if err := cur.Poll(); err != nil {
			t.Fatal(err)
		}
		if err := ref.Poll(); err != nil {
			t.Fatal(err)
		}
		if !equalRecs(curSrc.recs, refSrc.recs) || len(curSrc.recs) != len(refSrc.recs) || curSrc.committed != refSrc.committed {
			t.Fatalf("%s: options %+v: after event %d of %d (cursors %d, %d):\n%s", label, o, i, len(evs),
				curSrc.committed, refSrc.committed, diffRecs(curSrc.recs, refSrc.recs))
		}
	}
	for _, rec := range curSrc.recs {
		if bytes.Contains(rec, []byte(`"aggregates":[`)) {
			written++
		}
	}
	return written
}

// TestFollowerCellReuseDifferential: through the Follower, with
// write-backs and restarts that replay the day, forgetting cells changes
// no record written back.
func TestFollowerCellReuseDifferential(t *testing.T) {
	runs := 600
	if testing.Short() {
		runs = 60
	}
	written := 0
	for seed := range uint64(runs) {
		r := pcgRand{rand.New(rand.NewPCG(seed, 0xf011))}
		written += runFollowerCellDiff(t, fmt.Sprintf("seed %d", seed), r, 300)
	}
	t.Logf("%d streams: %d intervals written back with aggregates", runs, written)
	if written < runs {
		t.Fatalf("%d streams: %d intervals written back with aggregates: the streams test too little", runs, written)
	}
}
