package spool

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// segment is one segment file. base is the stream offset of its first byte;
// size is the number of bytes known to be written (for the segment being
// written, only bytes whose write completed).
type segment struct {
	base uint64
	size int64
}

func (g segment) end() uint64 { return g.base + uint64(g.size) }

// segmentName returns the file name of the segment starting at base.
func segmentName(base uint64) string {
	return fmt.Sprintf("%020d%s", base, segmentSuffix)
}

// parseSegmentName returns the base of a segment file name.
func parseSegmentName(name string) (uint64, bool) {
	if len(name) != segmentNameLen || !strings.HasSuffix(name, segmentSuffix) {
		return 0, false
	}
	base, err := strconv.ParseUint(name[:20], 10, 64)
	return base, err == nil
}

// listSegments returns the segments in dir, oldest first, with their file sizes.
func listSegments(dir string) ([]segment, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: cannot list %q: %w", dir, err)
	}
	var segs []segment
	for _, e := range ents {
		base, ok := parseSegmentName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("spool: cannot stat segment %q: %w", e.Name(), err)
		}
		segs = append(segs, segment{base: base, size: fi.Size()})
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].base < segs[j].base })
	return segs, nil
}

// scanResult is what scanSegment found in one segment file.
type scanResult struct {
	validEnd  int64 // bytes up to the end of the last valid frame (or the intact header); 0 if neither
	records   int   // valid frames
	damaged   int   // damaged regions skipped (not counting the tail)
	headerBad bool  // the header is missing or damaged (its frames are still scanned)
	oldestMS  int64 // time of the first valid frame, 0 if none
	// recycled: the header is a recycled segment's, whose unused end
	// holds zeros (Spool.recycle). dataEnd is then where the zeros that
	// end the file begin; otherwise it is size, since zeros are data like
	// any bytes.
	recycled bool
	dataEnd  int64
}

// scanSegment reads a whole segment from r (size bytes) and checks every
// frame, resynchronizing after damage the way a Reader does. It never panics
// on arbitrary input.
func scanSegment(r io.ReaderAt, size int64) (scanResult, error) {
	var res scanResult
	if size <= 0 {
		res.headerBad = true
		return res, nil
	}
	// Segments are bounded by SegmentBytes (tens of MiB), so read it whole.
	buf := make([]byte, size)
	if _, err := r.ReadAt(buf, 0); err != nil && err != io.EOF {
		return res, err
	}
	res.dataEnd = size
	_, hlen, st := parseSegmentHeader(buf)
	if st == frameOK {
		res.recycled = string(buf[:len(recycledMagic)]) == recycledMagic
	} else {
		// Never give up on the frames: they carry their own checksums.
		res.headerBad = true
		if _, n, recycled, ok := salvageSegmentHeader(buf); ok {
			hlen, res.recycled = n, recycled
		} else if hlen = resync(buf, 0); hlen < 0 {
			return res, nil
		}
	}
	dataEnd := len(buf)
	if res.recycled {
		for dataEnd > 0 && buf[dataEnd-1] == 0 {
			dataEnd--
		}
		res.dataEnd = int64(dataEnd)
	}
	pos := hlen
	if !res.headerBad {
		res.validEnd = int64(hlen)
	}
	for pos < len(buf) {
		f, st := parseFrame(buf[pos:])
		if st == frameOK {
			if res.records == 0 {
				res.oldestMS = f.unixMS
			}
			res.records++
			pos += f.size
			res.validEnd = int64(pos)
			continue
		}
		if pos >= dataEnd {
			break // a recycled segment's zeros to the end: no frame starts there (its length would be 0)
		}
		next := resync(buf, pos+1)
		if next < 0 {
			break // damaged or torn tail: everything after validEnd
		}
		res.damaged++
		pos = next
	}
	return res, nil
}

// resync returns the position of the first valid frame in b at or after
// from, or -1.
func resync(b []byte, from int) int {
	for p := from; p+frameHeaderLen <= len(b); p++ {
		if _, st := parseFrame(b[p:]); st == frameOK {
			return p
		}
	}
	return -1
}

// segmentPath returns the path of the segment starting at base.
func segmentPath(dir string, base uint64) string {
	return filepath.Join(dir, segmentName(base))
}
