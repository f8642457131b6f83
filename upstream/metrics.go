package upstream

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

const ns = "beacongate_upstream"

// pipelineMetrics are the per-destination metrics of a Pipeline (the spool
// registers its own). Every label is "destination", a configured name.
type pipelineMetrics struct {
	batches, records, bytes, rawBytes *prometheus.CounterVec
	retries, deadBatches, deadRecords *prometheus.CounterVec
	redirects, authFailures           *prometheus.CounterVec
	latency                           *prometheus.HistogramVec
	unrouted                          prometheus.Counter
	taps                              prometheus.Gauge
	tapsCut                           prometheus.Counter
	all                               []prometheus.Collector
	reg                               prometheus.Registerer
}

// destMetrics are one destination's children, resolved once.
type destMetrics struct {
	batches, records, bytes, rawBytes prometheus.Counter
	retries, deadBatches, deadRecords prometheus.Counter
	refusals                          [3]prometheus.Counter // by Refusal; [RefusalNone] is nil
	latency                           prometheus.Observer
}

func newPipelineMetrics() *pipelineMetrics {
	vec := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help},
			[]string{"destination"})
	}
	m := &pipelineMetrics{
		batches:     vec("sent_batches_total", "Batches acknowledged by the destination."),
		records:     vec("sent_records_total", "Records acknowledged by the destination (at least once: resends count again)."),
		bytes:       vec("sent_bytes_total", "Bytes sent on the wire, compressed."),
		rawBytes:    vec("sent_raw_bytes_total", "Bytes of NDJSON sent, before compression."),
		retries:     vec("send_retries_total", "Failed send attempts that will be retried."),
		deadBatches: vec("dead_letter_batches_total", "Batches refused for good and moved to the dead-letter folder."),
		deadRecords: vec("dead_letter_records_total", "Records in dead-lettered batches."),
		redirects: vec("send_redirects_total", "Send attempts answered with a redirect (never followed; retried, "+
			"dead-lettered after retry.redirect_dead_letter_after)."),
		authFailures: vec("send_auth_failures_total", "Send attempts whose credentials were refused (HTTP 401/403, "+
			"Kafka authorization errors; retried, dead-lettered after retry.auth_dead_letter_after)."),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "send_duration_seconds",
			Help:    "Duration of one send attempt.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14)}, []string{"destination"}),
		unrouted: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "unrouted_records_total",
			Help: "Records routed to no destination, not stored."}),
		taps: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "taps",
			Help: "Live taps (beacongate tap) open."}),
		tapsCut: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "taps_cut_total",
			Help: "Live taps cut off because their reader fell behind."}),
	}
	m.all = []prometheus.Collector{m.batches, m.records, m.bytes, m.rawBytes, m.retries,
		m.deadBatches, m.deadRecords, m.redirects, m.authFailures, m.latency, m.unrouted, m.taps, m.tapsCut}
	return m
}

func (m *pipelineMetrics) forDestination(sh *shipper) destMetrics {
	n := sh.name
	label := prometheus.Labels{"destination": n}
	gauge := func(name, help string, fn func() float64) {
		m.all = append(m.all, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: ns, Name: name, Help: help, ConstLabels: label}, fn))
	}
	gauge("oldest_unsent_record_age_seconds", "Age of the oldest record read but not yet acknowledged; 0 when none.",
		func() float64 {
			ms := sh.oldestMS.Load()
			if ms == 0 {
				return 0
			}
			return max(0, sh.p.clock.Now().Sub(time.UnixMilli(ms)).Seconds())
		})
	gauge("batch_max_age_seconds", "The destination's batch.max_age: how long a record read may wait for its batch to fill before it is sent (oldest_unsent_record_age_seconds reaches it when healthy).",
		func() float64 { return sh.opts.Batch.MaxAge.Seconds() })
	gauge("lag_bytes", "Spool bytes after the destination's committed cursor.",
		func() float64 { return float64(sh.r.Lag()) })
	gauge("compression_ratio", "Uncompressed / sent bytes since start; 0 before the first batch.",
		func() float64 {
			enc := sh.encBytes.Load()
			if enc == 0 {
				return 0
			}
			return float64(sh.rawBytes.Load()) / float64(enc)
		})
	gauge("failing_seconds", "How long every attempt to send the destination's current batch has failed (retried); 0 once it is delivered or dead-lettered. Alert on it: retries may be minutes apart (Retry-After, max_backoff).",
		func() float64 { return sh.failingFor().Seconds() })
	gauge("auth_failing_seconds", "How long the destination has refused the credentials (401/403) without a delivery since; 0 when it does not. Alert on it: batches are dead-lettered once it passes retry.auth_dead_letter_after.",
		func() float64 { return sh.refusedFor(RefusalAuth).Seconds() })
	gauge("redirect_failing_seconds", "How long the destination has answered with redirects without a delivery since; 0 when it does not.",
		func() float64 { return sh.refusedFor(RefusalRedirect).Seconds() })
	return destMetrics{
		batches:     m.batches.WithLabelValues(n),
		records:     m.records.WithLabelValues(n),
		bytes:       m.bytes.WithLabelValues(n),
		rawBytes:    m.rawBytes.WithLabelValues(n),
		retries:     m.retries.WithLabelValues(n),
		deadBatches: m.deadBatches.WithLabelValues(n),
		deadRecords: m.deadRecords.WithLabelValues(n),
		refusals:    [3]prometheus.Counter{nil, m.redirects.WithLabelValues(n), m.authFailures.WithLabelValues(n)},
		latency:     m.latency.WithLabelValues(n),
	}
}

func (m *pipelineMetrics) register(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	for i, c := range m.all {
		if err := reg.Register(c); err != nil {
			for _, c := range m.all[:i] {
				reg.Unregister(c)
			}
			return errors.Join(errors.New("upstream: cannot register metrics"), err)
		}
	}
	m.reg = reg
	return nil
}

func (m *pipelineMetrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.all {
		m.reg.Unregister(c)
	}
	m.reg = nil
}

// DestinationStats are counters of one destination since Open.
type DestinationStats struct {
	Name             string
	Batches, Records uint64 // acknowledged (resends count again)
	Bytes, RawBytes  uint64 // sent compressed, and before compression
	Retries          uint64
	DeadBatches      uint64
	DeadRecords      uint64
	Corrupt          uint64 // damaged spool frames skipped
	CorruptBytes     uint64 // bytes of damaged spool frames skipped
	LagBytes         uint64
}

// Stats returns every destination's counters, in route-bit order. It
// allocates; it is for tests, tools and logs, not for the hot path.
func (p *Pipeline) Stats() []DestinationStats {
	st := make([]DestinationStats, len(p.shippers))
	for i, sh := range p.shippers {
		st[i] = DestinationStats{
			Name:         sh.name,
			Batches:      counterValue(sh.m.batches),
			Records:      counterValue(sh.m.records),
			Bytes:        counterValue(sh.m.bytes),
			RawBytes:     counterValue(sh.m.rawBytes),
			Retries:      counterValue(sh.m.retries),
			DeadBatches:  counterValue(sh.m.deadBatches),
			DeadRecords:  counterValue(sh.m.deadRecords),
			Corrupt:      p.spool.Corrupt(i),
			CorruptBytes: p.spool.CorruptBytes(i),
			LagBytes:     sh.r.Lag(),
		}
	}
	return st
}

// Dropped returns how many records the spool refused for reason: "full",
// "disk", "closed" or "invalid".
func (p *Pipeline) Dropped(reason string) uint64 { return p.spool.Dropped(reason) }

func counterValue(c prometheus.Counter) uint64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil || m.Counter == nil {
		return 0
	}
	return uint64(m.Counter.GetValue())
}
