package adplatform

import (
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/beacongate/beacongate/contact"
)

// MetaMaxEvents is the Conversions API's limit of events per request
// (https://developers.facebook.com/docs/marketing-api/conversions-api/using-the-api#batch-requests).
const MetaMaxEvents = 1000

// appendMetaEvent appends one element of the request's data array, or
// returns a reason why r makes no valid event.
// https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/server-event
func (s *Sink) appendMetaEvent(dst []byte, r *record) ([]byte, string) {
	if r.timeMS <= 0 {
		return dst, reasonUnmappable
	}
	if s.tooOld(r, metaMaxAge) {
		return dst, reasonTooOld // it would fail the whole request
	}
	source := actionSource(r)
	if source == "app" {
		// Meta requires app_data for app events: the iOS ATT status
		// (advertiser_tracking_enabled), the app-level opt-out
		// (application_tracking_enabled) and the device's extinfo. The
		// gateway knows none of them, and made-up tracking flags would
		// misstate the person's choice; nor may the event go as another
		// action source, which would be untrue.
		return dst, reasonNoAppData
	}
	var url []byte
	if source == "website" {
		// Meta requires both for website events; without them the
		// whole request would be refused.
		url = absoluteURL(s.scratch[:0], r.url, s.o.Origins.Get(r.site))
		s.scratch = url
		if len(r.userAgent) == 0 || len(url) == 0 {
			return dst, reasonUnmappable
		}
	}
	dst = append(dst, '{')
	dst = appendStringField(dst, "event_name", eventName(r, "PageView", "StoreVisit"))
	dst = appendIntField(dst, "event_time", r.timeMS/1000)
	if id := r.eventID(); len(id) > 0 {
		dst = appendStringField(dst, "event_id", id)
	}
	dst = appendStringField(dst, "action_source", []byte(source))
	if len(url) > 0 {
		dst = appendStringField(dst, "event_source_url", url)
	}
	dst = append(appendKey(dst, "user_data"), '{')
	for _, f := range [...]struct {
		f     contact.Field
		key   string
		array bool
	}{{contact.Email, "em", true}, {contact.Phone, "ph", true}, {contact.FirstName, "fn", false},
		{contact.LastName, "ln", false}, {contact.City, "ct", false}, {contact.Zip, "zp", false},
		{contact.Country, "country", false}, {contact.ExternalID, "external_id", true}} {
		h := r.hashed(f.f)
		if h == nil {
			continue
		}
		dst = appendKey(dst, f.key)
		if f.array {
			dst = append(appendString(append(dst, '['), h), ']')
		} else {
			dst = appendString(dst, h)
		}
	}
	fbc, fbp := r.fbc, r.fbp
	if !metaClickCookie(fbc, false) {
		fbc = nil // Meta refuses the whole request for a malformed fbc
	}
	if !metaClickCookie(fbp, true) {
		fbp = nil
	}
	for _, f := range [...]struct {
		key string
		v   []byte
	}{{"client_ip_address", r.ip}, {"client_user_agent", r.userAgent}, {"fbc", fbc}, {"fbp", fbp}} {
		if len(f.v) > 0 {
			dst = appendStringField(dst, f.key, f.v)
		}
	}
	if dst[len(dst)-1] == '{' {
		return dst, reasonUnmappable // Meta requires some customer information
	}
	dst = append(dst, '}')
	if r.props != nil && r.props.Len() > 0 {
		dst = appendKey(dst, "custom_data")
		dst = appendProps(dst, r.props)
	}
	if r.ldu() {
		// Country and state 0: Meta geolocates the event.
		// https://developers.facebook.com/docs/marketing-apis/data-processing-options
		dst = append(dst, `,"data_processing_options":["LDU"],"data_processing_options_country":0,"data_processing_options_state":0`...)
	}
	return append(dst, '}'), ""
}

// metaClickCookie reports whether v is an fbc (digits false) or fbp
// (digits true) value in the format Meta documents:
// fb.<subdomain index>.<creation time, Unix ms>.<fbclid>, or for fbp
// .<random number> last
// (https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/fbp-and-fbc),
// the fbp optionally followed by the appendix Meta's Parameter Builder
// Library writes into both cookies (.<2 or 8 characters of URL-safe
// base64>: github.com/facebook/capi-param-builder, which
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameter-builder-library
// recommends for fbc and fbp). The engine records the cookies as the page
// sent them; a malformed fbc (a cookie without its fbclid, the bare
// fbclid) makes Meta refuse the whole request (code 100, subcode 2804001,
// "Click ID Incorrectly Formatted"), so such a value is left out and the
// event sent without it.
func metaClickCookie(v []byte, digits bool) bool {
	if len(v) < len("fb.1.") || string(v[:3]) != "fb." || v[3] < '0' || v[3] > '9' || v[4] != '.' {
		return false
	}
	v = v[5:]
	n := 0
	for n < len(v) && v[n] >= '0' && v[n] <= '9' {
		n++
	}
	// Milliseconds since 1970 have 13 digits until the year 2286; 10 to
	// 16 leave room for seconds and microseconds written by other tags.
	if n < 10 || n > 16 || n == len(v) || v[n] != '.' || n+1 == len(v) {
		return false
	}
	if digits {
		v = v[n+1:]
		n = 0
		for n < len(v) && v[n] >= '0' && v[n] <= '9' {
			n++
		}
		return n > 0 && (n == len(v) || v[n] == '.' && paramBuilderAppendix(v[n+1:]))
	}
	return true
}

// paramBuilderAppendix reports whether a is the appendix Meta's Parameter
// Builder Library puts last in the cookies it writes: a 2-character
// token (its version 1, "Ag") or 8 characters (version 2, 6 bytes in
// URL-safe base64 without padding).
func paramBuilderAppendix(a []byte) bool {
	if len(a) != 2 && len(a) != 8 {
		return false
	}
	for _, c := range a {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// appendProps appends the props object: its string, number and boolean
// values (all the record schema allows); anything else is left out.
func appendProps(dst []byte, o *fastjson.Object) []byte {
	dst = append(dst, '{')
	o.Visit(func(k []byte, v *fastjson.Value) {
		mark := len(dst)
		if dst[len(dst)-1] != '{' {
			dst = append(dst, ',')
		}
		dst = append(appendString(dst, k), ':')
		var ok bool
		if dst, ok = appendScalar(dst, v); !ok {
			dst = dst[:mark]
		}
	})
	return append(dst, '}')
}

// actionSource is website, app (an HTTP client library: an app's backend
// or a native app) or physical_store (BLE). Meta app events are not sent
// (appendMetaEvent); TikTok's go under the TikTok App ID.
func actionSource(r *record) string {
	switch {
	case string(r.kind) == "ble":
		return "physical_store"
	case string(r.uaClass) == "http_client":
		return "app"
	}
	return "website"
}

// eventName returns the record's event, or the default for its kind.
func eventName(r *record, page, store string) []byte {
	switch {
	case len(r.event) > 0:
		return r.event
	case string(r.kind) == "ble":
		return []byte(store)
	}
	return []byte(page)
}

// appendMetaBody appends the request body around events (each a data
// element), with the access token (a sink's is never empty).
func (s *Sink) appendMetaBody(dst []byte, events [][]byte) []byte {
	dst = append(dst, `{"data":[`...)
	for i, e := range events {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, e...)
	}
	dst = append(dst, ']')
	if s.o.TestEventCode != "" {
		dst = appendStringField(dst, "test_event_code", []byte(s.o.TestEventCode))
	}
	if s.token != "" { // always, but in Preview, which shows no credential
		dst = appendStringField(dst, "access_token", []byte(s.token))
	}
	return append(dst, '}')
}

// metaAnswer classifies a Conversions API answer to a request of n events.
// Meta answers 400 with an error object for bad events, bad tokens and rate
// limits alike; the codes tell them apart.
// https://developers.facebook.com/docs/marketing-api/error-reference
//
// A request Meta took is answered 2xx with {"events_received":n,
// "messages":[...],"fbtrace_id":...}; Meta refuses a request with an
// invalid event whole, it does not take part of one
// (https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/server-event).
// A 2xx whose events_received is not an integer equal to n, or that is no
// JSON, does not say every event arrived and is no acknowledgement: the
// request is retried whole, as a 5xx is. The events Meta did take are not
// counted twice: it de-duplicates events with the same event_id and
// event_name within 48 hours
// (https://developers.facebook.com/docs/marketing-api/conversions-api/deduplicate-pixel-and-server-events),
// and the sink sends both (the page's eid or the record's id as event_id).
func metaAnswer(status int, body []byte, n int) outcome {
	var p fastjson.Parser
	v, err := p.ParseBytes(body)
	if status >= 200 && status < 300 {
		if err != nil {
			return outcome{kind: outcomeRetry, why: "the answer is not JSON"}
		}
		got, ok := jsonInt(v.Get("events_received"))
		switch {
		case !ok:
			return outcome{kind: outcomeRetry, why: "the answer has no integer events_received"}
		case got != n:
			return outcome{kind: outcomeRetry, why: "events_received " + strconv.Itoa(got) + " for " + strconv.Itoa(n) + " events sent"}
		}
		return outcome{kind: outcomeOK}
	}
	code, sub, transient := 0, 0, false
	if err == nil {
		code = v.GetInt("error", "code")
		sub = v.GetInt("error", "error_subcode")
		transient = v.GetBool("error", "is_transient")
	}
	switch {
	case code == 190 || code == 102 || code == 3 || code == 10 || code >= 200 && code <= 299 || status == 401 || status == 403:
		// 190: bad or expired token; 102 (API session): the token has
		// expired or been revoked; 3 (API method), 10 and 200-299:
		// capability and permission errors.
		// https://developers.facebook.com/docs/graph-api/guides/error-handling
		return outcome{kind: outcomeAuth}
	case code == 4 || code == 17 || code == 32 || code == 341 || code == 613 || code == 80004 || status == 429:
		// Rate limits; 341: application limit reached (downtime or
		// throttling).
		return outcome{kind: outcomeRetry}
	case code == 368:
		// Temporarily blocked: the Graph API's recovery is to wait and
		// retry. Halving would only dead-letter every event of the batch.
		return outcome{kind: outcomeRetry}
	case transient || code == 1 || code == 2 || status >= 500 || status == 408:
		return outcome{kind: outcomeRetry}
	case code == 100 && sub == 33, status == 404:
		// The pixel does not exist or the token cannot see it: no event
		// of the batch will ever be taken.
		return outcome{kind: outcomePermanent}
	case status >= 400 && status < 500:
		return outcome{kind: outcomeInvalid, reason: reasonInvalidEvent}
	}
	return outcome{kind: outcomeRetry}
}
