package gateway

import (
	"sync"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"

	"github.com/beacongate/beacongate/event"
)

// request is the reusable per-request state: the events one request makes and
// the parsers that make them. It comes from requestPool and goes back there
// when the handler returns; nothing in it may be kept after that.
type request struct {
	events []event.Event
	json   fastjson.Parser
	form   fasthttp.Args
	common event.Event // a BLE request's shared fields
}

var requestPool = sync.Pool{New: func() any { return new(request) }}

func acquireRequest() *request { return requestPool.Get().(*request) }

func releaseRequest(r *request) {
	r.events = r.events[:0]
	r.form.Reset()
	requestPool.Put(r)
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
	e := &r.events[n]
	e.Reset()
	return e
}
