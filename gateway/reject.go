package gateway

import (
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/valyala/fasthttp"
)

// endpoint identifies a route for metric labels.
type endpoint uint8

const (
	endpointPixel endpoint = iota
	endpointBeacon
	endpointBLE
	endpointOther
	numEndpoints
)

func (e endpoint) String() string {
	switch e {
	case endpointPixel:
		return "pixel"
	case endpointBeacon:
		return "beacon"
	case endpointBLE:
		return "ble"
	}
	return "other"
}

// reason is why a request or an event was rejected. Each reason has a fixed
// status code and a fixed short answer body, so the error path builds nothing.
type reason uint8

const (
	reasonNone reason = iota
	reasonNotFound
	reasonMethodNotAllowed
	reasonUnsupportedMediaType
	reasonEmptyBody
	reasonBodyTooLarge
	reasonInvalidUTF8
	reasonInvalidJSON
	reasonInvalidMultipart
	reasonInvalidField
	reasonFieldTooLong
	reasonTooManyEvents
	reasonTooManyProps
	reasonMissingSite
	reasonUnknownSite
	reasonForbiddenOrigin
	reasonMissingStore
	reasonNoSightings
	reasonInvalidSighting
	reasonHeaderTooLarge
	reasonTimeout
	reasonMalformedRequest
	reasonUnavailable
	reasonTooManyRequests
	reasonInvalidEscape
	reasonNumberOutOfRange
	reasonInvalidEventName
	reasonTooManyConnections
	numReasons
)

type reasonInfo struct {
	name   string
	status int
	body   []byte
}

var reasons = [numReasons]reasonInfo{
	reasonNone:                 {"none", 204, nil},
	reasonNotFound:             {"not_found", 404, []byte("not found\n")},
	reasonMethodNotAllowed:     {"method_not_allowed", 405, []byte("method not allowed\n")},
	reasonUnsupportedMediaType: {"unsupported_media_type", 415, []byte("content type must be text/plain, application/json, application/x-www-form-urlencoded or multipart/form-data\n")},
	reasonEmptyBody:            {"empty_body", 400, []byte("empty body\n")},
	reasonBodyTooLarge:         {"body_too_large", 413, []byte("body too large\n")},
	reasonInvalidUTF8:          {"invalid_utf8", 400, []byte("body or parameter is not valid UTF-8\n")},
	reasonInvalidJSON:          {"invalid_json", 400, []byte("body is not valid JSON: want an object or an array of objects\n")},
	reasonInvalidMultipart:     {"invalid_multipart", 400, []byte("body is not valid multipart/form-data\n")},
	reasonInvalidField:         {"invalid_field", 400, []byte("a field has the wrong type or format\n")},
	reasonFieldTooLong:         {"field_too_long", 400, []byte("a field is too long\n")},
	reasonTooManyEvents:        {"too_many_events", 400, []byte("too many events in one request\n")},
	reasonTooManyProps:         {"too_many_props", 400, []byte("too many custom properties\n")},
	reasonMissingSite:          {"missing_site", 400, []byte("site is required\n")},
	reasonUnknownSite:          {"unknown_site", 400, []byte("unknown site\n")},
	reasonForbiddenOrigin:      {"forbidden_origin", 403, []byte("origin not allowed\n")},
	reasonMissingStore:         {"missing_store", 400, []byte("store is required\n")},
	reasonNoSightings:          {"no_sightings", 400, []byte("sightings must be a non-empty array\n")},
	reasonInvalidSighting:      {"invalid_sighting", 400, []byte("a sighting lacks a valid beacon identity, rssi or time\n")},
	reasonHeaderTooLarge:       {"header_too_large", 431, []byte("request line and headers too large: the request target (a pixel's query) counts with the headers against the limit\n")},
	reasonTimeout:              {"timeout", 408, []byte("request timeout\n")},
	reasonMalformedRequest:     {"malformed_request", 400, []byte("malformed request\n")},
	reasonUnavailable:          {"unavailable", 503, []byte("temporarily unavailable, retry later\n")},
	reasonTooManyRequests:      {"too_many_requests", 429, []byte("too many requests in progress from this client address\n")},
	reasonInvalidEscape:        {"invalid_escape", 400, []byte("a string holds an unpaired UTF-16 surrogate escape (\\ud800-\\udfff); send the character itself or a surrogate pair\n")},
	reasonNumberOutOfRange:     {"number_out_of_range", 400, []byte("a number is beyond the range of a 64-bit float (about 1.8e308)\n")},
	reasonInvalidEventName:     {"invalid_event_name", 400, []byte("event: control characters are not allowed in the event name\n")},
	// Answered by the listener (trackingListener.refuse), not a handler.
	reasonTooManyConnections: {"too_many_connections", 429, []byte("too many connections open from this address (server.max_conns_per_ip)\n")},
}

func (r reason) String() string { return reasons[r].name }

// retryAfter is the Retry-After, in seconds, of the answers that ask the
// client to come back (store sensors and server-to-server senders retry;
// browsers ignore it), precomputed so that answering builds nothing:
//
//   - unavailable (503): the spool is full, failing or not ready, or the
//     gateway is stopping; /readyz re-checks the disk every second and a
//     full spool drains as the destinations take batches, so a few
//     seconds, not a flood of immediate retries.
//   - too_many_requests (429): the client has server.max_requests_per_client
//     requests in progress; a slot frees as soon as one ends, well within
//     a second unless the client is slow.
//   - too_many_connections (429): the peer has server.max_conns_per_ip
//     connections open; a slot frees when one of its own closes.
var retryAfter = [numReasons][]byte{
	reasonUnavailable:        []byte("5"),
	reasonTooManyRequests:    []byte("1"),
	reasonTooManyConnections: []byte("1"),
}

// reachable lists, per endpoint, the reasons a request to it can be
// rejected for. Only these label combinations are created up front, so
// /metrics lists no series that can never move; any other combination is
// still counted, created on first use (see lazyCounter).
var reachable = [numEndpoints][]reason{
	endpointPixel: {
		reasonMethodNotAllowed, reasonInvalidUTF8, reasonInvalidField, reasonFieldTooLong, reasonTooManyProps,
		reasonMissingSite, reasonUnknownSite, reasonForbiddenOrigin, reasonUnavailable,
		reasonHeaderTooLarge, reasonBodyTooLarge, reasonTimeout, reasonTooManyRequests, reasonInvalidEventName,
		reasonTooManyConnections,
	},
	endpointBeacon: {
		reasonMethodNotAllowed, reasonUnsupportedMediaType, reasonEmptyBody, reasonBodyTooLarge,
		reasonInvalidUTF8, reasonInvalidJSON, reasonInvalidMultipart, reasonInvalidField, reasonFieldTooLong,
		reasonTooManyEvents, reasonTooManyProps, reasonMissingSite, reasonUnknownSite, reasonForbiddenOrigin,
		reasonUnavailable, reasonHeaderTooLarge, reasonTimeout, reasonTooManyRequests, reasonInvalidEscape,
		reasonNumberOutOfRange, reasonInvalidEventName, reasonTooManyConnections,
	},
	endpointBLE: {
		reasonMethodNotAllowed, reasonUnsupportedMediaType, reasonEmptyBody, reasonBodyTooLarge,
		reasonInvalidUTF8, reasonInvalidJSON, reasonInvalidField, reasonFieldTooLong, reasonTooManyEvents,
		reasonTooManyProps, reasonMissingSite, reasonUnknownSite, reasonForbiddenOrigin, reasonMissingStore,
		reasonNoSightings, reasonInvalidSighting, reasonUnavailable, reasonHeaderTooLarge, reasonTimeout,
		reasonTooManyRequests, reasonInvalidEscape, reasonNumberOutOfRange, reasonInvalidEventName,
		reasonTooManyConnections,
	},
	// A request whose path is unknown, or that fasthttp could not parse far
	// enough to read its path; a connection over max_conns_per_ip that
	// sent no request.
	endpointOther: {reasonNotFound, reasonMalformedRequest, reasonHeaderTooLarge, reasonBodyTooLarge, reasonTimeout,
		reasonTooManyConnections},
}

// metrics holds the gateway's counters, resolved once so that the hot path
// only does an atomic add.
type metrics struct {
	requests [numEndpoints]prometheus.Counter
	events   [numEndpoints]prometheus.Counter // none for endpointOther: it makes no events
	rejected [numEndpoints][numReasons]prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "beacongate_gateway_requests_total",
		Help: "Requests received, by endpoint (other: unknown paths and requests too malformed to read a path from).",
	}, []string{"endpoint"})
	events := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "beacongate_gateway_events_total",
		Help: "Events parsed and handed on, by endpoint.",
	}, []string{"endpoint"})
	rejected := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "beacongate_gateway_rejected_total",
		Help: "Requests rejected (no event made), by endpoint and reason.",
	}, []string{"endpoint", "reason"})
	if reg != nil {
		reg.MustRegister(requests, events, rejected)
	}
	m := &metrics{}
	for ep := endpoint(0); ep < numEndpoints; ep++ {
		m.requests[ep] = requests.WithLabelValues(ep.String())
		if ep != endpointOther {
			m.events[ep] = events.WithLabelValues(ep.String())
		}
		for r := reason(1); r < numReasons; r++ {
			m.rejected[ep][r] = &lazyCounter{vec: rejected, labels: [2]string{ep.String(), r.String()}}
		}
		for _, r := range reachable[ep] {
			m.rejected[ep][r] = rejected.WithLabelValues(ep.String(), r.String())
		}
	}
	return m
}

// lazyCounter is a counter whose series is created on its first use: for
// label combinations no request is expected to reach, so that they are
// counted if one does, without listing a series that never moves.
type lazyCounter struct {
	once   sync.Once
	vec    *prometheus.CounterVec
	labels [2]string
	c      prometheus.Counter
}

func (l *lazyCounter) counter() prometheus.Counter {
	l.once.Do(func() { l.c = l.vec.WithLabelValues(l.labels[:]...) })
	return l.c
}

// Inc implements prometheus.Counter.
func (l *lazyCounter) Inc() { l.counter().Inc() }

// Add implements prometheus.Counter.
func (l *lazyCounter) Add(v float64) { l.counter().Add(v) }

// Desc implements prometheus.Metric.
func (l *lazyCounter) Desc() *prometheus.Desc { return l.counter().Desc() }

// Write implements prometheus.Metric.
func (l *lazyCounter) Write(m *dto.Metric) error { return l.counter().Write(m) }

// Describe implements prometheus.Collector.
func (l *lazyCounter) Describe(ch chan<- *prometheus.Desc) { l.counter().Describe(ch) }

// Collect implements prometheus.Collector.
func (l *lazyCounter) Collect(ch chan<- prometheus.Metric) { l.counter().Collect(ch) }

// problem is what is wrong with a request: the reason (which fixes the status
// and the metric label) and, when one field is at fault, which one and what
// about it. Every string in it is a constant of the gateway, never input, so
// the answer quotes no value and building it copies nothing from the request.
// The zero problem, problem{}, is no problem: parsers return it as a
// literal, which the compiler writes as zeros, where a package variable
// holding it was copied from memory (see the commit that removed it).
type problem struct {
	reason reason
	field  string // vocabulary name, e.g. "ts"; "": the request as a whole
	detail string // what is wrong, e.g. "not valid UTF-8"; "": the reason's fixed body
	limit  int    // a length limit to name after detail; 0: none
	at     int32  // 1 + the item's index in its array; 0: not in an array
	// inSightings says that array is "sightings"; otherwise it is a
	// beacon array, which has no name.
	inSightings bool
}

// bad reports whether p is a problem at all.
func (p problem) bad() bool { return p.reason != reasonNone }

// because is a problem without a field: the reason's fixed answer.
func because(r reason) problem { return problem{reason: r} }

// fieldProblem names field as the one at fault, with detail saying what is
// wrong; detail "" takes the reason's usual one.
func fieldProblem(r reason, field, detail string) problem {
	if r == reasonNone {
		return problem{}
	}
	if detail == "" {
		detail = reasonDetails[r]
	}
	return problem{reason: r, field: field, detail: detail}
}

// tooLong says field is longer than limit bytes.
func tooLong(field string, limit int) problem {
	return problem{reason: reasonFieldTooLong, field: field, detail: "longer than the limit of", limit: limit}
}

// inField names field for a reason setField returned (too long, invalid
// UTF-8).
func inField(field string, r reason, limit int) problem {
	if r == reasonNone {
		return problem{}
	}
	if r == reasonFieldTooLong {
		return tooLong(field, limit)
	}
	return fieldProblem(r, field, "")
}

// reasonDetails are the details of field problems that have no better one.
var reasonDetails = [numReasons]string{
	reasonInvalidUTF8:      "not valid UTF-8",
	reasonInvalidField:     "wrong type or format",
	reasonTooManyProps:     "more than 64 properties",
	reasonInvalidSighting:  "wrong type or format",
	reasonInvalidEventName: "control characters are not allowed",
}

// text is p's answer body (appendProblem) without its newline. It
// allocates: for the OnReject hook only.
func (p problem) text() string {
	var resp fasthttp.Response
	appendProblem(&resp, p)
	return strings.TrimSuffix(string(resp.Body()), "\n")
}

// appendProblem writes p's answer body to resp: the reason's fixed body, or
// "sightings[3].ts: detail\n". It never allocates once resp's body buffer
// has grown.
func appendProblem(resp *fasthttp.Response, p problem) {
	if p.detail == "" {
		resp.SetBodyRaw(reasons[p.reason].body)
		return
	}
	var num [20]byte
	resp.ResetBody()
	if p.at > 0 {
		if p.inSightings {
			resp.AppendBodyString("sightings")
		}
		resp.AppendBodyString("[")
		resp.AppendBody(strconv.AppendInt(num[:0], int64(p.at-1), 10))
		resp.AppendBodyString("]")
		if p.field != "" {
			resp.AppendBodyString(".")
		}
	}
	resp.AppendBodyString(p.field)
	resp.AppendBodyString(": ")
	resp.AppendBodyString(p.detail)
	if p.limit > 0 {
		resp.AppendBodyString(" ")
		resp.AppendBody(strconv.AppendInt(num[:0], int64(p.limit), 10))
		resp.AppendBodyString(" bytes")
	}
	resp.AppendBodyString("\n")
}
