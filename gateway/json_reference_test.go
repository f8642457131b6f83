package gateway

import (
	"unicode/utf8"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"

	"github.com/beacongate/beacongate/event"
)

// This file keeps the JSON body parsers as they were before the one pass
// (issue 21 item 1): checkJSON, then fastjson, then the fields. They are the
// reference the one pass is compared with (TestBLEOnePassMatchesReference,
// FuzzBLEOnePass, TestBeaconOnePassMatchesReference, FuzzBeaconOnePass).

// refParser is the reference's fastjson parser; the comparisons run
// serially.
var refParser fastjson.Parser

// refParseJSON checks the body's syntax and encoding, then parses it. The
// allocation-free check first costs about 0.7 ns per byte on good bodies, and
// keeps junk off fastjson's error path, which formats an error (5-7
// allocations) for every malformed body.
func refParseJSON(req *request, body []byte) (*fastjson.Value, problem) {
	if p := checkJSON(body); p.bad() {
		return nil, p
	}
	v, err := refParser.ParseBytes(body)
	if err != nil {
		return nil, because(reasonInvalidJSON)
	}
	return v, problem{}
}

// refParseBeaconJSON reads one event object or an array of them. All events are
// parsed and checked before any is handed on, so a request is accepted or
// rejected whole.
func refParseBeaconJSON(ctx *fasthttp.RequestCtx, cfg *compiled, req *request, body []byte) problem {
	v, p := refParseJSON(req, body)
	if p.bad() {
		return p
	}
	switch v.Type() {
	case fastjson.TypeObject:
		return refParseBeaconObject(ctx, cfg, req, v)
	case fastjson.TypeArray:
		arr, _ := v.Array()
		if len(arr) == 0 {
			return problemBeaconShape
		}
		if len(arr) > cfg.limits.MaxEventsPerRequest {
			return because(reasonTooManyEvents)
		}
		for i, item := range arr {
			if item.Type() != fastjson.TypeObject {
				return problem{reason: reasonInvalidJSON, detail: "must be an event object", at: int32(i + 1)}
			}
			if p := refParseBeaconObject(ctx, cfg, req, item); p.bad() {
				if p.detail != "" {
					p.at = int32(i + 1)
				}
				return p
			}
		}
		return problem{}
	}
	return problemBeaconShape
}

func refParseBeaconObject(ctx *fasthttp.RequestCtx, cfg *compiled, req *request, v *fastjson.Value) problem {
	e := req.next()
	if p := fillFromRequest(ctx, req, e, event.KindBeacon); p.bad() {
		return p
	}
	o, _ := v.Object()
	p := problem{}
	o.Visit(func(k []byte, fv *fastjson.Value) {
		if !p.bad() {
			p = refAssignJSON(e, k, fv)
		}
	})
	if p.bad() {
		return p
	}
	return finishBeaconEvent(ctx, cfg, e)
}

// refAssignJSON sets a field from one key of a JSON event object.
func refAssignJSON(e *event.Event, key []byte, v *fastjson.Value) problem {
	switch b2s(key) {
	case "props":
		return refAssignJSONProps(e, v)
	case "consent":
		switch v.Type() {
		case fastjson.TypeArray:
			return refAssignJSONConsentList(e, v)
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
			return problem{}
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
			return problem{}
		case fastjson.TypeTrue:
			mergeGDPR(e, 1)
			return problem{}
		case fastjson.TypeFalse:
			mergeGDPR(e, 0)
			return problem{}
		case fastjson.TypeString, fastjson.TypeNull:
		default:
			mergeGDPR(e, event.GDPRNotUnderstood)
			return problem{}
		}
	}
	if v.Type() == fastjson.TypeNull {
		return problem{}
	}
	if v.Type() != fastjson.TypeString {
		var q problem
		if assignText(e, key, nil, false, &q) {
			return fieldProblem(reasonInvalidField, vocabularyName(key), "must be a string")
		}
		return problem{}
	}
	s, _ := v.StringBytes()
	var p problem
	assignText(e, key, s, false, &p)
	return p
}

// refAssignJSONConsentList turns ["analytics","ads"] into "analytics,ads",
// and a list that names nothing ([] or [""]) into the refusal "none", as
// the gateway documents: an empty field would be no signal at all.
func refAssignJSONConsentList(e *event.Event, v *fastjson.Value) problem {
	arr, _ := v.Array()
	c := &e.Consent
	earlier, seen := string(c.Explicit), c.Seen&event.ConflictExplicit != 0
	defer func() {
		if seen && earlier != string(c.Explicit) {
			c.Conflicts |= event.ConflictExplicit // a second, different copy
		}
		c.Seen |= event.ConflictExplicit
	}()
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
	if len(c.Explicit) == 0 {
		c.Explicit = append(c.Explicit, "none"...)
	}
	if !utf8.Valid(c.Explicit) {
		return fieldProblem(reasonInvalidUTF8, "consent", "")
	}
	return problem{}
}

// refAssignJSONProps copies a props object whose values are strings, numbers or
// booleans. Nested objects and arrays are rejected: a property is one value.
func refAssignJSONProps(e *event.Event, v *fastjson.Value) problem {
	if v.Type() == fastjson.TypeNull {
		return problem{}
	}
	o := v.GetObject()
	if o == nil {
		return fieldProblem(reasonInvalidField, "props", "must be an object")
	}
	p := problem{}
	o.Visit(func(k []byte, pv *fastjson.Value) {
		if p.bad() {
			return
		}
		switch pv.Type() {
		case fastjson.TypeString:
			s, _ := pv.StringBytes()
			addProp(e, k, s, event.PropString, false, &p)
		case fastjson.TypeNumber:
			p = refAddNumberProp(e, k, pv)
		case fastjson.TypeTrue:
			addProp(e, k, []byte("true"), event.PropBool, false, &p)
		case fastjson.TypeFalse:
			addProp(e, k, []byte("false"), event.PropBool, false, &p)
		case fastjson.TypeNull:
		default:
			p = fieldProblem(reasonInvalidField, "props", "a property value must be a string, number or boolean")
		}
	})
	return p
}

// refAddNumberProp keeps a number's literal text, which fastjson has already
// checked to be a valid JSON number.
func refAddNumberProp(e *event.Event, k []byte, pv *fastjson.Value) problem {
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
	return problem{}
}
