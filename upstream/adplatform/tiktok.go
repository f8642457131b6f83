package adplatform

import (
	"slices"
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/beacongate/beacongate/contact"
)

// TikTokMaxEvents is the Events API's limit of events per request
// (https://business-api.tiktok.com/portal/docs?id=1771101303285761).
const TikTokMaxEvents = 1000

// tiktokSource is the request's event_source for r: web, app or offline
// (a store visit). One request holds events of one source.
func tiktokSource(r *record) string {
	switch actionSource(r) {
	case "physical_store":
		return "offline"
	case "app":
		return "app"
	}
	return "web"
}

// tiktokSourceID is the event_source_id of the events of source: the
// Pixel code for web, the Offline Event Set ID for offline
// (https://business-api.tiktok.com/portal/docs?id=1771101303285761,
// event_source_id); "" when none is configured. App events are never sent
// (see appendTikTokEvent).
func (s *Sink) tiktokSourceID(source string) string {
	if source == "offline" {
		return s.o.OfflineEventSetID
	}
	return s.o.ID
}

// appendTikTokEvent appends one element of the request's data array. An
// app event is not sent (reasonNoAppData): TikTok requires, besides the
// TikTok App ID, the app itself (data[].app.app_id, its store id or
// package name) and on iOS the ATT status, which the gateway does not know
// (a library's user agent names neither), as Meta's app_data. An event
// whose source has no id configured is not sent either
// (reasonNoSourceID): under another source's id TikTok would refuse it, or
// file it with that source's events.
func (s *Sink) appendTikTokEvent(dst []byte, r *record) ([]byte, string) {
	if r.timeMS <= 0 {
		return dst, reasonUnmappable
	}
	source := tiktokSource(r)
	if source == "app" {
		return dst, reasonNoAppData
	}
	if s.tiktokSourceID(source) == "" {
		return dst, reasonNoSourceID
	}
	dst = append(dst, '{')
	dst = appendStringField(dst, "event", eventName(r, "Pageview", "StoreVisit"))
	dst = appendIntField(dst, "event_time", r.timeMS/1000)
	if id := r.eventID(); len(id) > 0 {
		dst = appendStringField(dst, "event_id", id)
	}
	dst = append(appendKey(dst, "user"), '{')
	for _, f := range [...]struct {
		f   contact.Field
		key string
	}{{contact.Email, "email"}, {contact.Phone, "phone"}, {contact.ExternalID, "external_id"}} {
		if h := r.hashed(f.f); h != nil {
			dst = appendStringField(dst, f.key, h)
		}
	}
	for _, f := range [...]struct {
		key string
		v   []byte
	}{{"ttclid", r.ttclid}, {"ttp", r.ttp}, {"ip", r.ip}, {"user_agent", r.userAgent}} {
		if len(f.v) > 0 {
			dst = appendStringField(dst, f.key, f.v)
		}
	}
	dst = append(dst, '}')
	url := absoluteURL(s.scratch[:0], r.url, s.o.Origins.Get(r.site))
	s.scratch = url
	if len(url) > 0 || len(r.referrer) > 0 {
		dst = append(appendKey(dst, "page"), '{')
		if len(url) > 0 {
			dst = appendStringField(dst, "url", url)
		}
		if len(r.referrer) > 0 {
			dst = appendStringField(dst, "referrer", r.referrer)
		}
		dst = append(dst, '}')
	}
	if r.props != nil && r.props.Len() > 0 {
		dst = appendProps(appendKey(dst, "properties"), r.props)
	}
	if r.ldu() {
		dst = append(dst, `,"limited_data_use":true`...)
	}
	return append(dst, '}'), ""
}

// appendTikTokBody appends the request body for events of one source.
func (s *Sink) appendTikTokBody(dst []byte, source string, events [][]byte) []byte {
	dst = append(dst, '{')
	dst = appendStringField(dst, "event_source", []byte(source))
	dst = appendStringField(dst, "event_source_id", []byte(s.tiktokSourceID(source)))
	if s.o.TestEventCode != "" {
		dst = appendStringField(dst, "test_event_code", []byte(s.o.TestEventCode))
	}
	dst = append(appendKey(dst, "data"), '[')
	for i, e := range events {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, e...)
	}
	return append(dst, ']', '}')
}

// tiktokAnswer classifies an Events API answer: TikTok answers HTTP 200
// with a code in the body (0 OK, 20001 partial success listing the failed
// events by index, 40100 too many requests, 40001/40104/40105 token or
// permission, 40002 bad parameters, 5xxxx its own failures).
// https://business-api.tiktok.com/portal/docs?id=1737172488964097
//
// A 200 that cannot be read per event is no acknowledgement: a body that is
// not JSON, a code that is absent or not an integer, or a partial success
// whose data.failed_events is empty or has an entry whose index is absent,
// not an integer, outside the request or given twice. The request is then
// retried whole, rather than count as delivered an event TikTok may have
// refused, or dead-letter one it took in place of one it refused: TikTok
// de-duplicates Events API events with the same event and event_id within
// 48 hours (https://ads.tiktok.com/help/article/event-deduplication), and
// the sink sends the page's eid or the record's id (which every record
// the engine writes has) as event_id.
func tiktokAnswer(status int, body []byte, n int) outcome {
	switch {
	case status == 401 || status == 403:
		return outcome{kind: outcomeAuth}
	case status == 429 || status >= 500 || status == 408:
		return outcome{kind: outcomeRetry}
	case status == 404:
		return outcome{kind: outcomePermanent}
	case status >= 400:
		return outcome{kind: outcomeInvalid, reason: reasonInvalidEvent}
	case status < 200 || status >= 300:
		return outcome{kind: outcomeRetry}
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(body)
	if err != nil {
		return outcome{kind: outcomeRetry, why: "the answer is not JSON"}
	}
	code, ok := jsonInt(v.Get("code"))
	if !ok {
		return outcome{kind: outcomeRetry, why: "the answer has no integer code"}
	}
	switch {
	case code == 0:
		return outcome{kind: outcomeOK}
	case code == 20001:
		return tiktokPartial(v, n)
	case code == 40100:
		return outcome{kind: outcomeRetry}
	case code == 40001 || code == 40104 || code == 40105:
		return outcome{kind: outcomeAuth}
	case code >= 50000:
		return outcome{kind: outcomeRetry}
	}
	return outcome{kind: outcomeInvalid, reason: reasonInvalidEvent}
}

// tiktokPartial reads a partial success (code 20001) of a request of n
// events: the events data.failed_events names by index failed, the others
// were taken. An answer that does not name each failed event exactly once
// within the request is retried whole (see tiktokAnswer).
func tiktokPartial(v *fastjson.Value, n int) outcome {
	entries := v.GetArray("data", "failed_events")
	if len(entries) == 0 {
		return outcome{kind: outcomeRetry, why: "partial success (code 20001) without data.failed_events"}
	}
	o := outcome{kind: outcomeOK, reason: reasonInvalidEvent, failed: make([]int, 0, len(entries))}
	for _, f := range entries {
		i, ok := jsonInt(f.Get("index"))
		if !ok || i < 0 || i >= n || slices.Contains(o.failed, i) {
			return outcome{kind: outcomeRetry, why: "partial success (code 20001) with a data.failed_events entry whose index is absent, " +
				"not an integer, outside the request of " + strconv.Itoa(n) + " events or repeated"}
		}
		o.failed = append(o.failed, i)
	}
	return o
}
