package upstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fastRetry keeps tests short: retries within tens of milliseconds.
var fastRetry = RetryOptions{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond}

func httpDest(name, url string) DestinationOptions {
	return DestinationOptions{Name: name, HTTP: &HTTPOptions{URL: url},
		Batch: BatchOptions{MaxAge: 20 * time.Millisecond}, Retry: fastRetry}
}

func openP(t testing.TB, o Options) *Pipeline {
	t.Helper()
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	p, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return p
}

func TestFileSinkEndToEnd(t *testing.T) {
	data := t.TempDir()
	reg := prometheus.NewRegistry()
	p := openP(t, Options{DataDir: data, Registerer: reg, Destinations: []DestinationOptions{{
		Name: "file", File: &FileOptions{RollBytes: 64 << 10},
		Batch: BatchOptions{MaxEvents: 200, MaxAge: 10 * time.Millisecond},
	}}})
	var a appender
	a.run(t, p, "f", 4, 1000, RouteTo(0))
	acked := a.ackedIDs()
	waitFor(t, "the file sink to catch up", 20*time.Second, func() bool { return p.Stats()[0].LagBytes == 0 })
	// Metrics exist under the documented names and agree.
	if n := metricSum(t, reg, "beacongate_upstream_sent_records_total"); n != 4000 {
		t.Fatalf("sent_records_total = %v", n)
	}
	if n := metricSum(t, reg, "beacongate_upstream_spooled_records_total"); n != 4000 {
		t.Fatalf("spooled_records_total = %v", n)
	}
	if r := metricSum(t, reg, "beacongate_upstream_compression_ratio"); r < 2 {
		t.Fatalf("compression_ratio = %v", r)
	}
	closeP(t, p)

	out := filepath.Join(data, "out")
	if parts, _ := filepath.Glob(filepath.Join(out, "*.part")); len(parts) != 0 {
		t.Fatalf(".part files left after Close: %q", parts)
	}
	got := newIDSet()
	files := readZstdDir(t, out, got)
	missing, dups := got.compare(acked)
	if len(acked) != 4000 || len(missing) != 0 || dups != 0 {
		t.Fatalf("acked %d, missing %d, duplicates %d", len(acked), len(missing), dups)
	}
	if files < 2 {
		t.Fatalf("%d files; want rolling at 64 KiB", files)
	}
	t.Logf("%d records in %d files, %d bytes on disk", len(acked), files, dirSize(out))
}

// TestHTTPDownThenBack: the upstream answers 503, then drops connections,
// for a while under load; then it comes back. Every acknowledged event must
// arrive.
func TestHTTPDownThenBack(t *testing.T) {
	c := newCollector(t)
	var down atomic.Bool
	down.Store(true)
	c.setBehave(func(n int64, w http.ResponseWriter, r *http.Request) int {
		if !down.Load() {
			return http.StatusOK
		}
		if n%2 == 0 { // a dropped connection
			if hj, ok := w.(http.Hijacker); ok {
				conn, _, _ := hj.Hijack()
				conn.Close()
				return 0
			}
		}
		return http.StatusServiceUnavailable
	})
	p := openP(t, Options{Destinations: []DestinationOptions{httpDest("http", c.srv.URL)}})
	var a, b appender
	a.run(t, p, "d", 8, 1250, RouteTo(0)) // load while down
	waitFor(t, "failed attempts", 10*time.Second, func() bool { return c.requests.Load() >= 20 })
	if c.ids.n.Load() != 0 {
		t.Fatal("records arrived while the upstream was down")
	}
	failed := c.requests.Load()
	down.Store(false)
	b.run(t, p, "e", 8, 1250, RouteTo(0)) // more load while the backlog drains
	acked := append(a.ackedIDs(), b.ackedIDs()...)
	waitFor(t, "every acknowledged event to arrive", 30*time.Second, func() bool { return c.ids.countMissing(acked) == 0 })
	closeP(t, p)
	missing, dups := c.ids.compare(acked)
	if len(acked) != 20000 || len(missing) != 0 {
		t.Fatalf("acked %d, lost %d", len(acked), len(missing))
	}
	st := p.Stats()[0]
	t.Logf("acked %d, lost 0, duplicates %d, failed requests while down %d, retries %d, batches %d, ratio %.2f",
		len(acked), dups, failed, st.Retries, st.Batches, float64(st.RawBytes)/float64(st.Bytes))
	if st.Retries == 0 {
		t.Fatal("no retries counted")
	}
}

// TestFullSpool: with the upstream down, the spool fills; shed refuses and
// counts, block waits; when the upstream returns, space comes back.
func TestFullSpool(t *testing.T) {
	for _, policy := range []FullPolicy{FullShed, FullBlock} {
		t.Run(policy.String(), func(t *testing.T) {
			c := newCollector(t)
			var down atomic.Bool
			down.Store(true)
			c.setBehave(func(int64, http.ResponseWriter, *http.Request) int {
				if down.Load() {
					return http.StatusServiceUnavailable
				}
				return http.StatusOK
			})
			p := openP(t, Options{
				Spool: SpoolOptions{MaxBytes: 256 << 10, SegmentBytes: 32 << 10, MaxRecordBytes: 4 << 10,
					WhenFull: policy, BlockTimeout: 5 * time.Millisecond},
				Destinations: []DestinationOptions{httpDest("api", c.srv.URL)}})
			var a appender
			a.run(t, p, "a", 4, 300, RouteTo(0))
			full := a.errs["full"]
			if full == 0 || len(a.acked) == 0 || full+len(a.acked) != 1200 {
				t.Fatalf("acked %d, full %d, other errors %v", len(a.acked), full, a.errs)
			}
			if got := p.Dropped("full"); got != uint64(full) {
				t.Fatalf("dropped(full) = %d, want %d", got, full)
			}
			if !errors.Is(p.Ready(), ErrFull) {
				t.Fatalf("Ready() = %v while full", p.Ready())
			}
			down.Store(false)
			// Ready turns nil as soon as one segment is freed; wait for
			// the whole backlog, so that the next 100 records fit.
			waitFor(t, "the spool to drain", 20*time.Second, func() bool { return p.Ready() == nil && p.Stats()[0].LagBytes == 0 })
			var b appender
			b.run(t, p, "b", 1, 100, RouteTo(0))
			if len(b.acked) != 100 {
				t.Fatalf("after draining: %d of 100 accepted: %v", len(b.acked), b.errs)
			}
			acked := append(a.ackedIDs(), b.ackedIDs()...)
			waitFor(t, "delivery", 20*time.Second, func() bool { return c.ids.countMissing(acked) == 0 })
			closeP(t, p)
			t.Logf("%s: acked %d, refused %d (counted %d), lost 0", policy, len(acked), full, p.Dropped("full"))
		})
	}
}

// TestRestartResumes: Close with the upstream down leaves the records in
// the spool; the next Open ships them.
func TestRestartResumes(t *testing.T) {
	c := newCollector(t)
	var down atomic.Bool
	down.Store(true)
	c.setBehave(func(int64, http.ResponseWriter, *http.Request) int {
		if down.Load() {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	data := t.TempDir()
	o := Options{DataDir: data, Destinations: []DestinationOptions{httpDest("api", c.srv.URL)}}
	p := openP(t, o)
	var a appender
	a.run(t, p, "x", 2, 500, RouteTo(0))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	err := p.Close(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close with the upstream down: %v", err)
	}
	if !errors.Is(p.Append([]byte(`{"id":"late"}`), 1), ErrClosed) {
		t.Fatal("Append after Close accepted")
	}
	down.Store(false)
	p = openP(t, o)
	acked := a.ackedIDs()
	waitFor(t, "delivery after restart", 20*time.Second, func() bool { return c.ids.countMissing(acked) == 0 })
	closeP(t, p)
	_, dups := c.ids.compare(acked)
	t.Logf("acked %d, lost 0, duplicates %d", len(acked), dups)
}

// TestCorruptSegmentTail: records stay in the spool (upstream down), the
// process "crashes"; a byte of one record rots and a torn frame is left at
// the end. After restart every other record arrives, nothing crashes, and
// both damages are counted.
//
// The destination is down in the first run by pointing it at a server that
// only refuses, and the second run ships to another: a request of the first
// run whose handler the server runs only after the restart (its client gave
// up at Close) is still refused, so it cannot deliver the record the test
// damages afterwards.
func TestCorruptSegmentTail(t *testing.T) {
	refusing := newCollector(t)
	refusing.setBehave(func(int64, http.ResponseWriter, *http.Request) int {
		return http.StatusServiceUnavailable
	})
	c := newCollector(t)
	data := t.TempDir()
	reg := prometheus.NewRegistry()
	o := Options{DataDir: data, Registerer: reg, Destinations: []DestinationOptions{httpDest("api", refusing.srv.URL)}}
	p := openP(t, o)
	var a appender
	a.run(t, p, "k", 1, 200, RouteTo(0))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	p.Close(ctx)
	cancel()

	segs, _ := filepath.Glob(filepath.Join(data, "spool", "*.seg"))
	seg := segs[len(segs)-1]
	b, _ := os.ReadFile(seg)
	// Damage the record with id k00000100.
	i := strings.Index(string(b), `"id":"k00000100`)
	b[i+40] ^= 0x20
	// And a torn frame at the end: a header announcing 400 bytes, 10 present.
	b = append(b, 0x90, 0x01, 0, 0, 1, 2, 3, 4, 1, 0)
	os.WriteFile(seg, b, 0o600)

	reg = prometheus.NewRegistry()
	o.Registerer = reg
	o.Destinations = []DestinationOptions{httpDest("api", c.srv.URL)}
	p = openP(t, o)
	want := a.ackedIDs()
	var others []string
	for _, id := range want {
		if id != "k00000100" {
			others = append(others, id)
		}
	}
	waitFor(t, "delivery of the undamaged records", 20*time.Second, func() bool { return c.ids.countMissing(others) == 0 })
	if c.ids.has("k00000100") {
		t.Fatal("the damaged record was delivered")
	}
	if n := metricSum(t, reg, "beacongate_upstream_corrupt_records_total"); n != 1 {
		t.Fatalf("corrupt_records_total = %v, want 1", n)
	}
	if n := metricSum(t, reg, "beacongate_upstream_spool_torn_bytes_total"); n != 10 {
		t.Fatalf("spool_torn_bytes_total = %v, want 10", n)
	}
	closeP(t, p)
}

// TestRouting: each destination gets exactly the records routed to it.
func TestRouting(t *testing.T) {
	c := newCollector(t)
	mem := &memSink{ids: newIDSet(), t: t}
	data := t.TempDir()
	p := openP(t, Options{DataDir: data, Destinations: []DestinationOptions{
		{Name: "file", File: &FileOptions{}, Batch: BatchOptions{MaxAge: 5 * time.Millisecond}},
		httpDest("ads", c.srv.URL),
		{Name: "mem", Sink: mem, Batch: BatchOptions{MaxAge: 5 * time.Millisecond}},
	}})
	rng := rand.New(rand.NewPCG(3, 4))
	want := [3][]string{}
	for i := 0; i < 600; i++ {
		route := Route(i%7 + 1) // every non-empty subset of 3 destinations
		rec := testRecord(rng, "r", i)
		if err := p.Append(rec, route|1<<10); err != nil { // bit 10: no such destination
			t.Fatal(err)
		}
		for d := 0; d < 3; d++ {
			if route.Has(d) {
				want[d] = append(want[d], idOf(rec))
			}
		}
	}
	if err := p.Append([]byte(`{"id":"nowhere"}`), 1<<20); err != nil {
		t.Fatal(err)
	}
	closeP(t, p)
	file := newIDSet()
	readZstdDir(t, filepath.Join(data, "out"), file)
	for d, got := range []*idSet{file, c.ids, mem.ids} {
		missing, dups := got.compare(want[d])
		if len(missing) != 0 || dups != 0 || int(got.n.Load()) != len(want[d]) {
			t.Fatalf("destination %d: got %d, want %d, missing %d, dups %d", d, got.n.Load(), len(want[d]), len(missing), dups)
		}
	}
	if !mem.closed.Load() {
		t.Fatal("custom sink not closed")
	}
}

// TestCloseDrainsPartialBatch: Close sends a batch that is not full yet.
func TestCloseDrainsPartialBatch(t *testing.T) {
	mem := &memSink{ids: newIDSet(), t: t}
	p := openP(t, Options{Destinations: []DestinationOptions{
		{Name: "mem", Sink: mem, Batch: BatchOptions{MaxAge: time.Hour, MaxEvents: 1 << 20}}}})
	var a appender
	a.run(t, p, "p", 1, 10, RouteTo(0))
	closeP(t, p)
	if m, _ := mem.ids.compare(a.ackedIDs()); len(m) != 0 {
		t.Fatalf("%d records not drained", len(m))
	}
}

// TestFullBatchGoesBeforeItsAge: a batch full by count (MaxEvents) goes
// out without waiting for MaxAge, though its records are far fewer bytes
// than the shipper's wake-up threshold, also when they are much shorter
// than the first. The first record is read before the others are
// appended, so the shipper waits on a partial batch.
func TestFullBatchGoesBeforeItsAge(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first int // padding of the first record; the others have none
	}{{"records as long", 0}, {"a long first record", 2000}} {
		t.Run(tc.name, func(t *testing.T) {
			mem := &memSink{ids: newIDSet(), t: t}
			p := openP(t, Options{Destinations: []DestinationOptions{
				{Name: "mem", Sink: mem, Batch: BatchOptions{MaxAge: time.Hour, MaxEvents: 10}}}})
			defer closeP(t, p)
			rec := func(n, pad int) []byte {
				return fmt.Appendf(nil, `{"id":"f%08d","kind":"pixel","pad":"%s"}`, n, strings.Repeat("x", pad))
			}
			if err := p.Append(rec(0, tc.first), RouteTo(0)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the shipper to read the first record", 10*time.Second, func() bool { return p.shippers[0].oldestMS.Load() != 0 })
			want := []string{"f00000000"}
			for n := 1; n < 10; n++ {
				if err := p.Append(rec(n, 0), RouteTo(0)); err != nil {
					t.Fatal(err)
				}
				want = append(want, fmt.Sprintf("f%08d", n))
			}
			waitFor(t, "the full batch (MaxAge is an hour)", 10*time.Second, func() bool { return mem.ids.countMissing(want) == 0 })
		})
	}
}

func TestOpenErrors(t *testing.T) {
	f := func(o Options) {
		t.Helper()
		if o.DataDir == "" {
			o.DataDir = t.TempDir()
		}
		if p, err := Open(o); err == nil {
			p.Close(context.Background())
			t.Fatalf("Open(%+v) succeeded", o)
		}
	}
	mem := &memSink{ids: newIDSet(), t: t}
	f(Options{})
	f(Options{Destinations: []DestinationOptions{{Name: "x"}}})
	f(Options{Destinations: []DestinationOptions{{Name: "x", Sink: mem, File: &FileOptions{}}}})
	f(Options{Destinations: []DestinationOptions{{Name: "bad name", Sink: mem}}})
	f(Options{Destinations: []DestinationOptions{{Name: "f", File: &FileOptions{}, Compression: CodecGzip}}})
	f(Options{Destinations: []DestinationOptions{{Name: "h", HTTP: &HTTPOptions{URL: "ftp://x"}}}})
	f(Options{Destinations: []DestinationOptions{{Name: "h", HTTP: &HTTPOptions{URL: "http://x", BearerTokenFile: "/nonexistent"}}}})
	f(Options{Destinations: []DestinationOptions{{Name: "k", Kafka: &KafkaOptions{Topic: "t"}}}})
	f(Options{Destinations: []DestinationOptions{{Name: "k", Kafka: &KafkaOptions{Brokers: []string{"x:1"}, Topic: "t", SASL: SASLOptions{Mechanism: "MD5"}}}}})
}

// metricSum returns the sum of all series of metric name in reg.
func metricSum(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		sum := 0.0
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
		return sum
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}
