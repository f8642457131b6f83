package upstream

import "encoding/binary"

// zstdFrameLen returns the length of the complete zstd frame (or skippable
// frame) at the start of b, or -1 if b starts with no complete frame. It
// checks the structure only (RFC 8878 §3.1: header, block headers,
// checksum), not the content, and never reads past b.
func zstdFrameLen(b []byte) int {
	if len(b) < 4 {
		return -1
	}
	magic := binary.LittleEndian.Uint32(b)
	if magic&0xFFFFFFF0 == 0x184D2A50 { // skippable frame
		if len(b) < 8 {
			return -1
		}
		n := 8 + int64(binary.LittleEndian.Uint32(b[4:]))
		if n > int64(len(b)) {
			return -1
		}
		return int(n)
	}
	if magic != 0xFD2FB528 || len(b) < 5 {
		return -1
	}
	fhd := b[4]
	if fhd&0x08 != 0 { // reserved bit
		return -1
	}
	single := fhd&0x20 != 0
	pos := 5
	if !single {
		pos++ // window descriptor
	}
	pos += [4]int{0, 1, 2, 4}[fhd&3] // dictionary id
	switch fhd >> 6 {                // frame content size
	case 0:
		if single {
			pos++
		}
	case 1:
		pos += 2
	case 2:
		pos += 4
	case 3:
		pos += 8
	}
	for {
		if pos+3 > len(b) {
			return -1
		}
		h := uint32(b[pos]) | uint32(b[pos+1])<<8 | uint32(b[pos+2])<<16
		pos += 3
		size := int(h >> 3)
		switch (h >> 1) & 3 {
		case 0, 2: // raw, compressed
			pos += size
		case 1: // RLE: one byte repeated
			pos++
		default:
			return -1
		}
		if pos > len(b) {
			return -1
		}
		if h&1 != 0 { // last block
			break
		}
	}
	if fhd&0x04 != 0 { // content checksum
		pos += 4
	}
	if pos > len(b) {
		return -1
	}
	return pos
}

// completeZstdFrames returns the length of the longest prefix of b made of
// complete zstd frames.
func completeZstdFrames(b []byte) int {
	pos := 0
	for pos < len(b) {
		n := zstdFrameLen(b[pos:])
		if n <= 0 {
			break
		}
		pos += n
	}
	return pos
}
