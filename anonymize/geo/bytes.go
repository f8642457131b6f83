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
