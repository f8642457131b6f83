package adplatform

import (
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

// appendTikTokEvent appends one element of the request's data array.
func (s *Sink) appendTikTokEvent(dst []byte, r *record) ([]byte, string) {
	if r.timeMS <= 0 {
		return dst, reasonUnmappable
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
	dst = appendStringField(dst, "event_source_id", []byte(s.o.ID))
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
		return outcome{kind: outcomeRetry} // a 200 we cannot read: not an acknowledgement
	}
	code := v.GetInt("code")
	switch {
	case code == 0:
		return outcome{kind: outcomeOK}
	case code == 20001:
		o := outcome{kind: outcomeOK}
		for _, f := range v.GetArray("data", "failed_events") {
			if i := f.GetInt("index"); i >= 0 && i < n {
				o.failed = append(o.failed, i)
			}
		}
		o.reason = reasonInvalidEvent
		return o
	case code == 40100:
		return outcome{kind: outcomeRetry}
	case code == 40001 || code == 40104 || code == 40105:
		return outcome{kind: outcomeAuth}
	case code >= 50000:
		return outcome{kind: outcomeRetry}
	}
	return outcome{kind: outcomeInvalid, reason: reasonInvalidEvent}
}
