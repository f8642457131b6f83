package gateway

import (
	"bytes"
	"unicode/utf8"

	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/internal/jsonnum"
)

// Field length limits. They bound what one event can carry; anything longer
// is a client bug or an attack, and is rejected rather than truncated so that
// no half value leaves the process.
const (
	maxSiteLen       = 128
	maxNameLen       = 128
	maxURLLen        = 4096 // long enough for real page URLs with campaign parameters
	maxIDLen         = 256
	maxConsentLen    = 8192 // TC strings with thousands of vendors in bit-field form run to a few KiB
	maxPropKeyLen    = 64
	maxPropValueLen  = 1024
	maxProps         = 64
	maxHeaderCopyLen = 1024 // User-Agent, Accept-Language
	propQueryPrefix  = "p."
)

// setField copies v into *dst after checking its length and encoding.
func setField(dst *[]byte, v []byte, limit int) reason { return setText(dst, v, limit, false) }

// setText is setField for a value whose encoding may be known good already:
// with utf8OK the UTF-8 check is skipped. JSON strings are: the one-pass
// reader checks them as it reads them (scanJSONString), so checking again
// cost a beacon 3-4 % of its instructions.
func setText(dst *[]byte, v []byte, limit int, utf8OK bool) reason {
	if len(v) > limit {
		return reasonFieldTooLong
	}
	if !utf8OK && !utf8.Valid(v) {
		return reasonInvalidUTF8
	}
	*dst = append((*dst)[:0], v...)
	return reasonNone
}

// setGDPR parses the gdpr flag: "1" applies, "0" does not. Anything else
// (an unexpanded ${GDPR} macro) is not understood: GDPR is taken to apply
// and the engine counts the flag as malformed; the event is kept. A second
// copy of the flag keeps the more restrictive reading.
func setGDPR(e *event.Event, v []byte) {
	switch b2s(v) {
	case "1", "true":
		mergeGDPR(e, 1)
	case "0", "false":
		mergeGDPR(e, 0)
	case "":
	default:
		mergeGDPR(e, event.GDPRNotUnderstood)
	}
}

// mergeGDPR sets the gdpr flag to v, unless an earlier copy in the request
// is more restrictive: not understood over applies over does not apply.
func mergeGDPR(e *event.Event, v int8) {
	c := &e.Consent
	if c.GDPR == -1 || v == event.GDPRNotUnderstood || (v == 1 && c.GDPR == 0) {
		c.GDPR = v
	}
}

// setSignal copies a consent signal's value like setText, and marks the
// signal conflicting when an earlier copy in the request had another value
// (an empty copy is a value: consent=&consent=ads conflicts, as
// consent=ads&consent= does).
func setSignal(c *event.Consent, dst *[]byte, v []byte, limit int, conflict event.Conflicts, utf8OK bool) reason {
	if c.Seen&conflict != 0 && !bytes.Equal(*dst, v) {
		c.Conflicts |= conflict
	}
	c.Seen |= conflict
	return setText(dst, v, limit, utf8OK)
}

// assignText sets the vocabulary field named key from a text value: a pixel
// query parameter, a form field or a JSON string. Unknown keys are ignored, so
// nothing a client invents reaches the event. known reports whether key is
// part of the vocabulary. utf8OK says v is known to be valid UTF-8 (see
// setText). A value the field refuses puts its problem in *p, which is
// left as it is otherwise (see setIn).
func assignText(e *event.Event, key, v []byte, utf8OK bool, p *problem) (known bool) {
	c := &e.Consent
	switch b2s(key) {
	case "site":
		p.setIn("site", setLabel(&e.Site, v, maxSiteLen, utf8OK), maxSiteLen)
	case "event":
		p.setIn("event", setEventName(e, v, utf8OK), maxNameLen)
	case "url":
		p.setIn("url", setText(&e.URL, v, maxURLLen, utf8OK), maxURLLen)
	case "ref":
		p.setIn("ref", setText(&e.Referrer, v, maxURLLen, utf8OK), maxURLLen)
	case "uid":
		p.setIn("uid", setText(&e.UserID, v, maxIDLen, utf8OK), maxIDLen)
	case "cid":
		p.setIn("cid", setText(&e.ClientID, v, maxIDLen, utf8OK), maxIDLen)
	case "eid":
		if r := setEventID(e, v); r != reasonNone {
			*p = fieldProblem(r, "eid", "8 to 64 characters of A-Z a-z 0-9 - _")
		}
	case "gdpr":
		setGDPR(e, v)
	case "gdpr_consent":
		p.setIn("gdpr_consent", setSignal(c, &c.TCString, v, maxConsentLen, event.ConflictTCString, utf8OK), maxConsentLen)
	case "gcs":
		p.setIn("gcs", setSignal(c, &c.GCS, v, maxIDLen, event.ConflictGCS, utf8OK), maxIDLen)
	case "gcd":
		p.setIn("gcd", setSignal(c, &c.GCD, v, maxIDLen, event.ConflictGCD, utf8OK), maxIDLen)
	case "us_privacy":
		p.setIn("us_privacy", setSignal(c, &c.USPrivacy, v, maxIDLen, event.ConflictUSPrivacy, utf8OK), maxIDLen)
	case "gpp":
		p.setIn("gpp", setSignal(c, &c.GPP, v, maxConsentLen, event.ConflictGPP, utf8OK), maxConsentLen)
	case "gpp_sid":
		p.setIn("gpp_sid", setSignal(c, &c.GPPSID, v, maxIDLen, event.ConflictGPPSID, utf8OK), maxIDLen)
	case "consent":
		p.setIn("consent", setSignal(c, &c.Explicit, v, maxIDLen, event.ConflictExplicit, utf8OK), maxIDLen)
	default:
		return false
	}
	return true
}

// setIn puts inField(field, r, limit) in *p when r is a problem, and
// leaves *p as it is otherwise. Field setters report through a pointer
// rather than return a problem: one returned by value (56 bytes, six
// fields, too big for SSA) is stored from registers and copied through
// the stack after every call, its 16-byte loads stalling on the stores
// just made.
func (p *problem) setIn(field string, r reason, limit int) {
	if r != reasonNone {
		*p = inField(field, r, limit)
	}
}

// addProp adds one custom property after checking limits (and encoding,
// unless utf8OK: see setText); a refusal goes in *p (see setIn). The answer
// names "props" only: a property's name is input, and is not quoted back.
func addProp(e *event.Event, key, v []byte, t event.PropType, utf8OK bool, p *problem) {
	if len(e.Props) >= maxProps {
		*p = fieldProblem(reasonTooManyProps, "props", "")
		return
	}
	if len(key) == 0 || len(key) > maxPropKeyLen {
		*p = fieldProblem(reasonFieldTooLong, "props", "a property name is empty or longer than 64 bytes")
		return
	}
	if len(v) > maxPropValueLen {
		*p = fieldProblem(reasonFieldTooLong, "props", "a property value is longer than 1024 bytes")
		return
	}
	if !utf8OK && (!utf8.Valid(key) || !utf8.Valid(v)) {
		*p = fieldProblem(reasonInvalidUTF8, "props", "a property name or value is not valid UTF-8")
		return
	}
	e.AddProp(key, v, t)
}

// assignArg sets a field from a query, form or multipart argument: the
// vocabulary keys, and p.<name> for custom properties.
func assignArg(e *event.Event, key, v []byte) problem {
	var p problem
	if !assignText(e, key, v, false, &p) && bytes.HasPrefix(key, []byte(propQueryPrefix)) {
		addProp(e, key[len(propQueryPrefix):], v, textPropType(v), false, &p)
	}
	return p
}

// textPropType gives a property sent as text the type the same text has in
// a JSON body, so p.cart_value=129.5 is the number 129.5 from the pixel as
// from a beacon: a JSON number literal is a number, true and false are
// booleans, anything else is a string.
func textPropType(v []byte) event.PropType {
	switch {
	case b2s(v) == "true", b2s(v) == "false":
		return event.PropBool
	case jsonnum.ValidNumber(v):
		// A JSON number finite as a float64: "1e999" stays text (a JSON
		// body's 1e999 is refused; a query value is text, kept as such
		// rather than typed a number the record would have to leave out).
		return event.PropNumber
	}
	return event.PropString
}

// vocabulary lists the keys of the shared vocabulary, so that an answer can
// name a key with a constant instead of quoting the request's bytes.
var vocabulary = [...]string{"site", "event", "url", "ref", "uid", "cid", "eid", "gdpr", "gdpr_consent", "gcs", "gcd", "us_privacy", "gpp", "gpp_sid", "consent", "props", "store", "sensor",
	"sightings", "uuid", "major", "minor", "namespace", "instance", "rssi", "ts", "mac", "adid", "app_instance_id"}

// vocabularyName returns the constant spelling of key, or "" when key is
// not in the vocabulary: what a client invented is never echoed.
func vocabularyName(key []byte) string {
	for _, name := range vocabulary {
		if b2s(key) == name {
			return name
		}
	}
	return ""
}
