package gateway

import (
	"net/netip"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/internal/freelist"
)

// request is the reusable per-request state: the events one request makes and
// the parsers that make them. It comes from requests and goes back there
// when the handler returns; nothing in it may be kept after that.
type request struct {
	events []event.Event
	form   fasthttp.Args
	// multipart walks a multipart/form-data body in place.
	multipart multipartReader
	// common holds the fields the events of a BLE ping or a beacon array
	// share, read once and copied into each.
	common event.Event
	// reader reads JSON bodies in one pass.
	reader jsonReader
	// receivedAt is the request's receive time, read once from the
	// settings' clock: every event of the request carries it.
	receivedAt time.Time
	// clientIP is the request's client address (clientIP), found once
	// for the per-client limit and carried by every event.
	clientIP netip.Addr
	// touched is how many of events this request used (next): its
	// length may have dropped since (a sighting on the opt-out list, a
	// list read again), their buffers grown all the same. sizes holds
	// each event's Footprint at the last release, sumSizes their sum.
	touched  int
	sizes    []int
	sumSizes int
}

// maxRetainedRequestBytes bounds what a request state's events may hold
// when it goes back to requests, which the garbage collector never
// empties. A BLE ping's shared fields are copied into each of its events,
// so a 64 KiB ping of 200 sightings could grow them to 9 MiB, kept for
// good (1,024 states: 9 GiB); a 40-sighting ping holds about 35 KiB. A
// state beyond it lets its events go, and the next request grows new ones.
const maxRetainedRequestBytes = 1 << 20

// requests keeps up to 1,024 request states: enough for the requests a
// server has in flight at once, at some 10-100 KiB each once grown.
var requests = freelist.New(1024, func() *request { return new(request) })

// acquireRequest returns a request state stamped with cfg's clock and the
// client address.
func acquireRequest(cfg *compiled, client netip.Addr) *request {
	r := requests.Get()
	r.receivedAt = cfg.clock.Now()
	r.clientIP = client
	return r
}

func releaseRequest(r *request) {
	if r.retained() > maxRetainedRequestBytes {
		r.events, r.sizes, r.sumSizes = nil, nil, 0
		r.common = event.Event{}
	}
	r.touched = 0
	r.events = r.events[:0]
	r.form.Reset()
	r.clientIP = netip.Addr{}
	requests.Put(r)
}

// fillCommon resets the request's common event and fills it with the
// request's own fields (fillFromRequest) for events of kind.
func (r *request) fillCommon(ctx *fasthttp.RequestCtx, kind event.Kind) (*event.Event, problem) {
	r.common.Reset()
	return &r.common, fillFromRequest(ctx, r, &r.common, kind)
}

// next returns a reset event appended to r.events, reusing an old one's
// buffers when there is capacity.
func (r *request) next() *event.Event {
	n := len(r.events)
	if n < cap(r.events) {
		r.events = r.events[:n+1]
	} else {
		r.events = append(r.events, event.Event{})
	}
	r.touched = max(r.touched, n+1)
	e := &r.events[n]
	e.Reset()
	return e
}

// retained returns the bytes r's events and common event hold, measuring
// the events this request used again (buffers only grow), the others as
// they were when a request last used them (the unused capacity of events,
// zero Events, is left out).
func (r *request) retained() int {
	used := r.events[:r.touched]
	for len(r.sizes) < len(used) {
		r.sizes = append(r.sizes, 0)
	}
	for i := range used {
		n := used[i].Footprint()
		r.sumSizes += n - r.sizes[i]
		r.sizes[i] = n
	}
	return r.sumSizes + r.common.Footprint()
}
