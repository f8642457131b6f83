package gateway

import (
	"unicode/utf8"

	"github.com/beacongate/beacongate/event"
)

// assign sets a field from the member key of a JSON event object, reading
// its value from r.
func (r *jsonReader) assign(e *event.Event, key []byte) problem {
	k := r.peek()
	switch b2s(key) {
	case "props":
		return r.props(e)
	case "consent":
		switch k {
		case jsonArray:
			return r.consentList(e)
		case jsonString, jsonNull:
		default:
			r.skip()
			return fieldProblem(reasonInvalidField, "consent", "must be a list of purpose names or a comma-separated string")
		}
	case "uid", "cid":
		// A numeric id is an id: its JSON text, as "12345" would be.
		dst, name := &e.UserID, "uid"
		if key[0] == 'c' {
			dst, name = &e.ClientID, "cid"
		}
		switch k {
		case jsonNumberKind:
			_, num := r.scalar(nil)
			*dst = append((*dst)[:0], num...)
			if len(*dst) > maxIDLen {
				return tooLong(name, maxIDLen)
			}
			return problem{}
		case jsonString, jsonNull:
		default:
			r.skip()
			return fieldProblem(reasonInvalidField, name, "must be a string or a number")
		}
	case "gdpr":
		// A flag that is not understood is a refusal for it, never a
		// rejected request: see setGDPR.
		switch k {
		case jsonNumberKind:
			_, num := r.scalar(nil)
			switch jsonFloat(num) {
			case 0:
				mergeGDPR(e, 0)
			case 1:
				mergeGDPR(e, 1)
			default:
				mergeGDPR(e, event.GDPRNotUnderstood)
			}
			return problem{}
		case jsonTrue:
			r.scalar(nil)
			mergeGDPR(e, 1)
			return problem{}
		case jsonFalse:
			r.scalar(nil)
			mergeGDPR(e, 0)
			return problem{}
		case jsonString, jsonNull:
		default:
			r.skip()
			mergeGDPR(e, event.GDPRNotUnderstood)
			return problem{}
		}
	}
	k, s := r.scalar(&r.val)
	switch k {
	case jsonNull:
		return problem{}
	case jsonString:
		p, _ := assignText(e, key, s, true) // checked by the reader
		return p
	}
	if _, known := assignText(e, key, nil, true); known {
		return fieldProblem(reasonInvalidField, vocabularyName(key), "must be a string")
	}
	return problem{}
}

// consentList turns ["analytics","ads"] into "analytics,ads".
func (r *jsonReader) consentList(e *event.Event) problem {
	c := &e.Consent
	c.Explicit = c.Explicit[:0]
	p := problem{}
	r.open()
	for first := true; r.item(first); first = false {
		if p.bad() {
			r.skip()
			continue
		}
		k, s := r.scalar(&r.val)
		if k != jsonString {
			p = fieldProblem(reasonInvalidField, "consent", "must be a list of purpose names")
			continue
		}
		if !first {
			c.Explicit = append(c.Explicit, ',')
		}
		c.Explicit = append(c.Explicit, s...)
		if len(c.Explicit) > maxIDLen {
			p = tooLong("consent", maxIDLen)
		}
	}
	if p.bad() {
		return p
	}
	if !utf8.Valid(c.Explicit) {
		return fieldProblem(reasonInvalidUTF8, "consent", "")
	}
	return problem{}
}

// props copies a props object whose values are strings, numbers or
// booleans. Nested objects and arrays are refused: a property is one value.
func (r *jsonReader) props(e *event.Event) problem {
	switch r.peek() {
	case jsonNull:
		r.scalar(nil)
		return problem{}
	case jsonObject:
	default:
		r.skip()
		return fieldProblem(reasonInvalidField, "props", "must be an object")
	}
	p := problem{}
	r.open()
	for first := true; ; first = false {
		k, ok := r.member(first, &r.key)
		if !ok {
			break
		}
		if p.bad() {
			r.skip()
			continue
		}
		switch t, v := r.scalar(&r.val); t {
		case jsonString: // name and value checked by the reader
			p = addProp(e, k, v, event.PropString, true)
		case jsonNumberKind:
			p = addNumberText(e, k, v)
		case jsonTrue:
			p = addProp(e, k, []byte("true"), event.PropBool, true)
		case jsonFalse:
			p = addProp(e, k, []byte("false"), event.PropBool, true)
		case jsonNull:
		default:
			p = fieldProblem(reasonInvalidField, "props", "a property value must be a string, number or boolean")
		}
	}
	return p
}

// addNumberText adds a number property with its literal text, checked by
// scanJSONNumber.
func addNumberText(e *event.Event, k, num []byte) problem {
	if len(e.Props) >= maxProps {
		return fieldProblem(reasonTooManyProps, "props", "")
	}
	if len(k) == 0 || len(k) > maxPropKeyLen || !utf8.Valid(k) {
		return fieldProblem(reasonFieldTooLong, "props", "a property name is empty, longer than 64 bytes or not valid UTF-8")
	}
	if len(num) > maxPropValueLen {
		return fieldProblem(reasonFieldTooLong, "props", "a property value is longer than 1024 bytes")
	}
	e.AddProp(k, num, event.PropNumber)
	return problem{}
}
