// Package loadgen drives a beacon endpoint on this machine with a realistic
// traffic mix and measures it: closed loop (N keep-alive connections, each
// sending its next request when the previous answer arrives) for maximum
// throughput, or open loop (a fixed request rate, latency measured from each
// request's intended send time, so a stalled server cannot hide its queue:
// no coordinated omission). Runs are bounded in time and in request count,
// and only loopback targets are accepted.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/bench/loopback"
	"github.com/beacongate/beacongate/bench/promtext"
)

// Mode is the load model.
type Mode uint8

// Load models.
const (
	Closed Mode = iota // Conns connections, each waits for its answer
	Open               // fixed Rate, independent of answers
)

// String returns the mode's name as used in flags and reports.
func (m Mode) String() string {
	switch m {
	case Closed:
		return "closed"
	case Open:
		return "open"
	}
	return "unknown"
}

// ParseMode is the inverse of Mode.String.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "closed":
		return Closed, nil
	case "open":
		return Open, nil
	}
	return 0, fmt.Errorf("loadgen: unknown mode %q (closed or open)", s)
}

// Hard limits, so that no flag can turn the tool into an unbounded flood.
const (
	MaxDuration = 30 * time.Minute
	MaxRequests = 1_000_000_000
	MaxConns    = 4096
	MaxRate     = 10_000_000
)

// scrapePairs is how many pairs of back-to-back scrapes measure what one
// /metrics scrape allocates in the server: one pair when the warm-up ends
// and the rest after the run, so the median does not rest on one pair (a
// gateway's scrape allocates 824–3,247 objects, varying from scrape to
// scrape).
const scrapePairs = 5

// Config is one run.
type Config struct {
	Target  string // loopback base URL of the server, e.g. http://127.0.0.1:8080
	Metrics string // loopback URL of its Prometheus page; "" to skip server figures

	Mode  Mode
	Conns int     // connections (closed) or concurrent senders (open)
	Rate  float64 // open loop: requests per second

	Warmup   time.Duration // sent but not measured
	Duration time.Duration // measured window after the warm-up
	// MaxRequests caps requests sent, warm-up included; the run ends at
	// whichever of the two bounds comes first.
	MaxRequests int64
	Timeout     time.Duration // per request

	Traffic []Request // cycled through; each sender starts at its own offset
}

func (c *Config) validate() (loopback.Target, error) {
	tg, err := loopback.Parse(c.Target)
	if err != nil {
		return tg, err
	}
	var errs []error
	if c.Metrics != "" {
		if _, err := loopback.Parse(c.Metrics); err != nil {
			errs = append(errs, fmt.Errorf("metrics: %w", err))
		}
	}
	if c.Conns < 1 || c.Conns > MaxConns {
		errs = append(errs, fmt.Errorf("loadgen: conns must be 1..%d", MaxConns))
	}
	if c.Mode == Open && !(c.Rate > 0 && c.Rate <= MaxRate) {
		errs = append(errs, fmt.Errorf("loadgen: open loop needs a rate in (0, %d]", MaxRate))
	}
	if c.Duration <= 0 || c.Warmup < 0 || c.Warmup+c.Duration > MaxDuration {
		errs = append(errs, fmt.Errorf("loadgen: duration must be positive and warm-up+duration at most %v", MaxDuration))
	}
	if c.MaxRequests < 1 || c.MaxRequests > MaxRequests {
		errs = append(errs, fmt.Errorf("loadgen: max requests must be 1..%d", MaxRequests))
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("loadgen: timeout must be positive"))
	}
	if len(c.Traffic) == 0 {
		errs = append(errs, errors.New("loadgen: no traffic"))
	}
	if c.Mode != Closed && c.Mode != Open {
		errs = append(errs, errors.New("loadgen: unknown mode"))
	}
	return tg, errors.Join(errs...)
}

// Histogram bounds in nanoseconds: 3 significant digits from 1 µs up to
// 100 s, about 150 KB per sender.
const (
	histMin = 1_000
	histMax = 100_000_000_000
)

// worker is one sender's private counters; merged after the run.
type worker struct {
	req  fasthttp.Request
	resp fasthttp.Response
	hist *hdrhistogram.Histogram

	sent, completed, measured, events, badBodies, unsent int64
	measuredEvents                                       int64 // events of measured requests answered 2xx
	status                                               map[int]int64
	errs                                                 map[string]int64
	firstErr                                             error
}

func newWorker() *worker {
	return &worker{hist: hdrhistogram.New(histMin, histMax, 3), status: map[int]int64{}, errs: map[string]int64{}}
}

func (w *worker) fill(host string, r *Request) {
	req := &w.req
	req.Reset()
	req.Header.SetMethod(r.Method)
	req.SetRequestURI(r.URI)
	req.Header.SetHost(host)
	for _, h := range r.Headers {
		req.Header.Set(h.Key, h.Value)
	}
	if len(r.Body) > 0 {
		req.SetBodyRaw(r.Body) // shared, read-only: SetBodyRaw does not copy
	}
}

// account records one attempt. lat is recorded only when measured is true.
func (w *worker) account(r *Request, err error, measured bool, lat time.Duration) {
	w.sent++
	if err != nil {
		w.errs[errKind(err)]++
		if w.firstErr == nil {
			w.firstErr = err
		}
		return
	}
	w.completed++
	code := w.resp.StatusCode()
	w.status[code]++
	if code >= 200 && code < 300 {
		w.events += int64(r.Events)
		if r.Kind == KindPixel && code == 200 && !isGIF(w.resp.Body()) {
			w.badBodies++
		}
	}
	if measured {
		w.measured++
		if code >= 200 && code < 300 {
			w.measuredEvents += int64(r.Events)
		}
		_ = w.hist.RecordValue(max(int64(lat), histMin)) // values above histMax are beyond any timeout
	}
}

// isGIF reports whether b looks like the 43-byte pixel.
func isGIF(b []byte) bool { return len(b) == 43 && string(b[:6]) == "GIF89a" }

// errKind names a transport error for the report.
func errKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, fasthttp.ErrTimeout):
		return "timeout"
	case errors.Is(err, fasthttp.ErrDialTimeout):
		return "dial_timeout"
	case errors.Is(err, fasthttp.ErrNoFreeConns):
		return "no_free_conns"
	case errors.Is(err, fasthttp.ErrConnectionClosed), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "conn_closed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "conn_refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "conn_reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken_pipe"
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return "response_too_large"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "other"
}

// Run performs one bounded run and returns its result. Server figures are
// read from cfg.Metrics before and after; if that fails the run still
// counts and Result.ServerError says why.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	tg, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	hc := &fasthttp.HostClient{
		Addr: tg.Addr.String(),
		Dial: func(addr string) (net.Conn, error) {
			dctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
			defer cancel()
			return loopback.Dial(dctx, addr)
		},
		MaxConns:                  cfg.Conns,
		MaxConnWaitTimeout:        cfg.Timeout,
		MaxIdleConnDuration:       time.Minute,
		MaxIdemponentCallAttempts: 1, // a retried request would be counted once and timed wrong
		NoDefaultUserAgentHeader:  true,
		DisablePathNormalizing:    true, // send malformed URIs as generated
		MaxResponseBodySize:       1 << 20,
	}
	defer hc.CloseIdleConnections()

	res := &Result{Mode: cfg.Mode.String(), Target: tg.URL(), Conns: cfg.Conns, Warmup: cfg.Warmup.Seconds(),
		Duration: cfg.Duration.Seconds(), MaxRequests: cfg.MaxRequests}
	if cfg.Mode == Open {
		res.OfferedRate = cfg.Rate
	}

	// The server's figures cover the measured window only, as the
	// latencies do: its scrapes are taken when the warm-up ends (a fresh
	// server fills its pools and caches then, and opens the connections)
	// and after the run. Scrapes back to back measure what one scrape
	// allocates in the server, so it can be subtracted: one pair when the
	// warm-up ends, more after the run (see scrapePairs).
	var before, baseline promtext.Samples
	var scrapeErr error
	scraped := make(chan struct{})
	scrape := func() {
		defer close(scraped)
		if cfg.Metrics == "" {
			return
		}
		baseline, scrapeErr = promtext.Fetch(ctx, cfg.Metrics)
		if scrapeErr == nil {
			before, scrapeErr = promtext.Fetch(ctx, cfg.Metrics)
		}
	}
	if cfg.Warmup > 0 {
		stopScrape := time.AfterFunc(cfg.Warmup, scrape)
		defer stopScrape.Stop()
	} else {
		scrape()
	}
	cpu0 := clientCPU()
	wall0 := time.Now()

	workers := make([]*worker, cfg.Conns)
	for i := range workers {
		workers[i] = newWorker()
	}
	var window time.Duration
	switch cfg.Mode {
	case Closed:
		window = runClosed(ctx, &cfg, hc, tg.Host, workers)
	case Open:
		window = runOpen(ctx, &cfg, hc, tg.Host, workers)
	}
	wall := time.Since(wall0)
	res.ClientCPUSeconds = clientCPU() - cpu0
	res.ClientCPUUtil = res.ClientCPUSeconds / wall.Seconds()
	res.Elapsed = window.Seconds()
	res.merge(workers)

	if cfg.Warmup > 0 && window == 0 {
		// Stopped before the warm-up ended: no window, no server figures.
		return res, nil
	}
	<-scraped
	switch {
	case scrapeErr != nil:
		res.ServerError = scrapeErr.Error()
	case before != nil:
		after, err := promtext.Fetch(ctx, cfg.Metrics)
		if err != nil {
			res.ServerError = err.Error()
			break
		}
		// The pairs after the run: after and the scrapes that follow it.
		pages := []promtext.Samples{after}
		for range scrapePairs - 1 {
			p, err := promtext.Fetch(ctx, cfg.Metrics)
			if err != nil {
				break // the pairs taken so far measure the scrape (ScrapePairs says how many)
			}
			pages = append(pages, p)
		}
		res.Server = serverStats(scrapeCostAround(baseline, before, pages), before, after, window, res.Measured, res.MeasuredEvents)
	}
	return res, nil
}

// runClosed keeps every connection busy until the time or count bound and
// returns the length of the measured window.
func runClosed(ctx context.Context, cfg *Config, hc *fasthttp.HostClient, host string, workers []*worker) time.Duration {
	start := time.Now()
	warmEnd := start.Add(cfg.Warmup)
	var stop atomic.Bool
	t := time.AfterFunc(cfg.Warmup+cfg.Duration, func() { stop.Store(true) })
	defer t.Stop()
	cancelStop := context.AfterFunc(ctx, func() { stop.Store(true) })
	defer cancelStop()

	var issued atomic.Int64
	var wg sync.WaitGroup
	n := len(cfg.Traffic)
	for i, w := range workers {
		wg.Go(func() {
			idx := i * n / len(workers)
			for !stop.Load() && issued.Add(1) <= cfg.MaxRequests {
				r := &cfg.Traffic[idx]
				if idx++; idx == n {
					idx = 0
				}
				w.fill(host, r)
				t0 := time.Now()
				err := hc.DoTimeout(&w.req, &w.resp, cfg.Timeout)
				w.account(r, err, !t0.Before(warmEnd), time.Since(t0))
			}
		})
	}
	wg.Wait()
	return max(time.Since(warmEnd), 0)
}

// openBacklog is how many released requests may wait for a free sender.
// When it is full the pacer waits too, but send times stay the intended
// ones, so queueing still shows in the latencies.
const openBacklog = 1 << 16

// runOpen releases requests at cfg.Rate to the senders. Each latency is
// measured from the request's intended send time. Requests still not sent
// a grace period after the end (a server far slower than the rate) are
// counted as unsent instead of stretching the run.
func runOpen(ctx context.Context, cfg *Config, hc *fasthttp.HostClient, host string, workers []*worker) time.Duration {
	interval := float64(time.Second) / cfg.Rate
	total := min(int64(cfg.Rate*(cfg.Warmup+cfg.Duration).Seconds()), cfg.MaxRequests)
	grace := max(time.Second, cfg.Duration/2)
	hardStop := cfg.Warmup + cfg.Duration + grace

	start := time.Now()
	sl := newSleeper()
	intended := func(i int64) time.Duration { return time.Duration(float64(i) * interval) }
	tokens := make(chan int64, openBacklog)

	var released atomic.Int64
	go func() { // the pacer
		var i int64
		defer close(tokens)
		defer func() { released.Store(i) }()
		defer sl.stop()
		for i < total && ctx.Err() == nil {
			now := time.Since(start)
			if now > hardStop {
				break
			}
			for ; i < total && intended(i) <= now; i++ {
				select {
				case tokens <- i:
				case <-ctx.Done():
					return
				}
			}
			if i < total && sl.sleep(pacerWait(intended(i)-time.Since(start))) != nil {
				break
			}
		}
	}()

	n := len(cfg.Traffic)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			for i := range tokens {
				due := intended(i)
				if time.Since(start) > hardStop || ctx.Err() != nil {
					w.unsent++
					continue
				}
				r := &cfg.Traffic[i%int64(n)]
				w.fill(host, r)
				err := hc.DoTimeout(&w.req, &w.resp, cfg.Timeout)
				w.account(r, err, due >= cfg.Warmup, time.Since(start)-due)
			}
		})
	}
	wg.Wait()
	if rest := total - released.Load(); rest > 0 {
		workers[0].unsent += rest
	}
	return max(time.Since(start)-cfg.Warmup, 0)
}
