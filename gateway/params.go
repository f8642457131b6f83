package gateway

import (
	"bytes"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/beacongate/beacongate/event"
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
func setField(dst *[]byte, v []byte, limit int) reason {
	if len(v) > limit {
		return reasonFieldTooLong
	}
	if !utf8.Valid(v) {
		return reasonInvalidUTF8
	}
	*dst = append((*dst)[:0], v...)
	return reasonNone
}

// setGDPR parses the gdpr flag: "1" applies, "0" does not. Anything else
// (an unexpanded ${GDPR} macro) is not understood: GDPR is taken to apply
// and the engine counts the flag as malformed; the event is kept. A second
// copy of the flag keeps the more restrictive reading.
func setGDPR(e *event.Event, v []byte) problem {
	switch b2s(v) {
	case "1", "true":
		mergeGDPR(e, 1)
	case "0", "false":
		mergeGDPR(e, 0)
	case "":
	default:
		mergeGDPR(e, event.GDPRNotUnderstood)
	}
	return noProblem
}

// mergeGDPR sets the gdpr flag to v, unless an earlier copy in the request
// is more restrictive: not understood over applies over does not apply.
func mergeGDPR(e *event.Event, v int8) {
	c := &e.Consent
	if c.GDPR == -1 || v == event.GDPRNotUnderstood || (v == 1 && c.GDPR == 0) {
		c.GDPR = v
	}
}

// setSignal copies a consent signal's value like setField, and marks the
// signal conflicting when an earlier copy in the request had another value.
func setSignal(c *event.Consent, dst *[]byte, v []byte, limit int, conflict event.Conflicts) reason {
	if len(*dst) > 0 && !bytes.Equal(*dst, v) {
		c.Conflicts |= conflict
	}
	return setField(dst, v, limit)
}

// assignText sets the vocabulary field named key from a text value: a pixel
// query parameter, a form field or a JSON string. Unknown keys are ignored, so
// nothing a client invents reaches the event. known reports whether key is
// part of the vocabulary.
func assignText(e *event.Event, key, v []byte) (p problem, known bool) {
	c := &e.Consent
	switch b2s(key) {
	case "site":
		return inField("site", setField(&e.Site, v, maxSiteLen), maxSiteLen), true
	case "event":
		return inField("event", setEventName(e, v), maxNameLen), true
	case "url":
		return inField("url", setField(&e.URL, v, maxURLLen), maxURLLen), true
	case "ref":
		return inField("ref", setField(&e.Referrer, v, maxURLLen), maxURLLen), true
	case "uid":
		return inField("uid", setField(&e.UserID, v, maxIDLen), maxIDLen), true
	case "cid":
		return inField("cid", setField(&e.ClientID, v, maxIDLen), maxIDLen), true
	case "eid":
		return fieldProblem(setEventID(e, v), "eid", "8 to 64 characters of A-Z a-z 0-9 - _"), true
	case "gdpr":
		return setGDPR(e, v), true
	case "gdpr_consent":
		return inField("gdpr_consent", setSignal(c, &c.TCString, v, maxConsentLen, event.ConflictTCString), maxConsentLen), true
	case "gcs":
		return inField("gcs", setSignal(c, &c.GCS, v, maxIDLen, event.ConflictGCS), maxIDLen), true
	case "gcd":
		return inField("gcd", setSignal(c, &c.GCD, v, maxIDLen, event.ConflictGCD), maxIDLen), true
	case "us_privacy":
		return inField("us_privacy", setSignal(c, &c.USPrivacy, v, maxIDLen, event.ConflictUSPrivacy), maxIDLen), true
	case "gpp":
		return inField("gpp", setSignal(c, &c.GPP, v, maxConsentLen, event.ConflictGPP), maxConsentLen), true
	case "gpp_sid":
		return inField("gpp_sid", setSignal(c, &c.GPPSID, v, maxIDLen, event.ConflictGPPSID), maxIDLen), true
	case "consent":
		return inField("consent", setSignal(c, &c.Explicit, v, maxIDLen, event.ConflictExplicit), maxIDLen), true
	}
	return noProblem, false
}

// addProp adds one custom property after checking limits. The answer names
// "props" only: a property's name is input, and is not quoted back.
func addProp(e *event.Event, key, v []byte, t event.PropType) problem {
	if len(e.Props) >= maxProps {
		return fieldProblem(reasonTooManyProps, "props", "")
	}
	if len(key) == 0 || len(key) > maxPropKeyLen {
		return fieldProblem(reasonFieldTooLong, "props", "a property name is empty or longer than 64 bytes")
	}
	if len(v) > maxPropValueLen {
		return fieldProblem(reasonFieldTooLong, "props", "a property value is longer than 1024 bytes")
	}
	if !utf8.Valid(key) || !utf8.Valid(v) {
		return fieldProblem(reasonInvalidUTF8, "props", "a property name or value is not valid UTF-8")
	}
	e.AddProp(key, v, t)
	return noProblem
}

// assignArg sets a field from a query, form or multipart argument: the
// vocabulary keys, and p.<name> for custom properties.
func assignArg(e *event.Event, key, v []byte) problem {
	if p, known := assignText(e, key, v); known {
		return p
	}
	if bytes.HasPrefix(key, []byte(propQueryPrefix)) {
		return addProp(e, key[len(propQueryPrefix):], v, textPropType(v))
	}
	return noProblem
}

// textPropType gives a property sent as text the type the same text has in
// a JSON body, so p.cart_value=129.5 is the number 129.5 from the pixel as
// from a beacon: a JSON number literal is a number, true and false are
// booleans, anything else is a string.
func textPropType(v []byte) event.PropType {
	switch {
	case b2s(v) == "true", b2s(v) == "false":
		return event.PropBool
	case isJSONNumber(v):
		return event.PropNumber
	}
	return event.PropString
}

// isJSONNumber reports whether v is exactly one RFC 8259 number:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isJSONNumber(v []byte) bool {
	i := 0
	if i < len(v) && v[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(v) && v[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(v) && v[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(v)
}

// assignJSON sets a field from one key of a JSON event object.
func assignJSON(e *event.Event, key []byte, v *fastjson.Value) problem {
	switch b2s(key) {
	case "props":
		return assignJSONProps(e, v)
	case "consent":
		switch v.Type() {
		case fastjson.TypeArray:
			return assignJSONConsentList(e, v)
		case fastjson.TypeString, fastjson.TypeNull:
		default:
			return fieldProblem(reasonInvalidField, "consent", "must be a list of purpose names or a comma-separated string")
		}
	case "uid", "cid":
		// A numeric id is an id: its JSON text, as "12345" would be.
		dst, name := &e.UserID, "uid"
		if key[0] == 'c' {
			dst, name = &e.ClientID, "cid"
		}
		switch v.Type() {
		case fastjson.TypeNumber:
			*dst = v.MarshalTo((*dst)[:0])
			if len(*dst) > maxIDLen {
				return tooLong(name, maxIDLen)
			}
			return noProblem
		case fastjson.TypeString, fastjson.TypeNull:
		default:
			return fieldProblem(reasonInvalidField, name, "must be a string or a number")
		}
	case "gdpr":
		// A flag that is not understood is a refusal for it, never a
		// rejected request: see setGDPR.
		switch v.Type() {
		case fastjson.TypeNumber:
			switch v.GetFloat64() {
			case 0:
				mergeGDPR(e, 0)
			case 1:
				mergeGDPR(e, 1)
			default:
				mergeGDPR(e, event.GDPRNotUnderstood)
			}
			return noProblem
		case fastjson.TypeTrue:
			mergeGDPR(e, 1)
			return noProblem
		case fastjson.TypeFalse:
			mergeGDPR(e, 0)
			return noProblem
		case fastjson.TypeString, fastjson.TypeNull:
		default:
			mergeGDPR(e, event.GDPRNotUnderstood)
			return noProblem
		}
	}
	if v.Type() == fastjson.TypeNull {
		return noProblem
	}
	if v.Type() != fastjson.TypeString {
		if _, known := assignText(e, key, nil); known {
			return fieldProblem(reasonInvalidField, vocabularyName(key), "must be a string")
		}
		return noProblem
	}
	s, _ := v.StringBytes()
	p, _ := assignText(e, key, s)
	return p
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

// assignJSONConsentList turns ["analytics","ads"] into "analytics,ads".
func assignJSONConsentList(e *event.Event, v *fastjson.Value) problem {
	arr, _ := v.Array()
	c := &e.Consent
	c.Explicit = c.Explicit[:0]
	for i, item := range arr {
		if item.Type() != fastjson.TypeString {
			return fieldProblem(reasonInvalidField, "consent", "must be a list of purpose names")
		}
		s := item.GetStringBytes()
		if i > 0 {
			c.Explicit = append(c.Explicit, ',')
		}
		c.Explicit = append(c.Explicit, s...)
		if len(c.Explicit) > maxIDLen {
			return tooLong("consent", maxIDLen)
		}
	}
	if !utf8.Valid(c.Explicit) {
		return fieldProblem(reasonInvalidUTF8, "consent", "")
	}
	return noProblem
}

// assignJSONProps copies a props object whose values are strings, numbers or
// booleans. Nested objects and arrays are rejected: a property is one value.
func assignJSONProps(e *event.Event, v *fastjson.Value) problem {
	if v.Type() == fastjson.TypeNull {
		return noProblem
	}
	o := v.GetObject()
	if o == nil {
		return fieldProblem(reasonInvalidField, "props", "must be an object")
	}
	p := noProblem
	o.Visit(func(k []byte, pv *fastjson.Value) {
		if p.bad() {
			return
		}
		switch pv.Type() {
		case fastjson.TypeString:
			s, _ := pv.StringBytes()
			p = addProp(e, k, s, event.PropString)
		case fastjson.TypeNumber:
			p = addNumberProp(e, k, pv)
		case fastjson.TypeTrue:
			p = addProp(e, k, []byte("true"), event.PropBool)
		case fastjson.TypeFalse:
			p = addProp(e, k, []byte("false"), event.PropBool)
		case fastjson.TypeNull:
		default:
			p = fieldProblem(reasonInvalidField, "props", "a property value must be a string, number or boolean")
		}
	})
	return p
}

// addNumberProp keeps a number's literal text, which fastjson has already
// checked to be a valid JSON number.
func addNumberProp(e *event.Event, k []byte, pv *fastjson.Value) problem {
	if len(e.Props) >= maxProps {
		return fieldProblem(reasonTooManyProps, "props", "")
	}
	if len(k) == 0 || len(k) > maxPropKeyLen || !utf8.Valid(k) {
		return fieldProblem(reasonFieldTooLong, "props", "a property name is empty, longer than 64 bytes or not valid UTF-8")
	}
	n := len(e.Props)
	e.AddProp(k, nil, event.PropNumber)
	pr := &e.Props[n]
	pr.Value = pv.MarshalTo(pr.Value[:0])
	if len(pr.Value) > maxPropValueLen {
		return fieldProblem(reasonFieldTooLong, "props", "a property value is longer than 1024 bytes")
	}
	return noProblem
}
