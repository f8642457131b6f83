package gateway

import (
	"bytes"
	"unicode/utf8"

	"github.com/beacongate/beacongate/event"
)

// assign sets a field from the member key of a JSON event object, reading
// its value from r; a value the field refuses puts its problem in *p, which
// must hold none (see setIn).
func (r *jsonReader) assign(e *event.Event, key []byte, p *problem) {
	k := r.peek()
	switch b2s(key) {
	case "props":
		if q := r.props(e); q.bad() {
			*p = q
		}
		return
	case "consent":
		switch k {
		case jsonArray:
			if q := r.consentList(e); q.bad() {
				*p = q
			}
			return
		case jsonString, jsonNull:
		default:
			r.skip()
			*p = fieldProblem(reasonInvalidField, "consent", "must be a list of purpose names or a comma-separated string")
			return
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
				*p = tooLong(name, maxIDLen)
			}
			return
		case jsonString, jsonNull:
		default:
			r.skip()
			*p = fieldProblem(reasonInvalidField, name, "must be a string or a number")
			return
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
			return
		case jsonTrue:
			r.scalar(nil)
			mergeGDPR(e, 1)
			return
		case jsonFalse:
			r.scalar(nil)
			mergeGDPR(e, 0)
			return
		case jsonString, jsonNull:
		default:
			r.skip()
			mergeGDPR(e, event.GDPRNotUnderstood)
			return
		}
	}
	k, s := r.scalar(&r.val)
	switch k {
	case jsonNull:
		return
	case jsonString:
		assignText(e, key, s, true, p) // checked by the reader
		return
	}
	var q problem
	if assignText(e, key, nil, true, &q) {
		*p = fieldProblem(reasonInvalidField, vocabularyName(key), "must be a string")
	}
}

// consentList turns ["analytics","ads"] into "analytics,ads", and the
// empty list, which grants nothing, into "none": an empty field would be
// an absent signal, which other signals' grants would then decide. A copy
// that differs from an earlier one in the request (a string or a list)
// marks the explicit signal conflicting, as setSignal does for strings: a
// later "consent" must not silently replace a refusal.
func (r *jsonReader) consentList(e *event.Event) problem {
	c := &e.Consent
	// The list is written after the earlier copy, compared with it, then
	// moved over it.
	prev := len(c.Explicit)
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
		if len(c.Explicit)-prev > maxIDLen {
			p = tooLong("consent", maxIDLen)
		}
	}
	if len(c.Explicit) == prev && !p.bad() {
		c.Explicit = append(c.Explicit, explicitNone...)
	}
	if c.Seen&event.ConflictExplicit != 0 && !bytes.Equal(c.Explicit[:prev], c.Explicit[prev:]) {
		c.Conflicts |= event.ConflictExplicit
	}
	c.Seen |= event.ConflictExplicit
	c.Explicit = append(c.Explicit[:0], c.Explicit[prev:]...)
	if p.bad() {
		return p
	}
	if !utf8.Valid(c.Explicit) {
		return fieldProblem(reasonInvalidUTF8, "consent", "")
	}
	return problem{}
}

// explicitNone is the explicit refusal of every purpose.
var explicitNone = []byte("none")

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
			addProp(e, k, v, event.PropString, true, &p)
		case jsonNumberKind:
			addNumberText(e, k, v, &p)
		case jsonTrue:
			addProp(e, k, []byte("true"), event.PropBool, true, &p)
		case jsonFalse:
			addProp(e, k, []byte("false"), event.PropBool, true, &p)
		case jsonNull:
		default:
			p = fieldProblem(reasonInvalidField, "props", "a property value must be a string, number or boolean")
		}
	}
	return p
}

// addNumberText adds a number property with its literal text, checked by
// scanJSONNumber; a refusal goes in *p (see setIn).
func addNumberText(e *event.Event, k, num []byte, p *problem) {
	if len(e.Props) >= maxProps {
		*p = fieldProblem(reasonTooManyProps, "props", "")
		return
	}
	if len(k) == 0 || len(k) > maxPropKeyLen || !utf8.Valid(k) {
		*p = fieldProblem(reasonFieldTooLong, "props", "a property name is empty, longer than 64 bytes or not valid UTF-8")
		return
	}
	if len(num) > maxPropValueLen {
		*p = fieldProblem(reasonFieldTooLong, "props", "a property value is longer than 1024 bytes")
		return
	}
	e.AddProp(k, num, event.PropNumber)
}
