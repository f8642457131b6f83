package spool

import "sync"

// DefaultTailBytes is the default of Options.TailBytes.
const DefaultTailBytes = 4 << 20

// tail keeps the newest bytes of the stream in memory, as written, so that
// a Reader that keeps up copies fresh records from here instead of reading
// them back from the segment file it just wrote (one pread per wake-up).
// A Reader that falls behind further than the ring holds, or starts after
// a restart, reads the disk: the ring only ever shortcuts reads of bytes
// that are already on disk, at the same offsets.
//
// The ring holds the stream bytes [start, end), at most len(buf) of them;
// the byte at offset o is buf[o%len(buf)]. Offsets never repeat, so a byte
// held for an offset is always the byte the file holds there.
type tail struct {
	mu    sync.Mutex
	buf   []byte
	start uint64
	end   uint64
}

func newTail(n int) *tail { return &tail{buf: make([]byte, n)} }

// put records that b was written at stream offset off. Bytes not contiguous
// with what the ring holds start it afresh. Only the flush leader calls it,
// after the write completed.
func (t *tail) put(off uint64, b []byte) {
	n := uint64(len(t.buf))
	if n == 0 || len(b) == 0 {
		return
	}
	t.mu.Lock()
	if off != t.end {
		t.start, t.end = off, off
	}
	if uint64(len(b)) > n { // keep the newest n bytes
		off += uint64(len(b)) - n
		b = b[uint64(len(b))-n:]
		t.start, t.end = off, off
	}
	for len(b) > 0 {
		i := t.end % n
		c := copy(t.buf[i:], b)
		b = b[c:]
		t.end += uint64(c)
	}
	if t.end-t.start > n {
		t.start = t.end - n
	}
	t.mu.Unlock()
}

// read copies the bytes at offsets [off, off+len(dst)) that the ring holds
// (up to its end) into dst and returns how many; 0 if off is not held.
func (t *tail) read(off uint64, dst []byte) int {
	n := uint64(len(t.buf))
	if n == 0 {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if off < t.start || off >= t.end {
		return 0
	}
	want := min(uint64(len(dst)), t.end-off)
	got := 0
	for uint64(got) < want {
		i := (off + uint64(got)) % n
		got += copy(dst[got:want], t.buf[i:])
	}
	return got
}
