package yield

import (
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/beacongate/beacongate/internal/conntest"
)

// TestCoreLetsTheNetworkIn: with one P, a loop that calls Core between
// steps of work lets a goroutine waiting on a socket that has data run
// before the loop ends. (With runtime.Gosched in its place the reader
// waits for the whole loop, or for the runtime's monitor to poll the
// network, every 10 ms at most: see the log line.)
func TestCoreLetsTheNetworkIn(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const steps = 20
	for _, c := range []struct {
		name  string
		yield func()
		must  bool
	}{{"Core", Core, true}, {"Gosched", runtime.Gosched, false}} {
		at := readerRunsAt(t, steps, c.yield)
		t.Logf("%s: the reader ran after step %d of %d", c.name, at, steps)
		if c.must && at >= steps {
			t.Fatalf("%s: the reader only ran after the loop (step %d of %d)", c.name, at, steps)
		}
	}
}

// readerRunsAt starts a goroutine blocked on a socket read, makes the
// socket readable, then runs steps steps of busy work calling yield between
// them; it returns the step after which the reader ran (steps: not before
// the end).
func readerRunsAt(t *testing.T, steps int, yield func()) int {
	t.Helper()
	client, server := conntest.Pair(t)

	var step atomic.Int64
	ranAt := make(chan int64, 1)
	parked := make(chan struct{})
	go func() {
		close(parked)
		var b [1]byte
		server.Read(b[:]) // parks in the network poller until the byte is there
		ranAt <- step.Load()
	}()
	<-parked
	runtime.Gosched() // let the reader reach its Read and park
	if _, err := client.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	sink := 0
	for i := 1; i <= steps; i++ {
		for j := range 200_000 { // about 0.1 ms of work
			sink += j ^ i
		}
		step.Store(int64(i))
		if i < steps {
			yield()
		}
	}
	_ = sink
	return int(<-ranAt)
}

// TestCoreGoesBehindTheWaitingGoroutines: with one P, Core returns only
// after the goroutines that were ready to run when it was called have run.
// A goroutine woken from time.Sleep goes to the head of the run queue, so
// without the Gosched after the sleep the caller took the core back after
// the first of them, and a request ready to run waited behind every slice
// of a batch's compression (bench/stalls at half load: waits stalled over
// 1 ms by background work 214-864 times in 3 s, 0-18 with it). The
// scheduler looks at its global queue first every 61st turn, which can
// let the caller in early, so the best of five rounds counts.
func TestCoreGoesBehindTheWaitingGoroutines(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const waiting, rounds = 8, 5
	best := int64(0)
	for range rounds {
		if ran := waitingRunBeforeCore(waiting); ran > best {
			best = ran
		}
	}
	t.Logf("at best %d of the %d goroutines ready to run had run when Core returned", best, waiting)
	if best < waiting {
		t.Fatalf("Core returned after at most %d of the %d goroutines ready to run had run, in each of %d rounds", best, waiting, rounds)
	}
}

// waitingRunBeforeCore makes n goroutines ready to run, each with more work
// than Core's pause, calls Core, and returns how many of them had run by
// the time it returned.
func waitingRunBeforeCore(n int) int64 {
	var done, sink atomic.Int64
	for g := range n {
		go func() {
			s := 0
			for j := range 1_000_000 {
				s += j ^ g
			}
			sink.Add(int64(s))
			done.Add(1)
		}()
	}
	Core()
	ran := done.Load()
	for done.Load() < int64(n) {
		runtime.Gosched()
	}
	return ran
}
