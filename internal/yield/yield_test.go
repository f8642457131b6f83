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
