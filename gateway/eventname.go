package gateway

import "github.com/beacongate/beacongate/event"

// setEventName sets the event name. Control characters (U+0000..U+001F and
// U+007F) are refused: a name is a short label, and a NUL in it breaks
// consumers that store records as text (PostgreSQL refuses \u0000 in jsonb
// and text) even though the record escapes it as valid JSON.
func setEventName(e *event.Event, v []byte, utf8OK bool) reason {
	for _, c := range v {
		if c < 0x20 || c == 0x7F {
			return reasonInvalidEventName
		}
	}
	return setText(&e.Name, v, maxNameLen, utf8OK)
}
