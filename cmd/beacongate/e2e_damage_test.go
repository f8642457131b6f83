package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"
)

// spoolFrame is one frame of a spool segment file, as this test reads the
// format (upstream/spool/doc.go) on its own.
type spoolFrame struct {
	start, end int64
	seq        int64 // props.seq of the record, -1 if none
}

var castagnoliTab = crc32.MakeTable(crc32.Castagnoli)

// readSpoolFrames returns the frames of a segment that verify, from the
// header up to the first one that does not (a torn tail).
func readSpoolFrames(t *testing.T, b []byte) []spoolFrame {
	t.Helper()
	if len(b) < 16 || string(b[:8]) != "BGSPOOL1" {
		t.Fatalf("segment without a valid header (%d bytes)", len(b))
	}
	p := 16 + int64(binary.LittleEndian.Uint32(b[8:]))
	var out []spoolFrame
	for p+24 <= int64(len(b)) {
		n := int64(binary.LittleEndian.Uint32(b[p:]))
		end := p + 24 + n
		if n == 0 || end > int64(len(b)) {
			break
		}
		c := crc32.Update(0, castagnoliTab, b[p:p+4])
		c = crc32.Update(c, castagnoliTab, b[p+8:end])
		if c != binary.LittleEndian.Uint32(b[p+4:]) {
			break
		}
		var r struct {
			Props struct {
				Seq *int64 `json:"seq"`
			} `json:"props"`
		}
		f := spoolFrame{start: p, end: end, seq: -1}
		if json.Unmarshal(b[p+24:end], &r) == nil && r.Props.Seq != nil {
			f.seq = *r.Props.Seq
		}
		out = append(out, f)
		p = end
	}
	return out
}

// damageNewestSegment flips bits in, zeroes or cuts a random range of the
// newest spool segment, and returns the seqs whose frames it damaged and a
// description.
func damageNewestSegment(t *testing.T, rng *rand.Rand, spoolDir string) (map[int64]bool, string) {
	t.Helper()
	segs, _ := filepath.Glob(filepath.Join(spoolDir, "*.seg"))
	if len(segs) == 0 {
		t.Fatal("no spool segment")
	}
	sort.Strings(segs)
	path := segs[len(segs)-1]
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	frames := readSpoolFrames(t, orig)
	b := append([]byte(nil), orig...)
	lo := rng.IntN(len(b))
	if rng.IntN(5) == 0 {
		lo = rng.IntN(min(len(b), 64)) // the header and the first frame
	}
	hi := min(len(b), lo+1+rng.IntN(2048))
	var what string
	switch rng.IntN(3) {
	case 0:
		for range 1 + rng.IntN(3) {
			p := lo + rng.IntN(hi-lo)
			b[p] ^= 1 << rng.IntN(8)
		}
		what = "flipped bits"
	case 1:
		clear(b[lo:hi])
		what = "zeroed"
	case 2:
		b, hi = b[:lo], len(b)
		what = "cut"
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	damaged := map[int64]bool{}
	for _, f := range frames {
		if f.end > int64(len(b)) || !bytes.Equal(b[f.start:f.end], orig[f.start:f.end]) {
			damaged[f.seq] = true
		}
	}
	return damaged, filepath.Base(path) + ": " + what + " " + itoa(hi-lo) + " bytes at " + itoa(lo) + " of " + itoa(len(orig)) +
		", " + itoa(len(damaged)) + " of " + itoa(len(frames)) + " frames damaged"
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestE2ECrashWithSpoolDamage kills the gateway with SIGKILL at random points
// under load, 20 times; after each kill a fault injector damages the newest
// spool segment (flipped bits, a zeroed range or a cut, at random) before
// the gateway is restarted on it. The destination is down for every other
// run, so that damaged frames are still undelivered. In the end every
// acknowledged event whose frame is intact must have been delivered.
func TestE2ECrashWithSpoolDamage(t *testing.T) {
	const seed = 13_2026
	rng := rand.New(rand.NewPCG(seed, 4))
	t.Logf("seed %d", seed)
	start := time.Now()
	col := newCollector(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := writeE2EConfig(t, dir, "damage.yaml", httpDestConfig(col.url(), "zstd", ""))

	p := startGateway(t, data, cfg)
	load := newLoadGen(t, "http://"+p.addr)
	load.start(3)
	excused := map[int64]bool{} // acknowledged, but their frames were damaged
	const iterations = 20
	for i := range iterations {
		col.down.Store(i%2 == 0)
		time.Sleep(time.Duration(100+rng.IntN(500)) * time.Millisecond)
		p.kill()
		damaged, what := damageNewestSegment(t, rng, filepath.Join(data, "spool"))
		for s := range damaged {
			excused[s] = true
		}
		t.Logf("kill %d: %s", i+1, what)
		p = startGateway(t, data, cfg)
		load.setBase("http://" + p.addr)
	}
	col.down.Store(false)
	load.waitPhase(500, 300*time.Millisecond)
	load.stop()

	acked := load.snapshot()
	want := map[int64]ackSpan{}
	lostToDamage := 0
	for s, span := range acked {
		if !excused[s] {
			want[s] = span
		}
	}
	missing := col.waitFor(want, 30*time.Second)
	for s := range excused {
		if _, ok := acked[s]; ok && len(col.missing(map[int64]ackSpan{s: {}})) == 1 {
			lostToDamage++
		}
	}
	st := col.stats()
	t.Logf("damage: %s", load.summary())
	t.Logf("damage: acknowledged %d, delivered %d, lost %d with their damaged frames, lost otherwise %d; duplicates(by seq) %d; runtime %v",
		len(acked), len(acked)-lostToDamage-len(missing), lostToDamage, len(missing), st.dupSeqs, time.Since(start).Round(time.Millisecond))
	if len(missing) > 0 {
		t.Errorf("%d acknowledged events with intact frames lost (first: %v)\n%s", len(missing), missing[:min(len(missing), 20)], p.logText())
	}
	col.checkClean(t, load.next.Load())
	if code := p.stop(); code != 0 {
		t.Errorf("exit code after SIGTERM: %d\n%s", code, p.logText())
	}
}
