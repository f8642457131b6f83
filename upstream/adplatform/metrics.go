package adplatform

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the counters of every ad platform sink of a process. Labels
// are the destination's configured name, the platform, a reason from a
// fixed set and a status class: never an id, a URL or a token.
type Metrics struct {
	events, errs, reqs, params *prometheus.CounterVec
}

func newMetrics() *Metrics {
	const ns = "beacongate_upstream_platform"
	return &Metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: ns + "_events_total",
			Help: "Events an ad platform accepted."}, []string{"destination", "platform"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: ns + "_event_errors_total",
			Help: "Events refused for good and dead-lettered, by reason: unmappable (the record makes no valid event; not sent), invalid_event (the platform refused it), validation_<code> (GA4 test mode), unsettled (MaxUnsettled 2xx answers in a row did not account for them), too_old (older than the platform takes; not sent), no_event_source_id (TikTok: no id configured for the event's source; not sent), no_app_data (Meta, TikTok: an app event, whose required app data the gateway does not know; not sent)."},
			[]string{"destination", "platform", "reason"}),
		reqs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: ns + "_requests_total",
			Help: "Requests sent to ad platforms, by answer: 2xx, 3xx, 4xx, 429, 5xx, error (no answer)."},
			[]string{"destination", "platform", "status"}),
		params: prometheus.NewCounterVec(prometheus.CounterOpts{Name: ns + "_dropped_params_total",
			Help: "Event parameters left out of events an ad platform accepted, by reason: duplicate_name (GA4: a property whose name, made to GA4's rules, is that of an earlier parameter of the event, which is kept)."},
			[]string{"destination", "platform", "reason"}),
	}
}

// NewMetrics returns the counters, registered with reg (nil: not
// registered). A second call with the same reg returns counters that add
// to the ones registered first.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := newMetrics()
	if reg == nil {
		return m, nil
	}
	for _, c := range []**prometheus.CounterVec{&m.events, &m.errs, &m.reqs, &m.params} {
		if err := reg.Register(*c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
			*c = are.ExistingCollector.(*prometheus.CounterVec)
		}
	}
	return m, nil
}

type sinkMetrics struct {
	events prometheus.Counter
	errs   *prometheus.CounterVec // curried: reason
	reqs   *prometheus.CounterVec // curried: status
	params *prometheus.CounterVec // curried: reason
}

// statusClasses are the values of the status label (see statusClass).
var statusClasses = []string{"2xx", "3xx", "4xx", "429", "5xx", "error"}

// errorReasons returns the fixed reasons for which p's events can be
// refused (GA4 test mode's validation_<code> aside: an open set).
func errorReasons(p Platform) []string {
	rs := []string{reasonUnmappable, reasonInvalidEvent, reasonUnsettled}
	switch p {
	case Meta:
		rs = append(rs, reasonTooOld, reasonNoAppData)
	case GA4:
		rs = append(rs, reasonTooOld)
	case TikTok:
		rs = append(rs, reasonNoAppData, reasonNoSourceID)
	}
	return rs
}

// forSink resolves the sink's series. Each one the sink can reach is on
// /metrics at 0 from its start: a series that first appears at its first
// count hides that count from increase() and rate(), whose first sample
// already holds it.
func (m *Metrics) forSink(dest string, p Platform) sinkMetrics {
	l := prometheus.Labels{"destination": dest, "platform": p.String()}
	sm := sinkMetrics{
		events: m.events.With(l),
		errs:   m.errs.MustCurryWith(l),
		reqs:   m.reqs.MustCurryWith(l),
		params: m.params.MustCurryWith(l),
	}
	for _, r := range errorReasons(p) {
		sm.errors(r)
	}
	for _, st := range statusClasses {
		sm.requests(st)
	}
	if p == GA4 {
		sm.droppedParams(reasonDuplicateName)
	}
	return sm
}

func (m sinkMetrics) errors(reason string) prometheus.Counter {
	return m.errs.WithLabelValues(reason)
}

func (m sinkMetrics) requests(status string) prometheus.Counter {
	return m.reqs.WithLabelValues(status)
}

func (m sinkMetrics) droppedParams(reason string) prometheus.Counter {
	return m.params.WithLabelValues(reason)
}
