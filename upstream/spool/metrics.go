package spool

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// metrics are the spool's Prometheus metrics. Label values are resolved once
// here, so the hot path only does atomic adds.
type metrics struct {
	records, bytes prometheus.Counter
	writes, fsyncs prometheus.Counter
	tornBytes      prometheus.Counter
	dropped        *prometheus.CounterVec
	dropFull       prometheus.Counter
	dropDisk       prometheus.Counter
	dropClosed     prometheus.Counter
	dropInvalid    prometheus.Counter
	corrupt        *prometheus.CounterVec
	corruptBytes   *prometheus.CounterVec
	quarantined    prometheus.Counter
	readsMemory    prometheus.Counter
	readsDisk      prometheus.Counter
	gathers        prometheus.Counter
	recycled       prometheus.Counter
	all            []prometheus.Collector
	reg            prometheus.Registerer
}

// Drop reasons, the values of the "reason" label of
// beacongate_upstream_dropped_records_total.
const (
	DropFull    = "full"
	DropDisk    = "disk"
	DropClosed  = "closed"
	DropInvalid = "invalid"
)

func newMetrics(s *Spool, names []string) metrics {
	ns := s.opts.MetricPrefix
	if ns == "" {
		ns = "beacongate_upstream"
	}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help})
	}
	m := metrics{
		records:   counter("spooled_records_total", "Records written to the spool."),
		bytes:     counter("spooled_bytes_total", "Bytes written to the spool, frame headers included."),
		writes:    counter("spool_writes_total", "Group writes to the spool: records per write = spooled_records_total / this."),
		fsyncs:    counter("spool_fsyncs_total", "fsync calls on spool segments."),
		tornBytes: counter("spool_torn_bytes_total", "Bytes of torn or damaged segment tails truncated when the spool was opened."),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "dropped_records_total",
			Help: "Records refused by the spool, by reason: full, disk, closed, invalid."}, []string{"reason"}),
		corrupt: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "corrupt_records_total",
			Help: "Damaged spool frames skipped while reading, by destination: one per damaged frame whose extent its intact neighbours show, at least one per damaged region."}, []string{"destination"}),
		corruptBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "corrupt_bytes_total",
			Help: "Bytes of damaged spool frames skipped while reading, by destination (torn tails cut at start are in spool_torn_bytes_total)."}, []string{"destination"}),
		gathers:     counter("spool_gathers_total", "Group writes whose leader waited spool.gather_window for more appends."),
		recycled:    counter("spool_recycled_segments_total", "Delivered spool segments overwritten with zeros and kept as the next segment's file instead of being deleted (process durability)."),
		quarantined: counter("spool_quarantined_files_total", "Damaged spool segments, and damaged tails cut off at start, kept in the spool's quarantine folder instead of being deleted."),
	}
	reads := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "spool_reads_total",
		Help: "Reads of spooled bytes by the shippers, by source: memory (the newest bytes, kept after their write) or disk (a shipper behind, or after a restart)."}, []string{"source"})
	m.readsMemory = reads.WithLabelValues("memory")
	m.readsDisk = reads.WithLabelValues("disk")
	m.dropFull = m.dropped.WithLabelValues(DropFull)
	m.dropDisk = m.dropped.WithLabelValues(DropDisk)
	m.dropClosed = m.dropped.WithLabelValues(DropClosed)
	m.dropInvalid = m.dropped.WithLabelValues(DropInvalid)
	for _, n := range names {
		m.corrupt.WithLabelValues(n)
		m.corruptBytes.WithLabelValues(n)
	}
	size := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "spool_size_bytes",
		Help: "Bytes of the spool's segments (frames and headers), which spool_max_bytes caps; in process durability the files can hold about two segments more (a recycled reserve, the unused end of the segment being written)."}, func() float64 { return float64(s.Size()) })
	segs := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "spool_segments",
		Help: "Spool segment files."}, func() float64 { return float64(s.segmentCount()) })
	maxBytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "spool_max_bytes",
		Help: "Configured spool size cap."}, func() float64 { return float64(s.opts.MaxBytes) })
	m.all = []prometheus.Collector{m.records, m.bytes, m.writes, m.fsyncs, m.tornBytes,
		m.dropped, m.corrupt, m.corruptBytes, m.quarantined, m.gathers, m.recycled, reads, size, segs, maxBytes}
	return m
}

// Collectors returns the spool's metrics, for a caller that registers
// them itself rather than through Options.Registerer (Close does not
// unregister those).
func (s *Spool) Collectors() []prometheus.Collector { return s.m.all }

func (m *metrics) register(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	for i, c := range m.all {
		if err := reg.Register(c); err != nil {
			for _, c := range m.all[:i] {
				reg.Unregister(c)
			}
			return errors.Join(errors.New("spool: cannot register metrics"), err)
		}
	}
	m.reg = reg
	return nil
}

func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.all {
		m.reg.Unregister(c)
	}
	m.reg = nil
}

// Counters for tests and for callers that report numbers without scraping.

// Dropped returns how many records were refused for reason (one of the Drop
// constants).
func (s *Spool) Dropped(reason string) uint64 {
	return uint64(counterValue(s.m.dropped.WithLabelValues(reason)))
}

// Corrupt returns how many damaged frames or segments destination i skipped.
func (s *Spool) Corrupt(i int) uint64 {
	return uint64(counterValue(s.readers[i].corrupt))
}

// CorruptBytes returns how many bytes of damaged frames destination i skipped.
func (s *Spool) CorruptBytes(i int) uint64 {
	return uint64(counterValue(s.readers[i].corruptBytes))
}

// Quarantined returns how many files were moved to the quarantine folder.
func (s *Spool) Quarantined() uint64 { return uint64(counterValue(s.m.quarantined)) }

// Reads returns how many reads of spooled bytes the readers served from
// memory and from disk.
func (s *Spool) Reads() (memory, disk uint64) {
	return uint64(counterValue(s.m.readsMemory)), uint64(counterValue(s.m.readsDisk))
}

// TornBytes returns the bytes of torn tail truncated by Open.
func (s *Spool) TornBytes() uint64 { return uint64(counterValue(s.m.tornBytes)) }

// counterValue reads a counter; it allocates, so it is not for hot paths.
func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil || m.Counter == nil {
		return 0
	}
	return m.Counter.GetValue()
}
