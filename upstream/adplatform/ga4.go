package adplatform

import (
	"bytes"
	"slices"
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/beacongate/beacongate/contact"
)

// GA4 Measurement Protocol limits
// (https://developers.google.com/analytics/devguides/collection/protocol/ga4/sending-events#limitations).
const (
	GA4MaxEvents      = 25     // events per request
	ga4MaxParams      = 25     // parameters per event
	ga4MaxNameLen     = 40     // event and parameter names
	ga4MaxValueLen    = 100    // string parameter values, in characters
	ga4MaxTitleLen    = 300    // page_title's value, in characters
	ga4MaxBodyBytes   = 130000 // "smaller than 130kB", as Google's event builder counts it
	ga4MaxClientIDLen = 256
)

// appendGA4Envelope appends the request-level members for r (client_id,
// user_id, consent, user_data: only with user_id), without braces: the events of one request
// share them, so they are the grouping key.
func (s *Sink) appendGA4Envelope(dst []byte, r *record) ([]byte, string) {
	cid := r.gaClient
	if len(cid) == 0 {
		cid = r.client
	}
	if len(cid) == 0 || len(cid) > ga4MaxClientIDLen {
		return dst, reasonUnmappable // GA4 requires a client_id
	}
	dst = appendString(append(dst, `"client_id":`...), cid) // no comma: the envelope starts here
	if len(r.user) > 0 {
		dst = appendStringField(dst, "user_id", r.user)
	}
	// https://developers.google.com/analytics/devguides/collection/protocol/ga4/reference#payload_consent:
	// ad_user_data is consent to send user data to Google for advertising,
	// our ads; ad_personalization consent to personalised advertising
	// (remarketing), which the record says apart (consent.ad_personalization:
	// ads with TCF purposes 3 and 4, Consent Mode ad_personalization granted,
	// or ads listed in the consent field). Our personalization purpose is
	// content personalisation and says nothing of it.
	dst = append(dst, `,"consent":{"ad_user_data":"`...)
	dst = append(dst, granted(r.purposes&purposeAds != 0)...)
	dst = append(dst, `","ad_personalization":"`...)
	dst = append(dst, granted(r.purposes&(purposeAds|purposeAdPersonalization) == purposeAds|purposeAdPersonalization)...)
	dst = append(dst, `"}`...)
	// https://developers.google.com/analytics/devguides/collection/ga4/uid-data:
	// "The user_id parameter must be present whenever user_data is
	// provided". Without a user the request goes without user_data: GA4
	// would not take it, and the contact data does not leave for nothing.
	if len(r.user) == 0 {
		return dst, ""
	}
	em, ph := r.hashed(contact.Email), r.hashed(contact.Phone)
	fn, ln := r.hashed(contact.FirstName), r.hashed(contact.LastName)
	// Google takes city, postal code and country in clear: a digest there
	// is a value normalised for another platform, left out.
	ct, zp, co := inClear(r.contact[contact.City]), inClear(r.contact[contact.Zip]), r.contact[contact.Country]
	if len(co) != 2 || co[0] < 'a' || co[0] > 'z' || co[1] < 'a' || co[1] > 'z' {
		co = nil
	}
	addr := fn != nil || ln != nil || len(ct) > 0 || len(zp) > 0 || len(co) > 0
	if em == nil && ph == nil && !addr {
		return dst, ""
	}
	dst = append(appendKey(dst, "user_data"), '{')
	if em != nil {
		dst = append(appendString(append(appendKey(dst, "sha256_email_address"), '['), em), ']')
	}
	if ph != nil {
		dst = append(appendString(append(appendKey(dst, "sha256_phone_number"), '['), ph), ']')
	}
	if addr {
		dst = append(appendKey(dst, "address"), '[', '{')
		for _, f := range [...]struct {
			key string
			v   []byte
		}{{"sha256_first_name", fn}, {"sha256_last_name", ln}, {"city", ct}, {"postal_code", zp}, {"country", co}} {
			if len(f.v) > 0 {
				dst = appendStringField(dst, f.key, f.v)
			}
		}
		dst = append(dst, '}', ']')
	}
	return append(dst, '}'), ""
}

// inClear returns v unless it is a SHA-256 digest.
func inClear(v []byte) []byte {
	if contact.IsSHA256Hex(v) {
		return nil
	}
	return v
}

func granted(g bool) string {
	if g {
		return "GRANTED"
	}
	return "DENIED"
}

// appendGA4Event appends one element of the request's events array.
func (s *Sink) appendGA4Event(dst []byte, r *record) ([]byte, string) {
	if r.timeMS <= 0 {
		return dst, reasonUnmappable
	}
	if s.tooOld(r, ga4MaxAge) {
		return dst, reasonTooOld // GA4 would drop it unseen
	}
	dst = append(dst, '{')
	dst = appendGA4Name(appendKey(dst, "name"), eventName(r, "page_view", "store_visit"), true)
	dst = appendIntField(dst, "timestamp_micros", r.timeMS*1000)
	dst = append(appendKey(dst, "params"), '{')
	// The names of the parameters written so far: two properties whose
	// names GA4's rules make one (plan-type and plan_type, ga_x and e_ga_x,
	// names alike in their first 40 characters) would make a duplicate
	// key, which is no I-JSON (RFC 7493) and of which GA4 keeps one value
	// silently. The first parameter of a name is kept, later ones are left
	// out and counted (s.ga4Dropped).
	s.ga4Keys, s.ga4Dropped = s.ga4Keys[:0], 0
	n := 0
	url := absoluteURL(s.scratch[:0], r.url, s.o.Origins.Get(r.site))
	s.scratch = url
	if len(url) > 0 {
		mark := len(dst)
		dst = appendStringField(dst, "page_location", truncateUTF8(url, 1000)) // page_location may hold 1,000
		dst, _ = s.ga4Param(dst, mark)
		n++
	}
	if len(r.referrer) > 0 {
		mark := len(dst)
		dst = appendStringField(dst, "page_referrer", truncateUTF8(r.referrer, 420))
		dst, _ = s.ga4Param(dst, mark)
		n++
	}
	if r.props != nil {
		// session_id and engagement_time_msec first: GA4 needs them to
		// count sessions and engagement.
		for _, k := range [...]string{"session_id", "engagement_time_msec"} {
			if v := r.props.Get(k); v != nil && v.Type() == fastjson.TypeNumber {
				mark := len(dst)
				var ok bool
				if dst, ok = appendScalar(appendKey(dst, k), v); ok {
					dst, _ = s.ga4Param(dst, mark)
					n++
				} else {
					dst = dst[:mark]
				}
			}
		}
		r.props.Visit(func(k []byte, v *fastjson.Value) {
			switch string(k) {
			case "session_id", "engagement_time_msec", "page_location", "page_referrer":
				return // written above, or ours
			}
			if n >= ga4MaxParams {
				return
			}
			mark := len(dst)
			switch v.Type() {
			case fastjson.TypeNumber:
				var ok bool
				if dst, ok = appendScalar(appendGA4Key(dst, k), v); !ok {
					dst = dst[:mark]
					return
				}
			case fastjson.TypeString:
				// GA4 counts characters, not bytes: the character limits
				// are the same for single-byte and double-byte languages
				// (Event collection limits), where page_title may hold 300.
				limit := ga4MaxValueLen
				if string(k) == "page_title" {
					limit = ga4MaxTitleLen
				}
				dst = appendString(appendGA4Key(dst, k), truncateRunes(v.GetStringBytes(), limit))
			case fastjson.TypeTrue:
				dst = appendString(appendGA4Key(dst, k), []byte("true"))
			case fastjson.TypeFalse:
				dst = appendString(appendGA4Key(dst, k), []byte("false"))
			default:
				return
			}
			var ok bool
			if dst, ok = s.ga4Param(dst, mark); ok {
				n++
			}
		})
	}
	return append(dst, '}', '}'), ""
}

// ga4Param settles the parameter just written at dst[mark:] (`"name":value`,
// after a comma when needed): when an earlier parameter of the event has
// the same name, it returns dst without it and false, and counts it in
// s.ga4Dropped; else it remembers the name (s.ga4Keys). Names hold only
// letters, digits and '_' by then: the first '"' after the opening one
// ends the name.
func (s *Sink) ga4Param(dst []byte, mark int) ([]byte, bool) {
	i := mark
	if dst[i] == ',' {
		i++
	}
	i++ // the opening quote
	j := i + bytes.IndexByte(dst[i:], '"')
	for _, k := range s.ga4Keys {
		if bytes.Equal(dst[k.start:k.end], dst[i:j]) {
			s.ga4Dropped++
			return dst[:mark], false
		}
	}
	s.ga4Keys = append(s.ga4Keys, span{i, j})
	return dst, true
}

// appendGA4Key appends name as a GA4 parameter key: appendGA4Name, then
// ':', after a comma when needed.
func appendGA4Key(dst []byte, name []byte) []byte {
	if c := dst[len(dst)-1]; c != '{' && c != '[' {
		dst = append(dst, ',')
	}
	return append(appendGA4Name(dst, name, false), ':')
}

// ga4ReservedEvents are the event names the Measurement Protocol reserves
// (https://developers.google.com/analytics/devguides/collection/protocol/ga4/reference,
// "Reserved names"): an event of one of these names is refused.
var ga4ReservedEvents = map[string]bool{
	"ad_activeview": true, "ad_click": true, "ad_exposure": true, "ad_query": true, "ad_reward": true,
	"adunit_exposure": true, "app_background": true, "app_clear_data": true, "app_exception": true,
	"app_remove": true, "app_store_refund": true, "app_store_subscription_cancel": true,
	"app_store_subscription_convert": true, "app_store_subscription_renew": true, "app_update": true,
	"app_upgrade": true, "dynamic_link_app_open": true, "dynamic_link_app_update": true,
	"dynamic_link_first_open": true, "error": true, "firebase_campaign": true, "first_open": true,
	"first_visit": true, "in_app_purchase": true, "notification_dismiss": true,
	"notification_foreground": true, "notification_open": true, "notification_receive": true,
	"os_update": true, "session_start": true, "session_start_with_rollout": true, "user_engagement": true,
}

// ga4Reserved reports whether name (a name as appendGA4Name writes it) is
// reserved: it starts with one of the prefixes GA4 reserves for its own
// event and parameter names (google_, ga_, firebase_; in any case), or,
// for an event, it is one of ga4ReservedEvents.
func ga4Reserved(name []byte, event bool) bool {
	for _, p := range [...]string{"google_", "ga_", "firebase_"} {
		if len(name) >= len(p) && bytes.EqualFold(name[:len(p)], []byte(p)) {
			return true
		}
	}
	return event && ga4ReservedEvents[string(name)]
}

// appendGA4Name appends name as a quoted GA4 name: letters, digits and
// underscores, starting with a letter, at most 40 characters; other
// characters become underscores. A name that does not start with a letter,
// or that is reserved once so written (ga4Reserved; event: name is an
// event name), gets "e_" put first.
func appendGA4Name(dst []byte, name []byte, event bool) []byte {
	dst = append(dst, '"')
	start := len(dst)
	for _, c := range name {
		if len(dst)-start >= ga4MaxNameLen {
			break
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			c = '_'
		}
		dst = append(dst, c)
	}
	if w := dst[start:]; len(w) == 0 || !(w[0] >= 'a' && w[0] <= 'z' || w[0] >= 'A' && w[0] <= 'Z') || ga4Reserved(w, event) {
		dst = append(dst, 0, 0)
		copy(dst[start+2:], dst[start:len(dst)-2])
		dst[start], dst[start+1] = 'e', '_'
		dst = dst[:min(len(dst), start+ga4MaxNameLen)]
	}
	return append(dst, '"')
}

// appendGA4Body appends a request: the envelope and events.
func appendGA4Body(dst, env []byte, events [][]byte) []byte {
	dst = append(append(dst, '{'), env...)
	dst = append(dst, `,"events":[`...)
	for i, e := range events {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, e...)
	}
	return append(dst, ']', '}')
}

// ga4Answer classifies a Measurement Protocol answer. /mp/collect answers
// 2xx whatever it thinks of the events; the validation server
// (/debug/mp/collect, test mode) lists validationMessages, each with a
// fieldPath, a description and a validationCode. A message names one
// event by a fieldPath "events[i]..." or, as the server writes it for an
// event's name, the fieldPath "events" and "index: [i]" in the
// description; that event fails with the message's code. A message that
// names no event fails every event of the request not named by another.
// https://developers.google.com/analytics/devguides/collection/protocol/ga4/validating-events
func ga4Answer(status int, body []byte, n int, debug bool) outcome {
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
	if !debug {
		return outcome{kind: outcomeOK}
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(body)
	if err != nil {
		return outcome{kind: outcomeRetry}
	}
	o := outcome{kind: outcomeOK}
	all := "" // the code of a message that names no event
	for _, m := range v.GetArray("validationMessages") {
		reason := validationReason(m.GetStringBytes("validationCode"))
		i, ok := messageIndex(m.GetStringBytes("fieldPath"), m.GetStringBytes("description"))
		switch {
		case !ok || i >= n:
			all = reason
		case !slices.Contains(o.failed, i):
			o.failed = append(o.failed, i)
			o.reasons = append(o.reasons, reason)
		}
	}
	if all != "" {
		for i := range n {
			if !slices.Contains(o.failed, i) {
				o.failed = append(o.failed, i)
				o.reasons = append(o.reasons, all)
			}
		}
	}
	return o
}

// messageIndex reads the event a validation message names: i from a
// fieldPath "events[i]...", or from the description "... index: [i] ..."
// of a message whose fieldPath is "events".
func messageIndex(path, desc []byte) (int, bool) {
	if string(path) != "events" {
		return eventIndex(path)
	}
	const pre = "index: ["
	k := bytes.Index(desc, []byte(pre))
	if k < 0 {
		return 0, false
	}
	d := desc[k+len(pre):]
	end := 0
	for end < len(d) && d[end] >= '0' && d[end] <= '9' {
		end++
	}
	if end == 0 || end >= len(d) || d[end] != ']' {
		return 0, false
	}
	i, err := strconv.Atoi(string(d[:end]))
	return i, err == nil
}

// eventIndex reads i from a fieldPath "events[i]..." .
func eventIndex(path []byte) (int, bool) {
	const pre = "events["
	if len(path) <= len(pre) || string(path[:len(pre)]) != pre {
		return 0, false
	}
	end := len(pre)
	for end < len(path) && path[end] >= '0' && path[end] <= '9' {
		end++
	}
	if end == len(pre) || end >= len(path) || path[end] != ']' {
		return 0, false
	}
	i, err := strconv.Atoi(string(path[len(pre):end]))
	return i, err == nil
}

// validationReason maps GA4's validation codes onto a bounded label set.
func validationReason(code []byte) string {
	switch string(code) {
	case "VALUE_INVALID", "VALUE_REQUIRED", "NAME_INVALID", "NAME_RESERVED", "VALUE_OUT_OF_BOUNDS",
		"EXCEEDED_MAX_ENTITIES", "NAME_DUPLICATED":
		return "validation_" + lowerASCII(string(code))
	}
	return "validation_other"
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
