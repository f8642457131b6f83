package stalls

import (
	"bytes"
	"runtime"
	rtrace "runtime/trace"
	"strings"
	"testing"
	"time"

	"golang.org/x/exp/trace"
)

// testClassify tells this test's goroutines apart by their functions.
func testClassify(funcs []string) Role {
	for _, f := range funcs {
		switch {
		case strings.Contains(f, "stallsTestRequest"):
			return RoleRequest
		case strings.Contains(f, "stallsTestBackground"):
			return RoleBackground
		}
	}
	return RoleOther
}

// spinSink keeps the compiler from dropping the spin loop.
var spinSink uint64

// stallsTestBackground wakes the request goroutine, then holds the only
// core with work that makes no call (so it yields only when the runtime
// preempts it): the request is runnable all that time.
func stallsTestBackground(wake chan<- struct{}, done chan<- struct{}) {
	close(wake)
	x := uint64(1)
	for range 50_000_000 { // tens of milliseconds on any current CPU
		x = x*6364136223846793005 + 1442695040888963407
	}
	spinSink = x
	close(done)
}

// stallsTestRequest waits to be woken, then ends.
func stallsTestRequest(wake <-chan struct{}, done chan<- struct{}) {
	<-wake
	close(done)
}

func TestAnalyzeFindsARequestWaitingBehindBackgroundWork(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var buf bytes.Buffer
	if err := rtrace.Start(&buf); err != nil {
		t.Skip("tracing is on already (go test -trace):", err)
	}
	wake := make(chan struct{})
	reqDone, bgDone := make(chan struct{}), make(chan struct{})
	go stallsTestRequest(wake, reqDone)
	runtime.Gosched() // the request goroutine blocks on wake
	go stallsTestBackground(wake, bgDone)
	for _, c := range []chan struct{}{reqDone, bgDone} {
		select {
		case <-c:
		case <-time.After(time.Minute):
			rtrace.Stop()
			t.Fatal("the test's goroutines did not end within a minute")
		}
	}
	rtrace.Stop()

	rep, err := Analyze(&buf, testClassify)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Write(&out)
	t.Logf("\n%s", out.String())
	if rep.Goroutines[RoleRequest] != 1 || rep.Goroutines[RoleBackground] != 1 {
		t.Errorf("goroutines by role %v, want one request and one background", rep.Goroutines)
	}
	// The spin runs until the runtime preempts it (about 10 ms) or ends:
	// either way far more than 2 ms, with the request runnable behind it.
	if got := rep.LongestRun[RoleBackground]; got.D < 2*time.Millisecond || !strings.Contains(got.Func, "stallsTestBackground") {
		t.Errorf("longest background run %v in %q, want over 2 ms in stallsTestBackground", got.D, got.Func)
	}
	if rep.Waits == 0 || rep.WaitMax < 2*time.Millisecond {
		t.Errorf("request waits for the core: %d, longest %v; want one over 2 ms", rep.Waits, rep.WaitMax)
	}
	if rep.StallMax < 2*time.Millisecond || rep.StallMax > rep.WaitMax || rep.StallsOver2ms != 1 {
		t.Errorf("stalls: longest %v (longest wait %v), %d over 2 ms; want one over 2 ms, within its wait", rep.StallMax, rep.WaitMax, rep.StallsOver2ms)
	}
	if !strings.Contains(rep.StallBehind, "stallsTestBackground") {
		t.Errorf("the longest stall is behind %q, want stallsTestBackground", rep.StallBehind)
	}
	if rep.SpoolWaits != 0 || rep.LongestSpoolWrite.D != 0 {
		t.Errorf("spool waits %d, longest spool write %v in a trace without a spool", rep.SpoolWaits, rep.LongestSpoolWrite.D)
	}
}

func TestClassifyTellsTheGatewaysGoroutinesApart(t *testing.T) {
	for _, c := range []struct {
		funcs []string
		want  Role
	}{
		{[]string{"runtime.gopark", "sync.(*Cond).Wait", "github.com/beacongate/beacongate/upstream/spool.(*Spool).Wait", "github.com/beacongate/beacongate/gateway.(*Gateway).Handle", "github.com/valyala/fasthttp.(*Server).serveConn", "github.com/valyala/fasthttp.(*workerPool).workerFunc"}, RoleRequest},
		{[]string{"github.com/klauspost/compress/zstd.(*Encoder).Write", "github.com/beacongate/beacongate/upstream.(*shipper).run"}, RoleBackground},
		{[]string{"github.com/beacongate/beacongate/upstream/spool.(*Spool).background"}, RoleBackground},
		{[]string{"net/http.(*conn).serve"}, RoleOther},
		{nil, RoleOther},
	} {
		if got := Classify(c.funcs); got != c.want {
			t.Errorf("Classify(%q) = %v, want %v", c.funcs, got, c.want)
		}
	}
	if !spoolWait([]string{"runtime.gopark", "github.com/beacongate/beacongate/upstream/spool.(*Spool).Wait"}) {
		t.Error("a request blocked in Spool.Wait is not seen waiting in the spool")
	}
	if spoolWait([]string{"runtime.gopark", "internal/poll.(*FD).Read"}) {
		t.Error("a request blocked on its connection is seen waiting in the spool")
	}
	if !spoolWrite([]string{"syscall.pwrite", "os.(*File).WriteAt", "github.com/beacongate/beacongate/upstream/spool.(*Spool).writeFrames"}) {
		t.Error("a group write's pwrite is not seen as the spool's")
	}
	if spoolWrite([]string{"syscall.write", "github.com/valyala/fasthttp.(*Server).serveConn"}) {
		t.Error("a response's write is seen as the spool's")
	}
}

func TestAStallEndsWhenASystemCallLetsGoOfTheCore(t *testing.T) {
	const ms = trace.Time(time.Millisecond)
	bg := []string{"syscall.Syscall", "github.com/beacongate/beacongate/bench/stalls.stallsTestBackground"}
	req := []string{"github.com/beacongate/beacongate/bench/stalls.stallsTestRequest"}
	tr := func(at trace.Time, g trace.GoID, from, to trace.GoState, funcs []string) Transition {
		return Transition{Time: at, G: g, From: from, To: to, Funcs: funcs}
	}
	// Background goroutine 1 wakes request 2 and enters a system call of
	// 100 ms. The runtime hands the core to request 2 only at 10 ms (its
	// monitor was asleep): request 2 was stalled 10 ms. Request 2 wakes
	// request 3 and holds the core until 20 ms: request 3 waits behind a
	// request, not behind the system call, which let go of the core.
	rep := AnalyzeTransitions([]Transition{
		tr(0, 2, trace.GoRunning, trace.GoWaiting, req),
		tr(0, 3, trace.GoRunning, trace.GoWaiting, req),
		tr(1*ms, 1, trace.GoRunnable, trace.GoRunning, nil),
		tr(1*ms+1, 2, trace.GoWaiting, trace.GoRunnable, nil),
		tr(1*ms+2, 1, trace.GoRunning, trace.GoSyscall, bg),
		tr(11*ms, 2, trace.GoRunnable, trace.GoRunning, nil),
		tr(11*ms+1, 3, trace.GoWaiting, trace.GoRunnable, nil),
		tr(21*ms, 2, trace.GoRunning, trace.GoWaiting, req),
		tr(21*ms, 3, trace.GoRunnable, trace.GoRunning, nil),
		tr(21*ms+1, 3, trace.GoRunning, trace.GoWaiting, req),
		tr(101*ms, 1, trace.GoSyscall, trace.GoRunnable, bg),
	}, testClassify)
	if rep.Goroutines[RoleRequest] != 2 || rep.Goroutines[RoleBackground] != 1 {
		t.Fatalf("goroutines by role %v", rep.Goroutines)
	}
	if got := rep.LongestSyscall[RoleBackground]; got.D != 100*time.Millisecond-2 {
		t.Errorf("longest background system call %v, want 100 ms", got.D)
	}
	if rep.Waits != 2 || rep.WaitMax != 10*time.Millisecond-1 {
		t.Errorf("%d waits, longest %v; want 2, the longest 10 ms", rep.Waits, rep.WaitMax)
	}
	if rep.StallMax != 10*time.Millisecond-1 || rep.StallsOver2ms != 1 {
		t.Errorf("stalls: longest %v, %d over 2 ms; want request 2's 10 ms alone", rep.StallMax, rep.StallsOver2ms)
	}
	if rep.StallBehind != "bench/stalls.stallsTestBackground" {
		t.Errorf("the longest stall is behind %q, want the system call of stallsTestBackground", rep.StallBehind)
	}
}
