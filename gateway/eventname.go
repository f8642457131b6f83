package gateway

import "github.com/beacongate/beacongate/event"

// setEventName sets the event name. Control characters (U+0000..U+001F,
// U+007F and the C1 controls U+0080..U+009F, in UTF-8 0xC2 0x80..0x9F) are
// refused: a name is a short label, and a NUL in it breaks consumers that
// store records as text (PostgreSQL refuses \u0000 in jsonb and text) even
// though the record escapes it as valid JSON.
func setEventName(e *event.Event, v []byte, utf8OK bool) reason {
	for i, c := range v {
		if c < 0x20 || c == 0x7F || c == 0xC2 && i+1 < len(v) && v[i+1] >= 0x80 && v[i+1] <= 0x9F {
			return reasonInvalidEventName
		}
	}
	return setText(&e.Name, v, maxNameLen, utf8OK)
}
