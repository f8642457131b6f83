package delivery

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/anonymize"
)

// cacheNames are the label values of the privacy engine's caches, in the
// order anonymize.Engine.CachesStats returns them.
var cacheNames = [...]string{"consent", "user_agent", "url", "text"}

// cacheLookups is the collector of beacongate_anonymize_cache_lookups_total:
// the hits and misses of the serving engine's caches, read when scraped (a
// lookup counts under the cache shard's lock it takes anyway, so the
// request path pays nothing more), plus those of the engines it replaced.
// A result the engine finds in a worker's memo (the same consent signals,
// user agent or text as a recent request) never reaches the caches and is
// not counted.
// A reload builds an engine with empty caches; the counts of the one it
// replaces are added to retired then, so the counters never go down. A
// request still running on the replaced engine after that is not counted.
type cacheLookups struct {
	desc    *prometheus.Desc
	mu      sync.Mutex
	serving *anonymize.Engine
	retired [len(cacheNames)]anonymize.CacheStats
}

func newCacheLookups() *cacheLookups {
	return &cacheLookups{desc: prometheus.NewDesc("beacongate_anonymize_cache_lookups_total",
		"Lookups in the privacy engine's shared caches of consent decisions (consent), user-agent reductions (user_agent), cleaned URLs (url) and scanned short texts (text), by result (hit, miss): those a worker's memo of its last results did not answer first; summed over config reloads, each of which starts with empty caches.",
		[]string{"cache", "result"}, nil)}
}

// serve makes en the engine counted from now on.
func (c *cacheLookups) serve(en *anonymize.Engine) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if en == c.serving {
		return
	}
	if c.serving != nil {
		for i, s := range c.stats() {
			c.retired[i].Hits += s.Hits
			c.retired[i].Misses += s.Misses
		}
	}
	c.serving = en
}

// stats returns the serving engine's counts (zero without one). c.mu is
// held.
func (c *cacheLookups) stats() (s [len(cacheNames)]anonymize.CacheStats) {
	if c.serving != nil {
		s[0], s[1], s[2], s[3] = c.serving.CachesStats()
	}
	return s
}

// Describe implements prometheus.Collector.
func (c *cacheLookups) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *cacheLookups) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	s := c.stats()
	for i := range s {
		s[i].Hits += c.retired[i].Hits
		s[i].Misses += c.retired[i].Misses
	}
	c.mu.Unlock()
	for i, name := range cacheNames {
		for _, r := range [...]struct {
			result string
			n      uint64
		}{{"hit", s[i].Hits}, {"miss", s[i].Misses}} {
			if m, err := prometheus.NewConstMetric(c.desc, prometheus.CounterValue, float64(r.n), name, r.result); err == nil {
				ch <- m
			}
		}
	}
}

// Serving tells m that d now handles the gateway's events (at start, and
// when a config reload is applied): the cache lookup counters follow d's
// engine from then on.
func (m *Metrics) Serving(d *Deliverer) {
	m.caches.serve(d.engine)
}
