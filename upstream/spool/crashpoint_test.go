package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
)

// The tests here stop the spool at every point between two file operations
// of its segment work (a roll taking the reserve, a delivered segment
// retired, zeroed and renamed to the reserve or freed, the reserve
// written, Close's own freeing and directory sync), copy its directory
// there as a kill -9 would leave it, and open the copy: every acknowledged
// record after the copy's cursor must be read once, in order, and nothing
// delivered or torn. Graceful Close is raced with the same points.

// crashBound bounds every wait of these tests for the background
// goroutine; no outcome depends on it.
const crashBound = 30 * time.Second

// goid returns the calling goroutine's id.
func goid() uint64 {
	var b [64]byte
	n := runtime.Stack(b[:], false)
	f := strings.Fields(string(b[:n]))
	id, _ := strconv.ParseUint(f[1], 10, 64)
	return id
}

// waitInCall waits until goroutine gid is in the function fn (as the
// runtime prints it, "(*Spool).stopBackground"), and reports true; false
// if done is closed first or crashBound passes.
func waitInCall(gid uint64, fn string, done <-chan struct{}) bool {
	head := fmt.Sprintf("goroutine %d [", gid)
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(crashBound)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return false
		default:
		}
		n := runtime.Stack(buf, true)
		for _, g := range strings.Split(string(buf[:n]), "\n\n") {
			if strings.HasPrefix(g, head) && strings.Contains(g, "/upstream/spool."+fn+"(") {
				return true
			}
		}
		time.Sleep(100 * time.Microsecond)
	}
	return false
}

// copyDir copies the regular files of the spool directory src (and of its
// quarantine folder) to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	for _, sub := range []string{"", quarantineDir} {
		ents, err := os.ReadDir(filepath.Join(src, sub))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dst, sub), 0o700); err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if !e.Type().IsRegular() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(src, sub, e.Name()))
			if errors.Is(err, os.ErrNotExist) {
				continue // renamed meanwhile by a goroutine not stopped
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dst, sub, e.Name()), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// crashSnap is a copy of the spool directory and what had been
// acknowledged when it was taken.
type crashSnap struct {
	at    string // the hook, and who was stopped there
	dir   string
	acked int // acked[:acked] were acknowledged
}

// readRec is a record a destination read: where its frame starts, its id.
type readRec struct {
	start uint64
	id    int
}

// crashRig drives a spool from the test goroutine (appends, reads,
// commits) and stops its background goroutine at each hook until the test
// goroutine, between two of its own operations, has copied the directory.
// Hooks that run on the test goroutine (a roll, a retire in Commit, the
// steps of Close) copy it at once.
type crashRig struct {
	t      *testing.T
	o      Options
	s      *Spool
	testG  uint64
	live   atomic.Bool   // hooks act (not while Open runs)
	parked chan string   // the background goroutine stopped at a hook
	resume chan struct{} // ... and goes on
	free   chan struct{} // closed: the background goroutine no longer stops
	freed  sync.Once
	snapOn func(at string) bool // which hooks to copy at; nil: all

	acked []int
	read  [2][]readRec
	snaps []crashSnap
	ops   map[string]int // copies taken per hook
	// closeAt, when > 0, is the background stop at which closeRace is
	// called instead of a copy.
	closeAt   int
	stops     int
	closeRace func()
}

// crashOpts: two destinations ("a" gets every record, "b" the even ones),
// 8 KiB segments in process durability, where delivered segments are
// recycled; the records stamped by a pinned clock.
func crashOpts(dir string) Options {
	return Options{Dir: dir, Destinations: []string{"a", "b"}, SegmentBytes: 8 << 10, MaxRecordBytes: 4 << 10,
		Clock: clock.Fixed(clocktest.Golden)}
}

func crashRoute(id int) Route {
	if id%2 == 0 {
		return 3
	}
	return 1
}

func newCrashRig(t *testing.T, o Options) *crashRig {
	rig := &crashRig{t: t, o: o, testG: goid(), parked: make(chan string), resume: make(chan struct{}),
		free: make(chan struct{}), ops: map[string]int{}}
	rig.o.slowOp = rig.hook
	rig.o.writeCheck = func(n int64) error {
		// A roll: the segment's header (a segment created anew), or the
		// first frames into a segment just started (from the reserve).
		if goid() == rig.testG && rig.live.Load() && (n == int64(len(rig.s.header)) || rig.s.curSize == int64(len(rig.s.header))) {
			rig.snapshot("roll, first write", rig.t.TempDir())
		}
		return nil
	}
	s, err := Open(rig.o)
	if err != nil {
		t.Fatal(err)
	}
	rig.s = s
	rig.live.Store(true)
	t.Cleanup(func() {
		rig.release()
		s.Close()
	})
	return rig
}

func (rig *crashRig) hook(op string) {
	if !rig.live.Load() {
		return
	}
	if goid() == rig.testG {
		rig.snapshot(op+" (test goroutine)", rig.t.TempDir())
		return
	}
	select {
	case rig.parked <- op:
		<-rig.resume
	case <-rig.free:
	}
}

// release lets the background goroutine run free.
func (rig *crashRig) release() { rig.freed.Do(func() { close(rig.free) }) }

// snapshot copies the spool's directory to dir now.
func (rig *crashRig) snapshot(at, dir string) {
	if rig.snapOn != nil && !rig.snapOn(at) {
		return
	}
	copyDir(rig.t, rig.s.dir, dir)
	rig.snaps = append(rig.snaps, crashSnap{at: at, dir: dir, acked: len(rig.acked)})
	rig.ops[at]++
}

// service wakes the background goroutine and copies the directory at each
// hook it stops at, until its round is over.
func (rig *crashRig) service() {
	rig.s.wake()
	timeout := time.NewTimer(crashBound)
	defer timeout.Stop()
	for {
		select {
		case op := <-rig.parked:
			rig.stops++
			if rig.closeAt > 0 && rig.stops == rig.closeAt {
				rig.closeRace() // resumes the background goroutine itself
				return
			}
			if op != "idle" {
				rig.snapshot(op+" (background)", rig.t.TempDir())
			}
			rig.resume <- struct{}{}
			if op == "idle" {
				return
			}
		case <-timeout.C:
			rig.t.Fatal("the background goroutine never finished its round")
		}
	}
}

func (rig *crashRig) append(id int) {
	if err := rig.s.Append(rec(id), crashRoute(id)); err != nil {
		rig.t.Fatal(err)
	}
	rig.acked = append(rig.acked, id)
}

// deliver reads what destination i can read and commits it.
func (rig *crashRig) deliver(i int) {
	r := rig.s.Reader(i)
	for {
		b, _, ok, err := r.Next()
		if err != nil {
			rig.t.Fatal(err)
		}
		if !ok {
			break
		}
		// A record's frame starts at or after the position before Next
		// (headers and other destinations' frames are skipped): the
		// position after it less its frame is its start.
		start := r.Pos() - uint64(frameHeaderLen+len(b))
		rig.read[i] = append(rig.read[i], readRec{start, recID(rig.t, b)})
	}
	if err := r.Commit(r.Pos()); err != nil {
		rig.t.Fatal(err)
	}
}

// workload appends n records from id from on, delivering to "a" often and
// to "b" now and then (so that several segments are retired at once, the
// older freed, the newest recycled), stopping the background goroutine at
// each hook.
func (rig *crashRig) workload(from, n int) {
	for i := from; i < from+n; i++ {
		rig.append(i)
		if i%7 == 6 {
			rig.deliver(0)
			rig.service()
		}
		if i%23 == 22 {
			rig.deliver(1)
			rig.service()
		}
		if rig.closeAt > 0 && rig.stops >= rig.closeAt {
			return
		}
	}
}

// want returns the ids destination i must read from a spool holding
// acked[:n] whose cursor for i is at c: those routed to it, acknowledged,
// and not delivered before c.
func (rig *crashRig) want(i, n int, c uint64) []int {
	delivered := map[int]bool{}
	for _, r := range rig.read[i] {
		if r.start < c {
			delivered[r.id] = true
		}
	}
	var ids []int
	for _, id := range rig.acked[:n] {
		if crashRoute(id).Has(i) && !delivered[id] {
			ids = append(ids, id)
		}
	}
	return ids
}

// cursorIn returns the committed offset of destination name in the spool
// directory dir (0 without a cursor).
func cursorIn(t *testing.T, dir, name string) uint64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name+cursorSuffix))
	if errors.Is(err, os.ErrNotExist) || len(b) == 0 {
		return 0
	}
	off, ok := parseCursor(b)
	if !ok {
		t.Fatalf("damaged cursor %s", name)
	}
	return off
}

// checkReopened opens the spool in dir, as a restart after the snapshot
// would, and checks that every destination reads exactly want (its
// acknowledged records after its cursor, in order), that nothing was
// found torn or damaged, and that no retired segment or older reserve is
// left. Then it appends more records, closes, opens again: the old records
// and the new ones are read, once each.
func checkReopened(t *testing.T, o Options, dir string, want [2][]int) {
	t.Helper()
	o.Dir, o.slowOp, o.writeCheck = dir, nil, nil
	s, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if got := s.TornBytes(); got != 0 {
		t.Errorf("torn bytes %d", got)
	}
	if _, err := os.Stat(filepath.Join(dir, quarantineDir)); err == nil {
		t.Errorf("Open put something in quarantine")
	}
	for i := range 2 {
		if got := drain(t, s, i); !equalInts(got, want[i]) {
			t.Fatalf("destination %s read %v, want %v", o.Destinations[i], got, want[i])
		}
		if c := s.Corrupt(i); c != 0 {
			t.Errorf("destination %s: %d corrupt records", o.Destinations[i], c)
		}
	}
	// The restarted spool works on: two rolls, a close, a third start.
	const more = 1_000_000
	for id := more; id < more+50; id++ {
		if err := s.Append(rec(id), crashRoute(id)); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if crashRoute(id).Has(i) {
				want[i] = append(want[i], id)
			}
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Open removed what the copy held half deleted, Close freed what this
	// run retired (Open retires what the cursors passed).
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), deletedSuffix) {
			t.Errorf("%s left after a restart and Close", e.Name())
		}
	}
	s, err = Open(o)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer s.Close()
	// An older run's recycled reserve is removed, not used: the reserve
	// holds this run's header alone.
	if fi, err := os.Stat(s.reservePath); err != nil || fi.Size() != int64(len(s.header)) {
		t.Errorf("reserve after Open: %v, %v; want this run's header (%d bytes)", fi, err, len(s.header))
	}
	for i := range 2 {
		if got := drain(t, s, i); !equalInts(got, want[i]) {
			t.Fatalf("after a second restart, destination %s read %v, want %v", o.Destinations[i], got, want[i])
		}
	}
}

// checkSnap checks a copy taken while running.
func (rig *crashRig) checkSnap(sn crashSnap) {
	t := rig.t
	t.Helper()
	var want [2][]int
	for i, name := range rig.o.Destinations {
		want[i] = rig.want(i, sn.acked, cursorIn(t, sn.dir, name))
	}
	t.Run(sn.at, func(t *testing.T) { checkReopened(t, rig.o, sn.dir, want) })
}

// TestKill9AtSegmentWork: a copy of the spool directory taken at every
// point between two file operations of the segment work (see the hooks of
// Options.slowOp, and the first write into a segment after a roll), as a
// kill -9 there would leave it, opens with every acknowledged record after
// its cursors, once and in order, nothing torn or quarantined, no retired
// segment or older reserve left; and the spool works on from there.
func TestKill9AtSegmentWork(t *testing.T) {
	rig := newCrashRig(t, crashOpts(t.TempDir()))
	rig.workload(0, 240)
	rig.service()
	for _, op := range []string{"roll, first write", "retire (test goroutine)", "recycle (background)",
		"step (background)", "recycled (background)", "remove (background)", "reserve (background)"} {
		if rig.ops[op] == 0 {
			t.Errorf("no copy taken at %q: the test checks less than it says (%v)", op, rig.ops)
		}
	}
	t.Logf("%d copies: %v", len(rig.snaps), rig.ops)
	for _, sn := range rig.snaps {
		rig.checkSnap(sn)
	}
}

// TestCloseRacesSegmentWork: Close while the background goroutine is
// stopped at each point of its segment work (a recycle half done, a
// segment half freed, the reserve being written), with records appended
// meanwhile: after Close returns, a restart reads every acknowledged
// record after the cursors once, in order. A copy taken at each of
// Close's own steps (freeing what was retired, syncing the directory)
// must open the same way: a kill -9 during Close.
func TestCloseRacesSegmentWork(t *testing.T) {
	// How many times the background goroutine stops in the whole run.
	ref := newCrashRig(t, crashOpts(t.TempDir()))
	ref.snapOn = func(string) bool { return false }
	ref.workload(0, 120)
	stops := ref.stops
	if stops < 20 {
		t.Fatalf("the background goroutine stopped only %d times", stops)
	}
	for k := 1; k <= stops; k++ {
		if testing.Short() && k%4 != 1 {
			continue // a quarter of the stops: each costs a few directory fsyncs
		}
		t.Run(fmt.Sprint("stop", k), func(t *testing.T) { testCloseAtStop(t, k) })
	}
}

func testCloseAtStop(t *testing.T, k int) {
	dir := t.TempDir()
	rig := newCrashRig(t, crashOpts(dir))
	var inClose atomic.Bool // written by the test goroutine, read by hooks on others
	rig.snapOn = func(at string) bool {
		return inClose.Load() && !strings.HasPrefix(at, "roll") || strings.HasSuffix(at, "in Close)")
	}
	rig.closeAt = k
	var closeErr error
	rig.closeRace = func() {
		// Appends from another goroutine: those acknowledged must all be
		// read after the restart; those refused (ErrClosed), none.
		appended := make(chan []int)
		go func() {
			var ok []int
			for id := 500_000; ; id++ {
				err := rig.s.Append(rec(id), crashRoute(id))
				if err == nil {
					ok = append(ok, id)
					continue
				}
				if !errors.Is(err, ErrClosed) {
					t.Errorf("Append during Close: %v", err)
				}
				appended <- ok
				return
			}
		}()
		// The background goroutine is stopped at a hook, in its round.
		// Close must wait for that round to end: the closing goroutine
		// is found waiting for it (stopBackground) before the background
		// goroutine is let go on, at each of its stops, and the
		// directory is copied there (a kill -9 during Close). Close runs
		// on the test goroutine: its own hooks copy it too. Nothing is
		// appended once a hook runs in Close, so those copies hold every
		// acknowledged record.
		closed := make(chan struct{})
		helped := make(chan struct{})
		go func() {
			defer close(helped)
			for {
				if !waitInCall(rig.testG, "(*Spool).stopBackground", closed) {
					t.Error("Close did not wait for the background goroutine's round (it returned, or it waits elsewhere)")
					rig.release()
					rig.resume <- struct{}{}
					return
				}
				rig.resume <- struct{}{}
				select {
				case op := <-rig.parked:
					rig.snapshot(op+" (background, in Close)", t.TempDir())
				case <-rig.s.bgDone:
					return
				}
			}
		}()
		inClose.Store(true)
		closeErr = rig.s.Close()
		inClose.Store(false)
		select {
		case <-rig.s.bgDone:
		default:
			t.Error("Close returned before the background goroutine ended")
		}
		close(closed)
		<-helped
		rig.release()
		rig.acked = append(rig.acked, <-appended...)
	}
	rig.workload(0, 120)
	if rig.stops < k {
		t.Fatalf("the background goroutine stopped %d times, not %d", rig.stops, k)
	}
	if closeErr != nil {
		t.Fatalf("Close: %v", closeErr)
	}
	for _, sn := range rig.snaps {
		sn.acked = len(rig.acked)
		rig.checkSnap(sn)
	}
	t.Logf("copies in Close: %v", rig.ops)
	var want [2][]int
	for i, name := range rig.o.Destinations {
		want[i] = rig.want(i, len(rig.acked), cursorIn(t, dir, name))
	}
	checkReopened(t, rig.o, dir, want)
}
