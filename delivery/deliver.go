// Package delivery runs the privacy engine on each event the gateway hands
// over and appends its records to the spool, one per distinct destination
// policy, routed to the destinations that share it: the step between the
// HTTP package (requests → events) and package upstream (spool →
// destinations). It counts what the engine decided.
package delivery

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/anonymize/scrub"
	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/internal/freelist"
	"github.com/beacongate/beacongate/upstream"
)

// Spool is where anonymized records go: upstream.Pipeline in production.
type Spool interface {
	Append(record []byte, route upstream.Route) error
}

// enqueuer is a Spool whose records can share one wait for durability:
// upstream.Pipeline. HandleEvents uses it to enqueue a request's records
// and wait once.
type enqueuer interface {
	Enqueue(p *upstream.Pending, record []byte, route upstream.Route) error
	Wait(p *upstream.Pending) error
}

// withdrawer is an enqueuer that can take a request's records back before
// they are written: upstream.Pipeline.
type withdrawer interface {
	Withdraw(p *upstream.Pending) bool
}

// readySpool is a Spool that tells, without appending or counting anything,
// whether it is full: upstream.Pipeline's Ready returns ErrFull then.
type readySpool interface {
	Ready() error
}

// Deliverer is the gateway.EventHandler that runs the privacy engine on each event
// and appends its records to the spool: one per distinct policy among the
// destinations whose required purposes the event's consent covers, routed
// to the destinations that share it. It is immutable; a config reload
// builds a new one around the same spool and metrics.
type Deliverer struct {
	engine   *anonymize.Engine
	spool    Spool
	metrics  *Metrics
	shed     [4]bool // by event.Kind: refuse at once while the spool is full
	ready    readySpool
	enq      enqueuer   // the spool, when it can enqueue; nil otherwise
	suppress Suppressor // nil: no suppression list (suppress.go)
}

// NewDeliverer returns a Deliverer. The engine routes: destination i of its
// config is upstream.RouteTo(i).
func NewDeliverer(engine *anonymize.Engine, spool Spool, m *Metrics) *Deliverer {
	d := &Deliverer{engine: engine, spool: spool, metrics: m}
	d.enq, _ = spool.(enqueuer)
	return d
}

// ShedWhenFull returns a copy of d that refuses events of the given kinds at
// once, with upstream.ErrFull, while the spool reports itself full, instead
// of handing them to the spool. It lets one spool serve two policies: the
// spool is opened with upstream.FullBlock, so the other kinds wait up to its
// BlockTimeout for space, while these are shed (spool.when_full: shed with
// pixel_when_full: block, or the reverse). A spool without a Ready method
// is never asked, and decides alone. The spool counts itself full a little
// early (room for one largest record), so shedding starts slightly sooner
// than a shedding spool would.
func (d *Deliverer) ShedWhenFull(kinds ...event.Kind) *Deliverer {
	c := *d
	c.ready, _ = d.spool.(readySpool)
	for _, k := range kinds {
		if int(k) < len(c.shed) {
			c.shed[k] = true
		}
	}
	return &c
}

// delivery is the state of one HandleEvent call: the record buffer and the
// engine's Emitter. The engine uses the buffer's spare capacity as scratch
// for URL cleaning, so buffers start large and are kept.
type delivery struct {
	buf     []byte
	d       *Deliverer
	kind    event.Kind
	checked bool // the shedding check ran for this event
	// deferred: records are enqueued into pending, and HandleEvents
	// waits for them once; otherwise each is appended and waited for.
	deferred bool
	pending  upstream.Pending
}

var deliveries = freelist.New(1024, func() *delivery { return &delivery{buf: make([]byte, 0, deliveryBufBytes)} })

// deliveryBufBytes is a new delivery's record buffer; maxKeptRecordBuffer
// the longest one kept when it goes back to deliveries, which the garbage
// collector never empties. A record is a few KiB at most but for an event
// of many long properties: properties escaped in JSON (each '<' written
// \u003c) made a 64 KiB beacon a 352 KiB record, and its buffer was kept
// at that for good (1,024 of them: 432 MiB).
const (
	deliveryBufBytes    = 16 << 10
	maxKeptRecordBuffer = 64 << 10
)

// putDelivery puts dv back in deliveries, its record buffer replaced when
// a long record grew it beyond maxKeptRecordBuffer.
func putDelivery(dv *delivery) {
	if cap(dv.buf) > maxKeptRecordBuffer {
		dv.buf = make([]byte, 0, deliveryBufBytes)
	}
	deliveries.Put(dv)
}

// EmitRecord implements anonymize.Emitter: it appends one record to the
// spool. Before the event's first record it refuses the event while the
// spool is full and its kind is shed.
func (dv *delivery) EmitRecord(rec []byte, dests anonymize.Dests) error {
	d := dv.d
	if !dv.checked {
		dv.checked = true
		if int(dv.kind) < len(d.shed) && d.shed[dv.kind] && d.ready != nil && errors.Is(d.ready.Ready(), upstream.ErrFull) {
			return upstream.ErrFull
		}
	}
	if dv.deferred {
		return d.enq.Enqueue(&dv.pending, rec, upstream.Route(dests))
	}
	return d.spool.Append(rec, upstream.Route(dests))
}

// HandleEvent implements gateway.EventHandler: its records are durable
// when it returns nil.
func (d *Deliverer) HandleEvent(e *event.Event) error {
	dv := deliveries.Get()
	dv.d = d
	err := d.handle(dv, e)
	dv.d = nil
	putDelivery(dv)
	return err
}

// HandleEvents implements gateway.RequestHandler: it handles a request's
// events in order, as HandleEvent does, but when the spool can enqueue
// (upstream.Pipeline) their records share group writes and it waits for
// durability once, after the last event, instead of once per record. It
// returns how many events were accepted, all of them or those before the
// first one refused, and the refusal: none when the spool could take back
// what the request had enqueued (the usual case: see
// upstream.Pipeline.Withdraw), so that a refused request stores nothing;
// when the write itself fails, none (their records may be lost) and the
// disk error.
func (d *Deliverer) HandleEvents(events []event.Event) (accepted int, err error) {
	dv := deliveries.Get()
	dv.d, dv.deferred = d, d.enq != nil
	accepted = len(events)
	stored := 0 // events with a record waiting in dv.pending
	for i := range events {
		before := dv.pending.Len()
		if err = d.handle(dv, &events[i]); err != nil {
			accepted = i // handle counted it
			break
		}
		if dv.pending.Len() > before {
			stored++
		}
	}
	if err != nil && dv.deferred && dv.pending.Len() > 0 {
		// The request is refused (the spool filled up part-way, say):
		// take back what it enqueued, so that the refusal stores none of
		// its events. Otherwise the client's retry would store the ones
		// before again, and a destination could keep part of an event
		// whose other records were refused.
		if w, ok := d.enq.(withdrawer); ok && w.Withdraw(&dv.pending) {
			d.metrics.dropped[dropSpool].Add(float64(stored))
			accepted = 0
		}
	}
	if dv.deferred {
		if werr := d.enq.Wait(&dv.pending); werr != nil {
			// The accepted events whose records may now be lost; those
			// that stored nothing (dropped, suppressed) are counted
			// under their own reasons.
			d.metrics.dropped[dropSpool].Add(float64(stored))
			accepted, err = 0, werr
		}
	}
	dv.d, dv.deferred, dv.pending = nil, false, upstream.Pending{}
	putDelivery(dv)
	return accepted, err
}

// handle runs the engine on e with dv as its Emitter and counts what it
// decided.
func (d *Deliverer) handle(dv *delivery, e *event.Event) error {
	if d.suppress != nil && d.suppress.Suppressed(e) {
		return nil // before anything else: not anonymized, not stored
	}
	dv.kind, dv.checked = e.Kind, false
	buf, res, err := d.engine.AppendRecords(dv.buf[:0], e, dv)
	dv.buf = buf[:0]
	m := d.metrics
	if res.Records > 0 {
		m.records[res.State].Add(float64(res.Records))
	}
	if err != nil {
		m.dropped[dropSpool].Inc()
		return err
	}
	if res.Drop {
		if res.HTTPClient {
			m.dropped[dropHTTPClient].Inc()
		} else {
			m.dropped[dropBot].Inc()
		}
		return nil
	}
	m.countConsentProblems(res.Malformed, res.Rejected)
	if res.VendorRefused != 0 {
		for r, n := range res.VendorReasons {
			if n != 0 {
				m.vendorRefused[r].Add(float64(n))
			}
		}
	}
	if res.DroppedProps != 0 {
		m.droppedProps.Add(float64(res.DroppedProps))
	}
	if res.Scrubbed != 0 {
		for k := scrub.KindEmail; k <= scrub.KindLast; k++ {
			if res.Scrubbed.Has(k) {
				m.scrubbed[k].Inc()
			}
		}
	}
	if res.Dests == 0 {
		m.dropped[dropNoDestination].Inc()
	}
	return nil
}

// Consent signals that can be malformed (GPC and DNT are one bit each), and
// those that can decode yet not be relied on.
var (
	malformableSignals = [...]consent.Signal{consent.SignalExplicit, consent.SignalTCF, consent.SignalConsentMode, consent.SignalUSPrivacy, consent.SignalGPP}
	rejectableSignals  = [...]consent.Signal{consent.SignalTCF, consent.SignalGPP}
)

// countConsentProblems counts each malformed and each rejected signal.
func (m *Metrics) countConsentProblems(malformed, rejected consent.SignalSet) {
	if malformed|rejected == 0 {
		return
	}
	for i, sig := range malformableSignals {
		if malformed.Has(sig) {
			m.consentMalformed[i].Inc()
		}
	}
	for i, sig := range rejectableSignals {
		if rejected.Has(sig) {
			m.consentRejected[i].Inc()
		}
	}
}

const (
	dropBot = iota
	dropNoDestination
	dropSpool
	dropHTTPClient
	numDrops
)

// Metrics counts what the Deliverer decides. Create it once and share
// it across reloads.
type Metrics struct {
	records  [3]prometheus.Counter
	dropped  [numDrops]prometheus.Counter
	scrubbed [scrub.KindLast + 1]prometheus.Counter
	// per signal, in the order of malformableSignals and rejectableSignals
	consentMalformed [len(malformableSignals)]prometheus.Counter
	consentRejected  [len(rejectableSignals)]prometheus.Counter
	droppedProps     prometheus.Counter
	vendorRefused    [consent.NumVendorReasons]prometheus.Counter
	caches           *cacheLookups // see Serving
}

// NewMetrics registers the delivery counters on reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	records := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "beacongate_anonymize_records_total",
		Help: "Records produced (one per distinct destination policy of an event), by the consent state whose policy applied.",
	}, []string{"state"})
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "beacongate_anonymize_dropped_total",
		Help: "Events not delivered, by reason: bot (a crawler under policy bots: drop), http_client (an HTTP client library under policy http_clients: drop), no_destination (no destination accepts the event's consent), spool (the spool refused it, or the write of the request's records failed; the request was answered 503).",
	}, []string{"reason"})
	scrubbed := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "beacongate_anonymize_scrubbed_total",
		Help: "Records from which personal data was removed from free text, by kind.",
	}, []string{"kind"})
	droppedProps := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "beacongate_anonymize_dropped_properties_total",
		Help: "Allowlisted properties left out of records because their value is not writable as JSON every consumer decodes (a number beyond float64, a malformed literal).",
	})
	malformed := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "beacongate_anonymize_consent_malformed_total",
		Help: "Events carrying a consent signal that did not decode (an unknown purpose name, a broken TC string, ...), counted as a refusal, by signal.",
	}, []string{"signal"})
	rejected := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "beacongate_anonymize_consent_rejected_total",
		Help: "Events carrying a consent signal that decoded but was not relied on (a TC string breaking the TCF 2.2 rules, a GPP string with sections that cannot be read or under consent.gpp: reject), by signal.",
	}, []string{"signal"})
	vendor := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "beacongate_anonymize_vendor_refused_total",
		Help: "Destinations an event's purposes allowed but GDPR and its TC string did not (IAB TCF vendor enforcement), by reason: no_tc_string, not_disclosed (not in the TC string's disclosed vendors segment, TCF v2.3), restricted (publisher restriction), no_vendor_consent, no_purpose_consent, no_vendor_li, no_purpose_li, no_special_feature, no_vendor_id (a destination without tcf.vendor_id or tcf.without_vendor).",
	}, []string{"reason"})
	caches := newCacheLookups()
	if reg != nil {
		reg.MustRegister(records, dropped, scrubbed, malformed, rejected, droppedProps, vendor, caches)
	}
	m := &Metrics{droppedProps: droppedProps, caches: caches}
	for r := consent.VendorReason(1); r < consent.NumVendorReasons; r++ {
		m.vendorRefused[r] = vendor.WithLabelValues(r.String())
	}
	for i, sig := range malformableSignals {
		m.consentMalformed[i] = malformed.WithLabelValues(sig.String())
	}
	for i, sig := range rejectableSignals {
		m.consentRejected[i] = rejected.WithLabelValues(sig.String())
	}
	for s := anonymize.StateNone; s <= anonymize.StateAds; s++ {
		m.records[s] = records.WithLabelValues(s.String())
	}
	for i, name := range [numDrops]string{"bot", "no_destination", "spool", "http_client"} {
		m.dropped[i] = dropped.WithLabelValues(name)
	}
	for k := scrub.KindEmail; k <= scrub.KindLast; k++ {
		m.scrubbed[k] = scrubbed.WithLabelValues(k.String())
	}
	return m
}
