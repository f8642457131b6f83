package spool

import (
	"bytes"
	"errors"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestEnqueueSharesOneWrite: a caller's records enqueued one by one and
// waited for once go out in one group write, in order; appended one by one,
// each waits for a write of its own.
func TestEnqueueSharesOneWrite(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}})
	var p Pending
	for i := range 40 {
		if err := s.Enqueue(&p, rec(i), 1); err != nil {
			t.Fatal(err)
		}
	}
	if p.Len() != 40 {
		t.Fatalf("Len = %d after 40 enqueues", p.Len())
	}
	if got := drain(t, s, 0); len(got) != 0 {
		t.Fatalf("readable before Wait: %v", got)
	}
	if err := s.Wait(&p); err != nil {
		t.Fatal(err)
	}
	if p.Len() != 0 {
		t.Fatalf("Len = %d after Wait", p.Len())
	}
	if w := testutil.ToFloat64(s.m.writes); w != 1 {
		t.Fatalf("%v writes for 40 enqueued records, want 1", w)
	}
	if got := drain(t, s, 0); !equalInts(got, seq(0, 40)) {
		t.Fatalf("read %v", got)
	}
	for i := 40; i < 80; i++ {
		if err := s.Append(rec(i), 1); err != nil {
			t.Fatal(err)
		}
	}
	if w := testutil.ToFloat64(s.m.writes); w != 41 {
		t.Fatalf("%v writes after 40 more Appends, want 41", w)
	}
	if err := s.Wait(&p); err != nil { // an empty Pending
		t.Fatalf("Wait on nothing: %v", err)
	}
}

// openFailing opens a spool whose writes fail with EIO while *fail is set,
// retrying the disk 1 ms after a failure on its pinned clock clk.
func openFailing(t *testing.T) (s *Spool, fail *atomic.Bool, clk *clock.Manual) {
	fail, clk = new(atomic.Bool), clock.NewManual(clocktest.Golden)
	s = openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}, DiskRetryInterval: time.Millisecond, Clock: clk,
		writeCheck: func(int64) error {
			if fail.Load() {
				return syscall.EIO
			}
			return nil
		}})
	return s, fail, clk
}

// TestWaitReportsEarlierGroupFailure: a caller's first record went out in a
// group whose write failed (another caller led it), its last in a later
// group that worked; Wait reports the loss, and counts both records as
// dropped. Judging by the last record's group alone would answer nil for a
// lost record.
func TestWaitReportsEarlierGroupFailure(t *testing.T) {
	s, fail, clk := openFailing(t)
	var mine Pending
	if err := s.Enqueue(&mine, rec(0), 1); err != nil {
		t.Fatal(err)
	}
	fail.Store(true)
	if err := s.Append(rec(1), 1); !errors.Is(err, ErrDisk) { // leads the group holding rec 0
		t.Fatalf("Append during the failure: %v", err)
	}
	fail.Store(false)
	clk.Advance(2 * time.Millisecond) // past DiskRetryInterval
	if err := s.Enqueue(&mine, rec(2), 1); err != nil {
		t.Fatal(err)
	}
	before := s.Dropped(DropDisk)
	if err := s.Wait(&mine); !errors.Is(err, ErrDisk) {
		t.Fatalf("Wait = %v; want the disk error of the first record's group", err)
	}
	if d := s.Dropped(DropDisk) - before; d != 2 {
		t.Fatalf("Wait counted %d records dropped, want 2", d)
	}
	if got := drain(t, s, 0); !equalInts(got, []int{2}) {
		t.Fatalf("read %v; want only the record of the group that worked", got)
	}
}

// TestEnqueueRefusals: a refused record is not added to the caller's
// Pending, and those before it stay there.
func TestEnqueueRefusals(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}})
	var p Pending
	if err := s.Enqueue(&p, rec(0), 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(&p, []byte("two\nlines"), 1); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("Enqueue of two lines: %v", err)
	}
	if p.Len() != 1 {
		t.Fatalf("Len = %d; want 1", p.Len())
	}
	if err := s.Wait(&p); err != nil {
		t.Fatal(err)
	}
	s.CloseAppends()
	if err := s.Enqueue(&p, rec(1), 1); !errors.Is(err, ErrClosed) || p.Len() != 0 {
		t.Fatalf("Enqueue after CloseAppends: %v, Len %d", err, p.Len())
	}
	if got := drain(t, s, 0); !equalInts(got, []int{0}) {
		t.Fatalf("read %v", got)
	}
}

// TestWaitIgnoresLaterGroupFailure: a write that failed after the groups a
// caller's records joined is not theirs to report.
func TestWaitIgnoresLaterGroupFailure(t *testing.T) {
	s, fail, _ := openFailing(t)
	var mine Pending
	if err := s.Enqueue(&mine, rec(0), 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(rec(1), 1); err != nil { // leads the group holding rec 0
		t.Fatal(err)
	}
	fail.Store(true)
	if err := s.Append(rec(2), 1); !errors.Is(err, ErrDisk) {
		t.Fatalf("Append during the failure: %v", err)
	}
	fail.Store(false)
	if err := s.Wait(&mine); err != nil {
		t.Fatalf("Wait = %v; its group was written", err)
	}
	if got := drain(t, s, 0); !equalInts(got, []int{0, 1}) {
		t.Fatalf("read %v", got)
	}
}

// TestPendingStaysWithItsSpool: a Pending holding one spool's records is
// refused by another, which could not tell when they are durable.
func TestPendingStaysWithItsSpool(t *testing.T) {
	a := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}})
	b := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}})
	var p Pending
	if err := a.Enqueue(&p, rec(0), 1); err != nil {
		t.Fatal(err)
	}
	if err := b.Enqueue(&p, rec(1), 1); !errors.Is(err, errOtherSpool) {
		t.Fatalf("Enqueue into another spool: %v", err)
	}
	if err := b.Wait(&p); !errors.Is(err, errOtherSpool) {
		t.Fatalf("Wait on another spool: %v", err)
	}
	if err := a.Wait(&p); err != nil {
		t.Fatal(err)
	}
	if got := drain(t, a, 0); !equalInts(got, []int{0}) {
		t.Fatalf("read %v", got)
	}
}

// TestBlockedEnqueueWritesItsQueue: one caller enqueues more records than a
// small spool holds while a reader delivers. A blocked Enqueue first writes
// what is queued (the caller's own earlier records), so the reader can
// deliver them and free the space it waits for; before, they stayed in the
// write buffer, the full segment could not be rolled and freed, and the
// Enqueue failed with ErrFull after BlockTimeout.
func TestBlockedEnqueueWritesItsQueue(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}, WhenFull: FullBlock,
		BlockTimeout: 500 * time.Millisecond, MaxBytes: 32 << 10, SegmentBytes: 4 << 10, MaxRecordBytes: 1 << 10})
	const n = 200
	stop := make(chan struct{})
	defer close(stop)
	delivered := make(chan [][]byte, 1)
	go func() { // the reader: delivers until it has all n records
		var got [][]byte
		r := s.Reader(0)
		for len(got) < n {
			b, _, ok, err := r.Next()
			if err != nil {
				break
			}
			if ok {
				got = append(got, bytes.Clone(b))
				continue
			}
			r.Commit(r.Pos())
			select {
			case <-stop:
				delivered <- got
				return
			case <-r.Notify():
			case <-time.After(time.Millisecond): // a poll, in case a write came before the wait
			}
		}
		delivered <- got
	}()
	var p Pending
	for i := range n {
		if err := s.Enqueue(&p, rec(i), 1); err != nil {
			t.Fatalf("Enqueue of record %d: %v", i, err)
		}
	}
	if err := s.Wait(&p); err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, b := range <-delivered {
		ids = append(ids, recID(t, b))
	}
	if !equalInts(ids, seq(0, n)) {
		t.Fatalf("delivered %d records, want 0..%d in order", len(ids), n-1)
	}
}

// TestWithdraw: a caller's records enqueued and not yet taken by a write
// are withdrawn whole, and nothing of them is ever read; when another
// caller's record came between or after them, or a write took them,
// Withdraw refuses and leaves every record to be written (it must never
// take another caller's record, which that caller is about to acknowledge).
func TestWithdraw(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"}})
	var p, q Pending
	for i := range 3 {
		if err := s.Enqueue(&p, rec(i), 1); err != nil {
			t.Fatal(err)
		}
	}
	full := testutil.ToFloat64(s.m.dropFull)
	if !s.Withdraw(&p) || p.Len() != 0 {
		t.Fatalf("Withdraw of the last run of records refused, or p kept %d", p.Len())
	}
	if got := testutil.ToFloat64(s.m.dropFull) - full; got != 3 {
		t.Errorf("withdrawn records counted as full: %v; want 3", got)
	}
	if s.Withdraw(&p) {
		t.Error("Withdraw of an empty Pending reported true")
	}
	if err := s.Enqueue(&q, rec(10), 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(&q); err != nil {
		t.Fatal(err)
	}
	if got := drain(t, s, 0); !equalInts(got, []int{10}) {
		t.Fatalf("read %v; want only the record enqueued after the withdrawal", got)
	}

	// Another caller's record after p's, or between them: refused.
	s.Enqueue(&p, rec(20), 1)
	s.Enqueue(&q, rec(21), 1)
	if s.Withdraw(&p) {
		t.Fatal("Withdraw took p's records with q's after them")
	}
	s.Enqueue(&p, rec(22), 1)
	if s.Withdraw(&p) {
		t.Fatal("Withdraw took p's records with q's between them")
	}
	// A write took them: refused.
	var r Pending
	s.Enqueue(&r, rec(23), 1)
	if err := s.Wait(&q); err != nil { // q's write takes r's record too
		t.Fatal(err)
	}
	if s.Withdraw(&r) {
		t.Fatal("Withdraw took records a write had taken")
	}
	for _, x := range []*Pending{&p, &r} {
		if err := s.Wait(x); err != nil {
			t.Fatal(err)
		}
	}
	if got := drain(t, s, 0); !equalInts(got, []int{20, 21, 22, 23}) {
		t.Fatalf("read %v; want every record Withdraw refused to take", got)
	}
}
