package loadgen

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/bench/ceiling"
	"github.com/beacongate/beacongate/bench/promtext"
)

// recorder is an in-process ceiling that remembers what it received.
type recorder struct {
	mu   sync.Mutex
	seen map[string]int // method + " " + URI + " " + body length
	n    int
}

func (rec *recorder) handle(ctx *fasthttp.RequestCtx) {
	key := fmt.Sprintf("%s %s %d", ctx.Method(), ctx.RequestURI(), len(ctx.PostBody()))
	rec.mu.Lock()
	rec.seen[key]++
	rec.n++
	rec.mu.Unlock()
	ceiling.FastHandler(ctx)
}

func startRecorder(t *testing.T) (rec *recorder, target, metrics string) {
	t.Helper()
	rec = &recorder{seen: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	aln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fasthttp.Server{Handler: rec.handle}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = s.Serve(ln); done <- struct{}{} }()
	go func() { _ = ceiling.ServeAdmin(ctx, aln, ceiling.NewRegistry()); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		_ = s.Shutdown()
		<-done
		<-done
	})
	return rec, "http://" + ln.Addr().String(), "http://" + aln.Addr().String() + "/metrics"
}

// checkCounts verifies that every attempt is accounted for once, and that
// the server received exactly the answered requests, byte for byte as
// generated.
func checkCounts(t *testing.T, res *Result, rec *recorder, traffic []Request) {
	t.Helper()
	var statusSum int64
	for _, n := range res.Status {
		statusSum += n
	}
	if res.Sent != res.Completed+res.ErrorCount() || statusSum != res.Completed || res.Status["200"] != res.Completed {
		t.Fatalf("sent %d, completed %d, errors %v, status %v", res.Sent, res.Completed, res.Errors, res.Status)
	}
	if res.ErrorCount() != 0 || res.BadBodies != 0 {
		t.Fatalf("errors against the ceiling: %v (%s), bad bodies %d", res.Errors, res.FirstError, res.BadBodies)
	}
	if res.Latency.Count != res.Measured || res.Measured != res.Completed {
		t.Fatalf("latency count %d, measured %d, completed %d (no warm-up)", res.Latency.Count, res.Measured, res.Completed)
	}
	if res.Completed > 0 && (res.Events == 0 || res.Latency.P50 <= 0 || res.Latency.Max < res.Latency.P99) {
		t.Fatalf("events %d, latency %+v", res.Events, res.Latency)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if int64(rec.n) != res.Completed {
		t.Fatalf("server received %d requests; client got %d answers", rec.n, res.Completed)
	}
	known := map[string]bool{}
	for _, r := range traffic {
		known[fmt.Sprintf("%s %s %d", r.Method, r.URI, len(r.Body))] = true
	}
	for k := range rec.seen {
		if !known[k] {
			t.Fatalf("server received a request that was not generated: %.200s", k)
		}
	}
	if res.Server == nil {
		t.Fatalf("no server figures: %s", res.ServerError)
	}
	if res.Server.CPUSeconds < 0 || res.Server.Mallocs < 0 || res.Server.ScrapeMallocs <= 0 {
		t.Fatalf("server figures %+v", *res.Server)
	}
}

func smokeMix(t *testing.T) []Request {
	t.Helper()
	m := DefaultMix()
	m.Malformed = 30 // all malformations, a few times each
	traffic, err := m.Generate(120)
	if err != nil {
		t.Fatal(err)
	}
	return traffic
}

// TestSmokeClosed sends a few hundred requests of the full mix to an
// in-process ceiling, bounded by count (300) and time (1 s).
func TestSmokeClosed(t *testing.T) {
	rec, target, metrics := startRecorder(t)
	traffic := smokeMix(t)
	res, err := Run(context.Background(), Config{Target: target, Metrics: metrics, Mode: Closed, Conns: 4,
		Duration: time.Second, MaxRequests: 300, Timeout: 5 * time.Second, Traffic: traffic})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent > 300 || res.Sent == 0 || res.Unsent != 0 {
		t.Fatalf("sent %d, unsent %d; want 1..300, 0", res.Sent, res.Unsent)
	}
	checkCounts(t, res, rec, traffic)
}

// TestSmokeOpen offers 1,000 req/s for 0.3 s: 300 intended requests, each
// either sent or counted as unsent.
func TestSmokeOpen(t *testing.T) {
	rec, target, metrics := startRecorder(t)
	traffic := smokeMix(t)
	res, err := Run(context.Background(), Config{Target: target, Metrics: metrics, Mode: Open, Conns: 8, Rate: 1000,
		Duration: 300 * time.Millisecond, MaxRequests: 10_000, Timeout: 5 * time.Second, Traffic: traffic})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent+res.Unsent != 300 {
		t.Fatalf("sent %d + unsent %d != 300", res.Sent, res.Unsent)
	}
	checkCounts(t, res, rec, traffic)
}

// TestRefusesRemote never sends anything to a non-loopback address.
func TestRefusesRemote(t *testing.T) {
	traffic := smokeMix(t)
	for _, target := range []string{"http://192.0.2.1:80", "http://example.com:80", "http://0.0.0.0:8080"} {
		_, err := Run(context.Background(), Config{Target: target, Mode: Closed, Conns: 1, Duration: time.Second,
			MaxRequests: 1, Timeout: time.Second, Traffic: traffic})
		if err == nil {
			t.Fatalf("Run accepted %s", target)
		}
	}
}

// TestServerFiguresCoverTheWindow: the server's figures leave the warm-up
// out. The metrics here count one allocation per request received plus
// 1,000,000 at the first one (a fresh server filling its pools), so over the
// measured window they must come to about one per request; counted from
// the start they would be several.
func TestServerFiguresCoverTheWindow(t *testing.T) {
	rec, target, _ := startRecorder(t)
	aln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		rec.mu.Lock()
		n := rec.n
		rec.mu.Unlock()
		if n > 0 {
			n += 1_000_000
		}
		fmt.Fprintf(w, "%s %d\n%s 0\n", promtext.Mallocs, n, promtext.CPUSeconds)
	})}
	go func() { _ = srv.Serve(aln) }()
	t.Cleanup(func() { _ = srv.Close() })
	traffic := smokeMix(t)
	res, err := Run(context.Background(), Config{Target: target, Metrics: "http://" + aln.Addr().String() + "/metrics",
		Mode: Closed, Conns: 2, Warmup: 300 * time.Millisecond, Duration: 300 * time.Millisecond, MaxRequests: 1_000_000,
		Timeout: 5 * time.Second, Traffic: traffic})
	if err != nil {
		t.Fatal(err)
	}
	if res.Server == nil || res.Measured == 0 {
		t.Fatalf("no server figures (%s) or no measured requests (%d)", res.ServerError, res.Measured)
	}
	if a := res.Server.AllocsPerRequest; a < 0.8 || a > 1.2 {
		t.Fatalf("%.3f allocations per request over the window (%v in it, %d measured); want about 1", a, res.Server.Mallocs, res.Measured)
	}
	// Every pair of scrapes was taken, and none spans the window: the
	// most a pair saw is what arrived between two scrapes, not the run.
	if s := res.Server; s.ScrapePairs != scrapePairs || s.ScrapeMallocsMax > s.Mallocs/4 {
		t.Fatalf("%d pairs of scrapes (want %d), the largest %v allocations against %v in the window",
			s.ScrapePairs, scrapePairs, s.ScrapeMallocsMax, s.Mallocs)
	}
}
