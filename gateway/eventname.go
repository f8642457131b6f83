package gateway

import "github.com/beacongate/beacongate/event"

// hasControl reports whether v holds a control character: U+0000..U+001F,
// U+007F or a C1 control U+0080..U+009F (in UTF-8 0xC2 0x80..0x9F).
func hasControl(v []byte) bool {
	for i, c := range v {
		if c < 0x20 || c == 0x7F || c == 0xC2 && i+1 < len(v) && v[i+1] >= 0x80 && v[i+1] <= 0x9F {
			return true
		}
	}
	return false
}

// setEventName sets the event name. Control characters (see hasControl)
// are refused: a name is a short label, and a NUL in it breaks consumers
// that store records as text (PostgreSQL refuses \u0000 in jsonb and text)
// even though the record escapes it as valid JSON.
func setEventName(e *event.Event, v []byte, utf8OK bool) reason {
	return setLabel(&e.Name, v, maxNameLen, utf8OK)
}

// setLabel sets a short label (the event name, site, a BLE ping's store
// and sensor) like setText, refusing control characters as setEventName
// does, under the same reason (reasonInvalidEventName, whose detail names
// no event: the answer names the field).
// A value too long is refused as too long first, as the pixel's query
// does before it unescapes a value (assignQueryArg).
func setLabel(dst *[]byte, v []byte, limit int, utf8OK bool) reason {
	if len(v) <= limit && hasControl(v) {
		return reasonInvalidEventName
	}
	return setText(dst, v, limit, utf8OK)
}
