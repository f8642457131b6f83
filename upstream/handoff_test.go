package upstream

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestHandOffMemoryAndDisk: a shipper that keeps up takes fresh records
// from the spool's memory; one that falls behind (its destination refuses
// for a while) and one that starts after a restart read the disk. In every
// phase the destination gets every acknowledged record, and only the ones
// resent after the restart twice. (TestTailMatchesDisk in package spool
// checks records and order against the disk path.)
func TestHandOffMemoryAndDisk(t *testing.T) {
	c := newCollector(t)
	var refuse sync.Mutex // held: the collector answers 503
	c.setBehave(func(int64, http.ResponseWriter, *http.Request) int {
		if !refuse.TryLock() {
			return http.StatusServiceUnavailable
		}
		refuse.Unlock()
		return http.StatusOK
	})
	data := t.TempDir()
	opts := Options{DataDir: data, Destinations: []DestinationOptions{{Name: "h", HTTP: &HTTPOptions{URL: c.srv.URL},
		Batch: BatchOptions{MaxEvents: 200, MaxAge: 5 * time.Millisecond},
		Retry: RetryOptions{Initial: time.Millisecond, Max: 5 * time.Millisecond}}}}
	p := openP(t, opts)
	var a appender
	delivered := func(what string) {
		t.Helper()
		want := a.ackedIDs()
		waitFor(t, what, 30*time.Second, func() bool { return c.ids.countMissing(want) == 0 })
	}

	// Keeping up: small groups, delivered as they come.
	a.run(t, p, "m", 4, 500, RouteTo(0))
	delivered("records while keeping up")
	mem1, disk1 := p.spool.Reads()
	t.Logf("keeping up: %d reads from memory, %d from disk", mem1, disk1)
	if mem1 == 0 || disk1 != 0 {
		t.Fatalf("keeping up: %d reads from memory, %d from disk; want memory only", mem1, disk1)
	}

	// Behind: 20,000 records (about 9 MB, twice the in-memory tail)
	// while the destination refuses, then it accepts again.
	refuse.Lock()
	a.run(t, p, "b", 4, 5000, RouteTo(0))
	refuse.Unlock()
	delivered("records after falling behind")
	mem2, disk2 := p.spool.Reads()
	t.Logf("behind: %d more reads from memory, %d from disk", mem2-mem1, disk2-disk1)
	if disk2 == disk1 {
		t.Fatal("a shipper 9 MB behind never read the disk")
	}

	// Restart with records left behind: read from disk after Open.
	refuse.Lock()
	a.run(t, p, "r", 2, 1000, RouteTo(0))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	p.Close(ctx) // not drained: the destination refuses
	cancel()
	refuse.Unlock()
	p = openP(t, opts)
	defer closeP(t, p)
	delivered("records after a restart")
	mem3, disk3 := p.spool.Reads()
	t.Logf("after the restart: %d reads from memory, %d from disk", mem3, disk3)
	if disk3 == 0 {
		t.Fatal("records spooled before the restart were not read from disk")
	}
	if len(a.errs) != 0 {
		t.Fatalf("appends failed: %v", a.errs)
	}
	c.ids.mu.Lock()
	defer c.ids.mu.Unlock()
	for id, n := range c.ids.m {
		if n > 1 && id[0] != 'r' {
			t.Fatalf("%s delivered %d times; only records resent after the restart may repeat", id, n)
		}
	}
}
