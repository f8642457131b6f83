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

// TestSpoolDirNotDataDirOrBLESpool: a spool.dir that is server.data_dir,
// or the BLE spool's folder <data_dir>/ble-spool, shares that folder's
// LOCK file with the data directory's lock or the BLE spool's: config
// check said ok and the start failed with "another beacongate runs on the
// data directory", though none did. Both are refused, at Parse and again
// by Apply when -data moves data_dir onto spool.dir.
func TestSpoolDirNotDataDirOrBLESpool(t *testing.T) {
	base := "server: {data_dir: /srv/bg}\nspool: {dir: %s}\ndestinations: [{name: h, type: http, http: {url: \"https://collector.example/in\"}}]\n"
	for _, c := range []struct{ dir, want string }{
		{"/srv/bg", `spool.dir: "/srv/bg" is server.data_dir`},
		{"/srv/bg/", `spool.dir: "/srv/bg/" is server.data_dir`},
		{"/srv/bg/ble-spool", `spool.dir: "/srv/bg/ble-spool" is the BLE spool's folder`},
		{"/srv/bg/x/../ble-spool", `is the BLE spool's folder`},
	} {
		got := strings.Join(parseErrs(t, strings.Replace(base, "%s", c.dir, 1)), "\n")
		if !strings.Contains(got, c.want) {
			t.Errorf("spool.dir %s: errors %q; want one with %q", c.dir, got, c.want)
		}
	}
	for _, dir := range []string{"/srv/bg/spool", "/srv/spool", "/srv", "/srv/bg/ble-spool-2", "/var/spool/bg"} {
		if got := parseErrs(t, strings.Replace(base, "%s", dir, 1)); got != nil {
			t.Errorf("spool.dir %s: refused: %q", dir, got)
		}
	}
	c, err := Parse("t.yaml", []byte(strings.Replace(base, "%s", "/srv/spool", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(Overrides{DataDir: "/srv/spool"}); err == nil || !strings.Contains(err.Error(), `with -data /srv/spool: spool.dir: "/srv/spool" is server.data_dir`) {
		t.Fatalf("-data onto spool.dir: %v", err)
	}
}

// TestSegmentBytesDefaultTooLargeSaysSo: a spool.max_bytes below twice the
// default segment size (16MiB, or 64MiB with durability: fsync) was refused
// as "spool.segment_bytes: 64MiB is more than half of max_bytes", a key
// and a value the file never wrote. The error now says the value is the
// default and what to set.
func TestSegmentBytesDefaultTooLargeSaysSo(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"spool:\n  durability: fsync\n  max_bytes: 100MiB\n",
			"spool.segment_bytes: 64MiB (the default with durability: fsync) is more than half of max_bytes (100MiB); the spool needs room for at least two segments: set segment_bytes to at most 50MiB, or raise max_bytes"},
		{"spool:\n  max_bytes: 20MiB\n",
			"spool.segment_bytes: 16MiB (the default with durability: process) is more than half of max_bytes (20MiB); the spool needs room for at least two segments: set segment_bytes to at most 10MiB, or raise max_bytes"},
		{"spool:\n  max_bytes: 100MiB\n  segment_bytes: 64MiB\n",
			"spool.segment_bytes: 64MiB is more than half of max_bytes (100MiB); the spool needs room for at least two segments"},
	} {
		got := strings.Join(parseErrs(t, c.yaml), "\n")
		if !strings.Contains(got, c.want) {
			t.Errorf("%q:\ngot  %s\nwant %s", c.yaml, got, c.want)
		}
	}
}
