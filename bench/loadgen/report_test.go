package loadgen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/bench/promtext"
)

func TestLatencyOf(t *testing.T) {
	h := hdrhistogram.New(histMin, histMax, 3)
	for us := int64(1); us <= 1000; us++ {
		_ = h.RecordValue(us * 1000)
	}
	l := LatencyOf(h)
	near := func(name string, got, want float64) {
		t.Helper()
		if got < want*0.99 || got > want*1.01 {
			t.Errorf("%s = %v; want %v ±1%%", name, got, want)
		}
	}
	near("p50", l.P50, 500)
	near("p90", l.P90, 900)
	near("p99", l.P99, 990)
	near("p99.9", l.P999, 999)
	near("max", l.Max, 1000)
	near("mean", l.Mean, 500.5)
	if l.Count != 1000 {
		t.Errorf("count %d", l.Count)
	}
	if LatencyOf(hdrhistogram.New(histMin, histMax, 3)) != (Latency{}) {
		t.Error("empty histogram")
	}
}

func TestGroup(t *testing.T) {
	f := func(v float64, prec int, want string) {
		t.Helper()
		if got := Group(v, prec); got != want {
			t.Fatalf("Group(%v, %d) = %q; want %q", v, prec, got, want)
		}
	}
	f(0, 0, "0")
	f(999, 0, "999")
	f(1000, 0, "1,000")
	f(1234567.891, 2, "1,234,567.89")
	f(-1234567, 0, "-1,234,567")
	f(123456, 1, "123,456.0")
}

func TestServerStats(t *testing.T) {
	page := func(cpu, mallocs float64) promtext.Samples {
		s, err := promtext.Parse(fmt.Appendf(nil, "process_cpu_seconds_total %g\ngo_memstats_mallocs_total %g\n", cpu, mallocs))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// Scrapes: 1,000 allocs when the warm-up ended; 500, 2,000, 3,000 and
	// 1,500 after the run (the median 1,500 differs from the least and the
	// most); before→after: 2 s CPU and 1,500 + 50,000 allocs over 100,000
	// requests carrying 250,000 events.
	before, after := page(10, 101_000), page(12, 152_500)
	cost := scrapeCostAround(page(10, 100_000), before, []promtext.Samples{after, page(12, 153_000), page(12, 155_000), page(12, 158_000), page(12, 159_500)})
	s := serverStats(cost, before, after, 4*time.Second, 100_000, 250_000)
	want := ServerStats{CPUSeconds: 2, CPUUtil: 0.5, Mallocs: 50_000, ScrapeMallocs: 1500, ScrapeMallocsMin: 500,
		ScrapeMallocsMax: 3000, ScrapePairs: 5, CPUMicrosPerRequest: 20, AllocsPerRequest: 0.5, CPUMicrosPerEvent: 8,
		AllocsUncertainty: 0.025}
	if !reflect.DeepEqual(*s, want) {
		t.Fatalf("got %+v\nwant %+v", *s, want)
	}
	// A zero-alloc server with a noisy scrape never shows negative allocs.
	s = serverStats(scrapeCostOf([]promtext.Samples{page(0, 0), page(0, 1000)}), page(0, 1000), page(1, 1900), time.Second, 10, 0)
	if s.Mallocs != 0 || s.AllocsPerRequest != 0 || s.CPUMicrosPerEvent != 0 {
		t.Fatalf("got %+v", *s)
	}
}

// TestCacheHitRates: per cache, the window's hits over its lookups, from
// the gateway's labelled counters; caches without lookups in the window,
// and servers without the series, have no rate.
func TestCacheHitRates(t *testing.T) {
	page := func(urlHit, urlMiss, uaHit, uaMiss float64) promtext.Samples {
		s, err := promtext.Parse(fmt.Appendf(nil, `process_cpu_seconds_total 1
beacongate_anonymize_cache_lookups_total{cache="url",result="hit"} %g
beacongate_anonymize_cache_lookups_total{cache="url",result="miss"} %g
beacongate_anonymize_cache_lookups_total{cache="user_agent",result="hit"} %g
beacongate_anonymize_cache_lookups_total{cache="user_agent",result="miss"} %g
beacongate_anonymize_cache_lookups_total{cache="text",result="hit"} 7
beacongate_anonymize_cache_lookups_total{cache="text",result="miss"} 3
`, urlHit, urlMiss, uaHit, uaMiss))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// Before the window: url 100 hits, 50 misses; user_agent 10, 10.
	// In it: url 300 hits of 400; user_agent 0 of 20; text none.
	got := cacheHitRates(page(100, 50, 10, 10), page(400, 150, 10, 30))
	want := map[string]float64{"url": 0.75, "user_agent": 0}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	plain, err := promtext.Parse([]byte("process_cpu_seconds_total 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cacheHitRates(plain, plain); got != nil {
		t.Fatalf("without the series: %v", got)
	}
	s := serverStats(scrapeCost{}, page(0, 0, 0, 0), page(1, 3, 0, 0), time.Second, 10, 10)
	if s.CacheHitRates["url"] != 0.25 {
		t.Fatalf("serverStats: %v", s.CacheHitRates)
	}
}

// TestScrapeCost: the median of every pair of neighbours in each run of
// scrapes (never a pair across two runs, which spans the window), with
// the spread, which becomes the allocation figure's uncertainty.
func TestScrapeCost(t *testing.T) {
	pages := func(mallocs ...float64) []promtext.Samples {
		var ps []promtext.Samples
		for _, m := range mallocs {
			s, err := promtext.Parse(fmt.Appendf(nil, "go_memstats_mallocs_total %g\n", m))
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, s)
		}
		return ps
	}
	// Pairs: 2,000 | 1,000, 3,000, 2,500, 1,500. The jump from 10,000 to
	// 900,000 is the window and must not count.
	got := scrapeCostOf(pages(8_000, 10_000), pages(900_000, 901_000, 904_000, 906_500, 908_000))
	if want := (scrapeCost{median: 2000, min: 1000, max: 3000, pairs: 5}); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	// An even count takes the lower middle; a page without the counter
	// gives no pair.
	noCounter, err := promtext.Parse([]byte("process_cpu_seconds_total 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	got = scrapeCostOf(pages(0, 1_000, 4_000), []promtext.Samples{noCounter, pages(5)[0]})
	if want := (scrapeCost{median: 1000, min: 1000, max: 3000, pairs: 2}); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if got := scrapeCostOf(); got != (scrapeCost{}) {
		t.Fatalf("no pairs: got %+v", got)
	}
	s := serverStats(scrapeCostOf(pages(0, 1_000, 4_000)), pages(10)[0], pages(11_010)[0], time.Second, 1_000, 0)
	if s.Mallocs != 10_000 || s.AllocsPerRequest != 10 || s.AllocsUncertainty != 2 {
		t.Fatalf("got %+v", *s)
	}
}

func TestWriteTextAndJSON(t *testing.T) {
	r := &Result{
		Mode: "open", Target: "http://127.0.0.1:8080/", Conns: 32, OfferedRate: 20000, Warmup: 1, Duration: 5,
		MaxRequests: 1000000, Elapsed: 5, Sent: 120000, Completed: 119990, Measured: 100000, Unsent: 7,
		Events: 150000, Throughput: 20000,
		Latency: Latency{Count: 100000, Mean: 61, P50: 52, P90: 80, P99: 150, P999: 1210, Max: 4000},
		Status:  map[string]int64{"200": 110000, "204": 9990},
		Errors:  map[string]int64{"timeout": 10},
		Server: &ServerStats{CPUSeconds: 2.5, CPUUtil: 0.42, CPUMicrosPerRequest: 20.8, AllocsPerRequest: 0.012, CPUMicrosPerEvent: 16.7,
			Mallocs: 1200, ScrapeMallocs: 1500, ScrapeMallocsMin: 900, ScrapeMallocsMax: 2400, ScrapePairs: 5, AllocsUncertainty: 0.015,
			CacheHitRates: map[string]float64{"url": 0.884, "consent": 0.8}},
	}
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"open loop, 20,000 req/s offered, 32 senders",
		"120,000 sent, 119,990 answered, 10 errors, 7 not sent",
		"20,000 req/s (100,000 measured)",
		"p50 52  p90 80  p99 150  p99.9 1,210  max 4,000  mean 61  (n=100,000)",
		"200: 110,000, 204: 9,990",
		"timeout: 10",
		"20.80 µs/request, 16.70 µs/event",
		"0.012 ± 0.015 allocs/request (1,200 in the measured window; one /metrics scrape subtracted: 1,500 allocs, the median of 5 pairs of scrapes, 900–2,400)",
		"consent 80.0 %, url 88.4 % of the lookups a worker's memo did not answer",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	j, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(j, &back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(j, []byte(`"cache_hit_rates": {`)) {
		t.Errorf("JSON lacks the cache hit rates: %s", j)
	}
	if back.Latency != r.Latency || !reflect.DeepEqual(*back.Server, *r.Server) || back.Errors["timeout"] != 10 || back.OfferedRate != 20000 {
		t.Fatalf("JSON round trip: %+v", back)
	}
	// Without server figures the reason is shown.
	r.Server, r.ServerError = nil, "connection refused"
	b.Reset()
	_ = r.WriteText(&b)
	if !strings.Contains(b.String(), "no figures: connection refused") {
		t.Errorf("server error missing:\n%s", b.String())
	}
}

func TestErrKind(t *testing.T) {
	f := func(err error, want string) {
		t.Helper()
		if got := errKind(err); got != want {
			t.Fatalf("errKind(%v) = %q; want %q", err, got, want)
		}
	}
	f(fasthttp.ErrTimeout, "timeout")
	f(fasthttp.ErrDialTimeout, "dial_timeout")
	f(fasthttp.ErrNoFreeConns, "no_free_conns")
	f(fasthttp.ErrConnectionClosed, "conn_closed")
	f(io.EOF, "conn_closed")
	f(&net.OpError{Op: "dial", Err: &net.AddrError{}}, "other")
	f(&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, "conn_refused")
	f(fmt.Errorf("read: %w", syscall.ECONNRESET), "conn_reset")
	f(fmt.Errorf("write: %w", syscall.EPIPE), "broken_pipe")
	f(errors.New("something else"), "other")
}

func TestModeAndConfig(t *testing.T) {
	for _, m := range []Mode{Closed, Open} {
		if p, err := ParseMode(m.String()); err != nil || p != m {
			t.Fatalf("ParseMode(%s) = %v, %v", m, p, err)
		}
	}
	if _, err := ParseMode("flood"); err == nil {
		t.Fatal("ParseMode accepted flood")
	}
	traffic, _ := DefaultMix().Generate(10)
	ok := Config{Target: "http://127.0.0.1:1", Mode: Closed, Conns: 1, Duration: time.Second, MaxRequests: 1, Timeout: time.Second, Traffic: traffic}
	if _, err := ok.validate(); err != nil {
		t.Fatal(err)
	}
	bad := func(name string, mod func(c *Config)) {
		t.Helper()
		c := ok
		mod(&c)
		if _, err := c.validate(); err == nil {
			t.Fatalf("%s accepted", name)
		}
	}
	bad("remote target", func(c *Config) { c.Target = "http://10.0.0.1:80" })
	bad("remote metrics", func(c *Config) { c.Metrics = "http://203.0.113.1:9100/metrics" })
	bad("no conns", func(c *Config) { c.Conns = 0 })
	bad("too many conns", func(c *Config) { c.Conns = MaxConns + 1 })
	bad("no duration", func(c *Config) { c.Duration = 0 })
	bad("unbounded duration", func(c *Config) { c.Duration = MaxDuration + time.Second })
	bad("no count bound", func(c *Config) { c.MaxRequests = 0 })
	bad("count too large", func(c *Config) { c.MaxRequests = MaxRequests + 1 })
	bad("open without rate", func(c *Config) { c.Mode = Open })
	bad("open rate too high", func(c *Config) { c.Mode, c.Rate = Open, MaxRate*2 })
	bad("no traffic", func(c *Config) { c.Traffic = nil })
	bad("no timeout", func(c *Config) { c.Timeout = 0 })
}

func TestPacerWait(t *testing.T) {
	f := func(d, want time.Duration) {
		t.Helper()
		if got := pacerWait(d); got != want {
			t.Fatalf("pacerWait(%v) = %v; want %v", d, got, want)
		}
	}
	f(-time.Second, minWait)
	f(time.Microsecond, minWait)
	f(50*time.Microsecond, 50*time.Microsecond)
	f(time.Second, maxWait)
}

func TestSleeper(t *testing.T) {
	s := newSleeper()
	defer s.stop()
	for range 3 { // re-arming works; nothing about how long it took
		if err := s.sleep(30 * time.Microsecond); err != nil {
			t.Fatal(err)
		}
	}
}
