package spool

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// Route is a set of destinations, one bit each: bit i set means the i-th
// destination (in the order of Options.Destinations) receives the record.
type Route uint64

// Has reports whether destination i is in r.
func (r Route) Has(i int) bool { return i >= 0 && i < 64 && r&(1<<uint(i)) != 0 }

// RouteTo returns the route holding destination i alone.
func RouteTo(i int) Route { return 1 << uint(i) }

const (
	// frameHeaderLen is len(4) + crc(4) + route(8) + unix ms(8).
	frameHeaderLen = 24

	// hardMaxRecord bounds a frame's length when reading, whatever
	// Options.MaxRecordBytes says now (an older run may have allowed more).
	// Anything longer is damage.
	hardMaxRecord = 16 << 20

	segMagic = "BGSPOOL1"
	// recycledMagic starts the header of a recycled segment: a delivered
	// segment overwritten with zeros and reused, whose unused end holds
	// zeros (see Spool.recycle). Frames are the same.
	recycledMagic   = "BGSPOOLR"
	segHeaderFixed  = 16 // magic(8) + n(4) + crc(4)
	maxSegNamesLen  = 64 * 65
	cursorFileLen   = 16
	cursorMagic     = "CUR1"
	segmentSuffix   = ".seg"
	segmentNameLen  = 20 + len(segmentSuffix)
	cursorSuffix    = ".cursor"
	lockFileName    = "LOCK"
	maxDestinations = 64
)

// castagnoli is the CRC32C table; crc32 uses the SSE4.2/ARMv8 instruction for it.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var zeroHeader [frameHeaderLen]byte

// appendFrame appends one frame holding rec to dst. It does not allocate when
// dst has room.
func appendFrame(dst, rec []byte, route Route, unixMS int64) []byte {
	n := len(dst)
	dst = append(dst, zeroHeader[:]...)
	dst = append(dst, rec...)
	h := dst[n : n+frameHeaderLen]
	binary.LittleEndian.PutUint32(h[0:], uint32(len(rec)))
	binary.LittleEndian.PutUint64(h[8:], uint64(route))
	binary.LittleEndian.PutUint64(h[16:], uint64(unixMS))
	binary.LittleEndian.PutUint32(h[4:], frameCRC(dst[n:]))
	return dst
}

// frameCRC computes the checksum of a whole frame f (header and record),
// covering everything except the checksum field itself.
func frameCRC(f []byte) uint32 {
	c := crc32.Update(0, castagnoli, f[0:4])
	return crc32.Update(c, castagnoli, f[8:])
}

// frameStatus is the result of parseFrame.
type frameStatus uint8

const (
	frameOK    frameStatus = iota
	frameShort             // b ends before the frame does: need more bytes
	frameBad               // impossible length or wrong checksum
)

// frame is one decoded frame. rec points into the buffer that was parsed.
type frame struct {
	route  Route
	unixMS int64
	rec    []byte
	size   int // header + record
}

// parseFrame decodes the frame at the start of b and checks its checksum.
// A frame may not be empty and may not be longer than hardMaxRecord.
func parseFrame(b []byte) (frame, frameStatus) { return decodeFrame(b, true) }

// decodeFrame is parseFrame, checking the checksum only when verify is
// set: a Reader leaves it unset for bytes copied from the in-memory tail,
// which this process framed and checksummed itself (CRC-32C of every
// record read costs ~0.1 µs a request on the loadgen mix, half of the
// spool's checksum work).
func decodeFrame(b []byte, verify bool) (frame, frameStatus) {
	if len(b) < frameHeaderLen {
		return frame{}, frameShort
	}
	n := binary.LittleEndian.Uint32(b[0:])
	if n == 0 || n > hardMaxRecord {
		return frame{}, frameBad
	}
	size := frameHeaderLen + int(n)
	if len(b) < size {
		return frame{}, frameShort
	}
	f := b[:size]
	if verify && binary.LittleEndian.Uint32(f[4:]) != frameCRC(f) {
		return frame{}, frameBad
	}
	return frame{
		route:  Route(binary.LittleEndian.Uint64(f[8:])),
		unixMS: int64(binary.LittleEndian.Uint64(f[16:])),
		rec:    f[frameHeaderLen:],
		size:   size,
	}, frameOK
}

// appendSegmentHeader appends a segment header naming the destinations.
func appendSegmentHeader(dst []byte, names []string) []byte {
	return appendHeaderWithMagic(dst, segMagic, names)
}

// appendRecycledHeader appends the header of a recycled segment.
func appendRecycledHeader(dst []byte, names []string) []byte {
	return appendHeaderWithMagic(dst, recycledMagic, names)
}

func appendHeaderWithMagic(dst []byte, magic string, names []string) []byte {
	n := len(dst)
	dst = append(dst, magic...)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	start := len(dst)
	for i, name := range names {
		if i > 0 {
			dst = append(dst, '\n')
		}
		dst = append(dst, name...)
	}
	h := dst[n:]
	binary.LittleEndian.PutUint32(h[8:], uint32(len(dst)-start))
	c := crc32.Update(0, castagnoli, h[0:12])
	c = crc32.Update(c, castagnoli, dst[start:])
	binary.LittleEndian.PutUint32(h[12:], c)
	return dst
}

// parseSegmentHeader decodes the header at the start of b, of a segment or
// of a recycled one. It returns the header's length and the '\n'-separated
// names blob (pointing into b), or frameShort / frameBad.
func parseSegmentHeader(b []byte) (names []byte, size int, st frameStatus) {
	if len(b) < segHeaderFixed {
		return nil, 0, frameShort
	}
	if string(b[:8]) != segMagic && string(b[:8]) != recycledMagic {
		return nil, 0, frameBad
	}
	n := binary.LittleEndian.Uint32(b[8:])
	if n > maxSegNamesLen {
		return nil, 0, frameBad
	}
	size = segHeaderFixed + int(n)
	if len(b) < size {
		return nil, 0, frameShort
	}
	c := crc32.Update(0, castagnoli, b[0:12])
	c = crc32.Update(c, castagnoli, b[segHeaderFixed:size])
	if c != binary.LittleEndian.Uint32(b[12:]) {
		return nil, 0, frameBad
	}
	return b[segHeaderFixed:size], size, frameOK
}

// salvageSegmentHeader reads a segment header whose magic alone is
// damaged: the checksum verifies once the magic is restored (either
// magic). ok is false when the names cannot be trusted; recycled says
// which magic verified.
func salvageSegmentHeader(b []byte) (names []byte, size int, recycled, ok bool) {
	if len(b) < segHeaderFixed {
		return nil, 0, false, false
	}
	n := binary.LittleEndian.Uint32(b[8:])
	if n > maxSegNamesLen || segHeaderFixed+int(n) > len(b) {
		return nil, 0, false, false
	}
	size = segHeaderFixed + int(n)
	for _, magic := range [...]string{segMagic, recycledMagic} {
		c := crc32.Update(0, castagnoli, []byte(magic))
		c = crc32.Update(c, castagnoli, b[8:12])
		c = crc32.Update(c, castagnoli, b[segHeaderFixed:size])
		if c == binary.LittleEndian.Uint32(b[12:]) {
			return b[segHeaderFixed:size], size, magic == recycledMagic, true
		}
	}
	return nil, 0, false, false
}

// nameIndex returns the position of name in a '\n'-separated names blob, or -1.
func nameIndex(names []byte, name string) int {
	for i := 0; ; i++ {
		j := bytes.IndexByte(names, '\n')
		if j < 0 {
			if string(names) == name {
				return i
			}
			return -1
		}
		if string(names[:j]) == name {
			return i
		}
		names = names[j+1:]
	}
}

// appendCursor appends the 16-byte cursor record for off.
// It writes into dst's own storage: a local array would escape through
// crc32.Checksum and cost an allocation per commit.
func appendCursor(dst []byte, off uint64) []byte {
	n := len(dst)
	dst = append(dst, make([]byte, cursorFileLen)...)
	b := dst[n:]
	binary.LittleEndian.PutUint64(b[0:], off)
	binary.LittleEndian.PutUint32(b[8:], crc32.Checksum(b[0:8], castagnoli))
	copy(b[12:], cursorMagic)
	return dst
}

// parseCursor decodes a cursor record; ok is false when it is damaged.
func parseCursor(b []byte) (off uint64, ok bool) {
	if len(b) != cursorFileLen || string(b[12:]) != cursorMagic {
		return 0, false
	}
	off = binary.LittleEndian.Uint64(b[0:])
	return off, crc32.Checksum(b[0:8], castagnoli) == binary.LittleEndian.Uint32(b[8:])
}
