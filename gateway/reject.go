package gateway

import (
	"github.com/prometheus/client_golang/prometheus"
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
	reasonUnsupportedMediaType: {"unsupported_media_type", 415, []byte("content type must be text/plain, application/json or application/x-www-form-urlencoded\n")},
	reasonEmptyBody:            {"empty_body", 400, []byte("empty body\n")},
	reasonBodyTooLarge:         {"body_too_large", 413, []byte("body too large\n")},
	reasonInvalidUTF8:          {"invalid_utf8", 400, []byte("body or parameter is not valid UTF-8\n")},
	reasonInvalidJSON:          {"invalid_json", 400, []byte("body is not valid JSON: want an object or an array of objects\n")},
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
	reasonHeaderTooLarge:       {"header_too_large", 431, []byte("request headers too large\n")},
	reasonTimeout:              {"timeout", 408, []byte("request timeout\n")},
	reasonMalformedRequest:     {"malformed_request", 400, []byte("malformed request\n")},
	reasonUnavailable:          {"unavailable", 503, []byte("temporarily unavailable, retry later\n")},
	reasonTooManyRequests:      {"too_many_requests", 429, []byte("too many requests in progress from this client address\n")},
	reasonInvalidEscape:        {"invalid_escape", 400, []byte("a string holds an unpaired UTF-16 surrogate escape (\\ud800-\\udfff); send the character itself or a surrogate pair\n")},
	reasonNumberOutOfRange:     {"number_out_of_range", 400, []byte("a number is beyond the range of a 64-bit float (about 1.8e308)\n")},
	reasonInvalidEventName:     {"invalid_event_name", 400, []byte("event: control characters are not allowed in the event name\n")},
}

func (r reason) String() string { return reasons[r].name }

// metrics holds the gateway's counters, resolved once so that the hot path
// only does an atomic add.
type metrics struct {
	requests [numEndpoints]prometheus.Counter
	events   [numEndpoints]prometheus.Counter
	rejected [numEndpoints][numReasons]prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "beacongate_gateway_requests_total",
		Help: "Requests received, by endpoint.",
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
		m.events[ep] = events.WithLabelValues(ep.String())
		for r := reason(1); r < numReasons; r++ {
			m.rejected[ep][r] = rejected.WithLabelValues(ep.String(), r.String())
		}
	}
	return m
}
