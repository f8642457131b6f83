package spool

import (
	"errors"
	"testing"
)

// TestHeadroom: Append and Enqueue leave Options.Headroom free (ErrFull at
// MaxBytes-Headroom, and Full says so), AppendUpTo fills it up to its
// limit, AppendHeadroom up to MaxBytes; every accepted record is readable
// in order.
func TestHeadroom(t *testing.T) {
	const maxBytes, headroom = 64 << 10, 16 << 10
	s := openT(t, Options{Dir: t.TempDir(), Destinations: []string{"a"},
		MaxBytes: maxBytes, SegmentBytes: 8 << 10, MaxRecordBytes: 1 << 10, Headroom: headroom})
	id := 0
	for ; ; id++ {
		err := s.Append(rec(id), 1)
		if errors.Is(err, ErrFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if size := s.Size(); size > maxBytes-headroom || size < maxBytes-headroom-int64(2*(frameHeaderLen+len(rec(0)))) {
		t.Fatalf("Append refused at %d bytes, want just below %d", size, maxBytes-headroom)
	}
	if !s.Full() {
		t.Fatal("Full() = false when Append refuses")
	}
	var p Pending
	if err := s.Enqueue(&p, rec(id), 1); !errors.Is(err, ErrFull) {
		t.Fatalf("Enqueue into the headroom: %v, want ErrFull", err)
	}
	n := id
	// AppendUpTo stops at its own limit, inside the headroom.
	for ; ; id++ {
		err := s.AppendUpTo(rec(id), 1, maxBytes-headroom/2)
		if errors.Is(err, ErrFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if size := s.Size(); size > maxBytes-headroom/2 || size < maxBytes-headroom/2-int64(2*(frameHeaderLen+len(rec(0)))) {
		t.Fatalf("AppendUpTo refused at %d bytes, want just below %d", size, maxBytes-headroom/2)
	}
	for ; ; id++ {
		err := s.AppendHeadroom(rec(id), 1)
		if errors.Is(err, ErrFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if id-n < headroom/(frameHeaderLen+len(rec(0)))-1 {
		t.Fatalf("AppendHeadroom took %d records into %d bytes of headroom", id-n, headroom)
	}
	if size := s.Size(); size > maxBytes {
		t.Fatalf("size %d above MaxBytes", size)
	}
	if got := drain(t, s, 0); !equalInts(got, seq(0, id)) {
		t.Fatalf("read %d records, want %d in order", len(got), id)
	}
	if _, err := Open(Options{Dir: t.TempDir(), MaxBytes: 1 << 20, Headroom: 1 << 20}); err == nil {
		t.Fatal("Open accepted Headroom = MaxBytes")
	}
}
