package config

import (
	"strings"
	"testing"
)

// TestPixelWhenFull checks that pixel_when_full follows when_full unless
// set, and that block_timeout counts as used when either blocks.
func TestPixelWhenFull(t *testing.T) {
	f := func(src string, wantAll, wantPixel WhenFull) {
		t.Helper()
		c, err := Parse("t.yaml", []byte(src))
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if c.Spool.WhenFull != wantAll || c.Spool.PixelWhenFull != wantPixel {
			t.Fatalf("%q: when_full %v, pixel_when_full %v; want %v, %v", src, c.Spool.WhenFull, c.Spool.PixelWhenFull, wantAll, wantPixel)
		}
	}
	f("", WhenFullShed, WhenFullShed)
	f("spool: {when_full: block}", WhenFullBlock, WhenFullBlock)
	f("spool: {when_full: block, pixel_when_full: shed}", WhenFullBlock, WhenFullShed)
	f("spool: {pixel_when_full: block, block_timeout: 2s}", WhenFullShed, WhenFullBlock)
	_, err := Parse("t.yaml", []byte("spool:\n  block_timeout: 2s\n"))
	if err == nil || !strings.Contains(err.Error(), "spool.block_timeout: has no effect with when_full: shed and pixel_when_full: shed") {
		t.Fatalf("block_timeout with nothing blocking: %v", err)
	}
}

// TestSegmentBytesByDurability: segment_bytes defaults to 16MiB in process
// durability and to 64MiB in fsync; a value in the file is taken as
// written in either.
func TestSegmentBytesByDurability(t *testing.T) {
	for _, c := range []struct {
		yaml string
		want ByteSize
	}{
		{"spool:\n  durability: process\n", ProcessSegmentBytes},
		{"spool:\n  durability: fsync\n", FsyncSegmentBytes},
		{"spool:\n  durability: fsync\n  segment_bytes: 8MiB\n", 8 << 20},
		{"spool:\n  segment_bytes: 32MiB\n", 32 << 20},
	} {
		c0, err := Parse("t.yaml", []byte(c.yaml))
		if err != nil {
			t.Fatalf("%q: %v", c.yaml, err)
		}
		if c0.Spool.SegmentBytes != c.want {
			t.Errorf("%q: segment_bytes %v, want %v", c.yaml, c0.Spool.SegmentBytes, c.want)
		}
	}
}
