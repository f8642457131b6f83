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

// setGDPR parses the gdpr flag: "1" applies, "0" does not.
func setGDPR(e *event.Event, v []byte) reason {
	switch b2s(v) {
	case "1", "true":
		e.Consent.GDPR = 1
	case "0", "false":
		e.Consent.GDPR = 0
	case "":
		e.Consent.GDPR = -1
	default:
		return reasonInvalidField
	}
	return reasonNone
}

// assignText sets the vocabulary field named key from a text value: a pixel
// query parameter, a form field or a JSON string. Unknown keys are ignored, so
// nothing a client invents reaches the event. ok reports whether key is part
// of the vocabulary.
func assignText(e *event.Event, key, v []byte) (r reason, ok bool) {
	c := &e.Consent
	switch b2s(key) {
	case "site":
		return setField(&e.Site, v, maxSiteLen), true
	case "event":
		return setEventName(e, v), true
	case "url":
		return setField(&e.URL, v, maxURLLen), true
	case "ref":
		return setField(&e.Referrer, v, maxURLLen), true
	case "uid":
		return setField(&e.UserID, v, maxIDLen), true
	case "cid":
		return setField(&e.ClientID, v, maxIDLen), true
	case "gdpr":
		return setGDPR(e, v), true
	case "gdpr_consent":
		return setField(&c.TCString, v, maxConsentLen), true
	case "gcs":
		return setField(&c.GCS, v, maxIDLen), true
	case "gcd":
		return setField(&c.GCD, v, maxIDLen), true
	case "us_privacy":
		return setField(&c.USPrivacy, v, maxIDLen), true
	case "gpp":
		return setField(&c.GPP, v, maxConsentLen), true
	case "gpp_sid":
		return setField(&c.GPPSID, v, maxIDLen), true
	case "consent":
		return setField(&c.Explicit, v, maxIDLen), true
	}
	return reasonNone, false
}

// addProp adds one custom property after checking limits.
func addProp(e *event.Event, key, v []byte, t event.PropType) reason {
	if len(e.Props) >= maxProps {
		return reasonTooManyProps
	}
	if len(key) == 0 || len(key) > maxPropKeyLen || len(v) > maxPropValueLen {
		return reasonFieldTooLong
	}
	if !utf8.Valid(key) || !utf8.Valid(v) {
		return reasonInvalidUTF8
	}
	e.AddProp(key, v, t)
	return reasonNone
}

// assignArg sets a field from a query or form argument: the vocabulary keys,
// and p.<name> for custom properties.
func assignArg(e *event.Event, key, v []byte) reason {
	if r, ok := assignText(e, key, v); ok {
		return r
	}
	if bytes.HasPrefix(key, []byte(propQueryPrefix)) {
		return addProp(e, key[len(propQueryPrefix):], v, event.PropString)
	}
	return reasonNone
}

// assignJSON sets a field from one key of a JSON event object.
func assignJSON(e *event.Event, key []byte, v *fastjson.Value) reason {
	switch b2s(key) {
	case "props":
		return assignJSONProps(e, v)
	case "consent":
		if v.Type() == fastjson.TypeArray {
			return assignJSONConsentList(e, v)
		}
	case "gdpr":
		switch v.Type() {
		case fastjson.TypeNumber:
			n, err := v.Int()
			if err != nil || (n != 0 && n != 1) {
				return reasonInvalidField
			}
			e.Consent.GDPR = int8(n)
			return reasonNone
		case fastjson.TypeTrue:
			e.Consent.GDPR = 1
			return reasonNone
		case fastjson.TypeFalse:
			e.Consent.GDPR = 0
			return reasonNone
		}
	}
	if v.Type() == fastjson.TypeNull {
		return reasonNone
	}
	if v.Type() != fastjson.TypeString {
		if _, known := assignText(e, key, nil); known {
			return reasonInvalidField
		}
		return reasonNone
	}
	s, _ := v.StringBytes()
	r, _ := assignText(e, key, s)
	return r
}

// assignJSONConsentList turns ["analytics","ads"] into "analytics,ads".
func assignJSONConsentList(e *event.Event, v *fastjson.Value) reason {
	arr, _ := v.Array()
	c := &e.Consent
	c.Explicit = c.Explicit[:0]
	for i, item := range arr {
		s, err := item.StringBytes()
		if err != nil {
			return reasonInvalidField
		}
		if i > 0 {
			c.Explicit = append(c.Explicit, ',')
		}
		c.Explicit = append(c.Explicit, s...)
		if len(c.Explicit) > maxIDLen {
			return reasonFieldTooLong
		}
	}
	if !utf8.Valid(c.Explicit) {
		return reasonInvalidUTF8
	}
	return reasonNone
}

// assignJSONProps copies a props object whose values are strings, numbers or
// booleans. Nested objects and arrays are rejected: a property is one value.
func assignJSONProps(e *event.Event, v *fastjson.Value) reason {
	if v.Type() == fastjson.TypeNull {
		return reasonNone
	}
	o, err := v.Object()
	if err != nil {
		return reasonInvalidField
	}
	r := reasonNone
	o.Visit(func(k []byte, pv *fastjson.Value) {
		if r != reasonNone {
			return
		}
		switch pv.Type() {
		case fastjson.TypeString:
			s, _ := pv.StringBytes()
			r = addProp(e, k, s, event.PropString)
		case fastjson.TypeNumber:
			r = addNumberProp(e, k, pv)
		case fastjson.TypeTrue:
			r = addProp(e, k, []byte("true"), event.PropBool)
		case fastjson.TypeFalse:
			r = addProp(e, k, []byte("false"), event.PropBool)
		case fastjson.TypeNull:
		default:
			r = reasonInvalidField
		}
	})
	return r
}

// addNumberProp keeps a number's literal text, which fastjson has already
// checked to be a valid JSON number.
func addNumberProp(e *event.Event, k []byte, pv *fastjson.Value) reason {
	if len(e.Props) >= maxProps {
		return reasonTooManyProps
	}
	if len(k) == 0 || len(k) > maxPropKeyLen || !utf8.Valid(k) {
		return reasonFieldTooLong
	}
	n := len(e.Props)
	e.AddProp(k, nil, event.PropNumber)
	p := &e.Props[n]
	p.Value = pv.MarshalTo(p.Value[:0])
	if len(p.Value) > maxPropValueLen {
		return reasonFieldTooLong
	}
	return reasonNone
}
