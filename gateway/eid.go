package gateway

import "github.com/beacongate/beacongate/event"

// Event ids from the page: bg.js makes 22 base64url characters; other
// tags' ids (e.g. a shop's order-based id) fit the same alphabet.
const (
	minEventIDLen = 8
	maxEventIDLen = 64
)

// setEventID copies the page's event id after checking that it is 8-64
// characters of A-Z a-z 0-9 - _, so it needs no escaping or scanning in
// the record.
func setEventID(e *event.Event, v []byte) reason {
	if len(v) == 0 {
		e.EventID = e.EventID[:0]
		return reasonNone
	}
	if len(v) < minEventIDLen || len(v) > maxEventIDLen {
		return reasonInvalidField
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return reasonInvalidField
		}
	}
	e.EventID = append(e.EventID[:0], v...)
	return reasonNone
}
