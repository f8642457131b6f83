package gateway

import "unsafe"

// b2s returns b as a string without copying. The string is valid only while b
// is neither modified nor reused: use it for immediate comparisons and
// parsing calls that do not keep their argument (netip.ParseAddr,
// time.Parse, strconv), never store it.
func b2s(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
