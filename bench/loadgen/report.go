package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/beacongate/beacongate/bench/promtext"
)

// Result is what one run measured. Counts cover the whole run, warm-up
// included; Latency and Throughput cover the measured window only.
type Result struct {
	Mode        string  `json:"mode"`
	Target      string  `json:"target"`
	Conns       int     `json:"conns"`
	OfferedRate float64 `json:"offered_rate,omitempty"` // open loop, requests/s
	Warmup      float64 `json:"warmup_s"`
	Duration    float64 `json:"duration_s"`
	MaxRequests int64   `json:"max_requests"`
	Elapsed     float64 `json:"elapsed_s"` // measured window as it happened

	Sent      int64 `json:"sent"`      // attempts, = Completed + sum(Errors)
	Completed int64 `json:"completed"` // HTTP responses received
	Measured  int64 `json:"measured"`  // responses in the measured window
	Unsent    int64 `json:"unsent"`    // open loop: released too late to send before the hard stop
	Events    int64 `json:"events"`    // events carried by requests answered 2xx
	// MeasuredEvents are the events of the measured requests answered 2xx.
	MeasuredEvents int64 `json:"measured_events"`
	BadBodies      int64 `json:"bad_bodies"`

	Throughput float64          `json:"throughput"` // Measured / Elapsed
	Latency    Latency          `json:"latency_us"`
	Status     map[string]int64 `json:"status"` // by HTTP status code
	Errors     map[string]int64 `json:"errors"` // transport errors by kind
	FirstError string           `json:"first_error,omitempty"`

	ClientCPUSeconds float64 `json:"client_cpu_s"`
	ClientCPUUtil    float64 `json:"client_cpu_util"` // cores busy, 1 = one full core

	Server      *ServerStats `json:"server,omitempty"`
	ServerError string       `json:"server_error,omitempty"`
}

// Latency holds percentiles in microseconds.
type Latency struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	Max   float64 `json:"max"`
}

// LatencyOf reads the percentiles of a histogram of nanoseconds.
func LatencyOf(h *hdrhistogram.Histogram) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	us := func(ns int64) float64 { return float64(ns) / 1e3 }
	return Latency{
		Count: h.TotalCount(),
		Mean:  h.Mean() / 1e3,
		P50:   us(h.ValueAtQuantile(50)),
		P90:   us(h.ValueAtQuantile(90)),
		P99:   us(h.ValueAtQuantile(99)),
		P999:  us(h.ValueAtQuantile(99.9)),
		Max:   us(h.Max()),
	}
}

// ServerStats are the server's own figures over the measured window (the
// warm-up left out), from its /metrics.
type ServerStats struct {
	CPUSeconds    float64 `json:"cpu_s"`          // process_cpu_seconds_total delta
	CPUUtil       float64 `json:"cpu_util"`       // cores busy, 1 = one full core
	Mallocs       float64 `json:"mallocs"`        // go_memstats_mallocs_total delta, one scrape subtracted
	ScrapeMallocs float64 `json:"scrape_mallocs"` // what one /metrics scrape allocated: the median of the pairs measured
	// The least and the most one scrape allocated among the ScrapePairs
	// pairs measured (scrapePairs, fewer if a scrape after the run
	// failed). A gateway's scrape allocates 824–3,247 objects, varying
	// from one scrape to the next, and the window holds about one
	// scrape's worth, so the window's figure is uncertain by up to the
	// range.
	ScrapeMallocsMin float64 `json:"scrape_mallocs_min"`
	ScrapeMallocsMax float64 `json:"scrape_mallocs_max"`
	ScrapePairs      int     `json:"scrape_pairs"`
	// Per response of the measured window (Measured), and per event in
	// its requests answered 2xx (MeasuredEvents).
	CPUMicrosPerRequest float64 `json:"cpu_us_per_request"`
	AllocsPerRequest    float64 `json:"allocs_per_request"`
	CPUMicrosPerEvent   float64 `json:"cpu_us_per_event"`
	// AllocsUncertainty is the scrapes' whole range (max − min) per
	// request: the allocation figure is known to ± this at most.
	AllocsUncertainty float64 `json:"allocs_uncertainty"`
	// CacheHitRates is, per cache of the gateway's privacy engine with
	// lookups in the window, the share of them that hit
	// (beacongate_anonymize_cache_lookups_total); nil for a server
	// without that series.
	CacheHitRates map[string]float64 `json:"cache_hit_rates,omitempty"`
}

// cacheLookups is the gateway's series of its engine's cache lookups, by
// cache and result (hit or miss).
const cacheLookups = "beacongate_anonymize_cache_lookups_total"

// cacheHitRates returns the share of hits among each cache's lookups from
// before to after, for the caches with lookups between them.
func cacheHitRates(before, after promtext.Samples) map[string]float64 {
	type count struct{ hit, all float64 }
	counts := map[string]*count{}
	add := func(page promtext.Samples, sign float64) {
		for _, x := range page {
			if x.Name != cacheLookups {
				continue
			}
			cache, ok1 := x.Label("cache")
			result, ok2 := x.Label("result")
			if !ok1 || !ok2 {
				continue
			}
			c := counts[cache]
			if c == nil {
				c = &count{}
				counts[cache] = c
			}
			c.all += sign * x.Value
			if result == "hit" {
				c.hit += sign * x.Value
			}
		}
	}
	add(after, 1)
	add(before, -1)
	var rates map[string]float64
	for cache, c := range counts {
		if c.all > 0 {
			if rates == nil {
				rates = map[string]float64{}
			}
			rates[cache] = c.hit / c.all
		}
	}
	return rates
}

// scrapeCost is what one /metrics scrape allocated, from pairs of scrapes
// taken back to back: each pair's go_memstats_mallocs_total delta. The
// median is subtracted from the window's count; min and max say how much
// a scrape varies.
type scrapeCost struct {
	median, min, max float64
	pairs            int
}

// scrapeCostOf reads the cost of a scrape from runs of scrapes, each
// scrape of a run taken right after the one before it: every two
// neighbours in a run are a pair.
func scrapeCostOf(runs ...[]promtext.Samples) scrapeCost {
	var d []float64
	for _, pages := range runs {
		for i := 1; i < len(pages); i++ {
			if v, ok := delta(pages[i-1], pages[i], promtext.Mallocs); ok {
				d = append(d, v)
			}
		}
	}
	if len(d) == 0 {
		return scrapeCost{}
	}
	slices.Sort(d)
	return scrapeCost{median: d[(len(d)-1)/2], min: d[0], max: d[len(d)-1], pairs: len(d)}
}

// scrapeCostAround measures a scrape from the pair baseline, before (taken
// when the warm-up ended) and the run of scrapes taken after the run, which
// starts with the window's last scrape: the window itself, from before to
// the first of after, is never a pair.
func scrapeCostAround(baseline, before promtext.Samples, after []promtext.Samples) scrapeCost {
	return scrapeCostOf([]promtext.Samples{baseline, before}, after)
}

// delta is the growth of counter name from s0 to s1; 0 and false when a
// page lacks it.
func delta(s0, s1 promtext.Samples, name string) (float64, bool) {
	a, ok0 := s0.Get(name)
	b, ok1 := s1.Get(name)
	if !ok0 || !ok1 {
		return 0, false
	}
	return b - a, true
}

// serverStats compares two scrapes, before taken when the warm-up ended
// and after after the run, less the cost of a scrape; window is the
// measured window, completed and events its responses and their events.
// process_cpu_seconds_total ticks in 10 ms steps, so CPU figures need runs
// of seconds.
func serverStats(scrape scrapeCost, before, after promtext.Samples, window time.Duration, completed, events int64) *ServerStats {
	cpu, _ := delta(before, after, promtext.CPUSeconds)
	mallocs, _ := delta(before, after, promtext.Mallocs)
	s := &ServerStats{CPUSeconds: cpu, ScrapeMallocs: scrape.median, ScrapeMallocsMin: scrape.min, ScrapeMallocsMax: scrape.max,
		ScrapePairs: scrape.pairs}
	s.Mallocs = max(mallocs-scrape.median, 0)
	s.CacheHitRates = cacheHitRates(before, after)
	if window > 0 {
		s.CPUUtil = s.CPUSeconds / window.Seconds()
	}
	if completed > 0 {
		s.CPUMicrosPerRequest = s.CPUSeconds * 1e6 / float64(completed)
		s.AllocsPerRequest = s.Mallocs / float64(completed)
		s.AllocsUncertainty = (scrape.max - scrape.min) / float64(completed)
	}
	if events > 0 {
		s.CPUMicrosPerEvent = s.CPUSeconds * 1e6 / float64(events)
	}
	return s
}

func (r *Result) merge(workers []*worker) {
	hist := hdrhistogram.New(histMin, histMax, 3)
	r.Status, r.Errors = map[string]int64{}, map[string]int64{}
	for _, w := range workers {
		hist.Merge(w.hist)
		r.Sent += w.sent
		r.Completed += w.completed
		r.Measured += w.measured
		r.Unsent += w.unsent
		r.Events += w.events
		r.MeasuredEvents += w.measuredEvents
		r.BadBodies += w.badBodies
		for code, n := range w.status {
			r.Status[strconv.Itoa(code)] += n
		}
		for k, n := range w.errs {
			r.Errors[k] += n
		}
		if r.FirstError == "" && w.firstErr != nil {
			r.FirstError = w.firstErr.Error()
		}
	}
	r.Latency = LatencyOf(hist)
	if r.Elapsed > 0 {
		r.Throughput = float64(r.Measured) / r.Elapsed
	}
}

// ErrorCount is the number of failed attempts.
func (r *Result) ErrorCount() int64 {
	var n int64
	for _, v := range r.Errors {
		n += v
	}
	return n
}

// JSON returns the result as indented JSON.
func (r *Result) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

// WriteText writes the result as an aligned two-column table.
func (r *Result) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }

	mode := fmt.Sprintf("closed loop, %d connections", r.Conns)
	if r.Mode == "open" {
		mode = fmt.Sprintf("open loop, %s req/s offered, %d senders", Group(r.OfferedRate, 0), r.Conns)
	}
	row("mode", mode)
	row("target", r.Target)
	row("window", fmt.Sprintf("%.2f s measured after %.2f s warm-up (bounds: %.0f s, %s requests)",
		r.Elapsed, r.Warmup, r.Warmup+r.Duration, Group(float64(r.MaxRequests), 0)))
	reqs := fmt.Sprintf("%s sent, %s answered, %s errors", Group(float64(r.Sent), 0), Group(float64(r.Completed), 0), Group(float64(r.ErrorCount()), 0))
	if r.Unsent > 0 {
		reqs += fmt.Sprintf(", %s not sent (server too slow for the rate)", Group(float64(r.Unsent), 0))
	}
	row("requests", reqs)
	row("throughput", fmt.Sprintf("%s req/s (%s measured)", Group(r.Throughput, 0), Group(float64(r.Measured), 0)))
	row("events", fmt.Sprintf("%s in requests answered 2xx", Group(float64(r.Events), 0)))
	row("latency µs", FormatLatency(r.Latency))
	row("status", formatCounts(r.Status))
	row("errors", formatCounts(r.Errors))
	if r.FirstError != "" {
		row("first error", r.FirstError)
	}
	if r.BadBodies > 0 {
		row("bad bodies", fmt.Sprintf("%d pixel answers were not a 43-byte GIF", r.BadBodies))
	}
	row("client CPU", fmt.Sprintf("%.2f s, %.0f %% of one core", r.ClientCPUSeconds, 100*r.ClientCPUUtil))
	switch {
	case r.Server != nil:
		s := r.Server
		row("server CPU", fmt.Sprintf("%.2f s, %.0f %% of one core; %.2f µs/request, %.2f µs/event",
			s.CPUSeconds, 100*s.CPUUtil, s.CPUMicrosPerRequest, s.CPUMicrosPerEvent))
		row("server allocs", fmt.Sprintf("%.3f ± %.3f allocs/request (%s in the measured window; one /metrics scrape subtracted: %s allocs, the median of %d pairs of scrapes, %s–%s)",
			s.AllocsPerRequest, s.AllocsUncertainty, Group(s.Mallocs, 0), Group(s.ScrapeMallocs, 0), s.ScrapePairs,
			Group(s.ScrapeMallocsMin, 0), Group(s.ScrapeMallocsMax, 0)))
		if len(s.CacheHitRates) > 0 {
			names := slices.Sorted(maps.Keys(s.CacheHitRates))
			parts := make([]string, len(names))
			for i, n := range names {
				parts[i] = fmt.Sprintf("%s %.1f %%", n, 100*s.CacheHitRates[n])
			}
			row("cache hits", strings.Join(parts, ", ")+" of the lookups a worker's memo did not answer")
		}
	case r.ServerError != "":
		row("server", "no figures: "+r.ServerError)
	}
	return tw.Flush()
}

// FormatLatency formats percentiles on one line.
func FormatLatency(l Latency) string {
	if l.Count == 0 {
		return "no responses measured"
	}
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  mean %s  (n=%s)",
		Group(l.P50, 0), Group(l.P90, 0), Group(l.P99, 0), Group(l.P999, 0), Group(l.Max, 0), Group(l.Mean, 0), Group(float64(l.Count), 0))
}

// formatCounts lists a count map as "k: n" sorted by key, or "none".
func formatCounts(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %s", k, Group(float64(m[k]), 0))
	}
	return b.String()
}

// Group formats v with prec decimals and thousands separated by commas.
func Group(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}
