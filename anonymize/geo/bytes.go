package geo

import "unsafe"

// b2s returns a string that shares b's memory, without a copy.
//
// It is used only for slices of a DB's file buffer (DB.buf), which is read
// with os.ReadFile, lives on the Go heap and is never written after Open. A
// string made this way therefore stays valid and unchanged for as long as
// anything refers to it: the garbage collector keeps the whole buffer alive
// while one such string survives, even after a reload has replaced the DB.
// The price is memory: a Location kept long after a reload pins the old
// database file (tens of megabytes for a full City database).
//
// Never call it on a buffer that is reused, pooled or memory-mapped.
func b2s(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// offsetIn returns the offset of s's first byte within buf, or -1 when s is
// empty or does not point into buf. It is the inverse of
// b2s(buf[off:off+len(s)]), used to store a City in the record cache.
func offsetIn(buf []byte, s string) int {
	if len(s) == 0 || len(buf) == 0 {
		return -1
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	if p < base || p-base > uintptr(len(buf)-len(s)) {
		return -1
	}
	return int(p - base)
}
