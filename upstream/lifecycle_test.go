package upstream

import (
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestSecondOpenLeavesTheRunningFileSinkAlone: a second Open on the data
// directory of a running pipeline (a second gateway started by mistake) is
// refused by the spool's lock, and must not touch what the running one
// writes: before the fix it repaired the running file sink's .part file,
// renaming it to its final name while the running sink still appended to
// it (a file without .part is complete and never changes again), and the
// running sink then failed to finish it.
func TestSecondOpenLeavesTheRunningFileSinkAlone(t *testing.T) {
	data := t.TempDir()
	clk := clock.NewManual(clocktest.Golden)
	dest := func() []DestinationOptions {
		return []DestinationOptions{{Name: "local", File: &FileOptions{},
			Batch: BatchOptions{MaxEvents: 10, MaxAge: 5 * time.Millisecond}}}
	}
	p := openP(t, Options{DataDir: data, Clock: clk, Destinations: dest()})
	rng := rand.New(rand.NewPCG(1, 2))
	var acked []string
	appendN := func(prefix string, n int) {
		for i := range n {
			rec := testRecord(rng, prefix, i)
			if err := p.Append(rec, RouteTo(0)); err != nil {
				t.Fatalf("Append: %v", err)
			}
			acked = append(acked, idOf(rec))
		}
	}
	appendN("a", 50)
	out := filepath.Join(data, "out")
	waitFor(t, "the file sink to catch up", 20*time.Second, func() bool { return p.Stats()[0].LagBytes == 0 })
	parts, _ := filepath.Glob(filepath.Join(out, "*.part"))
	if len(parts) != 1 {
		t.Fatalf(".part files while running: %q; want one", parts)
	}

	if q, err := Open(Options{DataDir: data, Clock: clk, Destinations: dest(), Logger: slog.New(slog.DiscardHandler)}); err == nil {
		closeP(t, q)
		t.Fatal("a second Open on a running pipeline's data directory worked; want the spool's lock to refuse it")
	}
	if _, err := os.Stat(parts[0]); err != nil {
		t.Fatalf("the refused Open touched the running sink's file: %v", err)
	}
	if done, _ := filepath.Glob(filepath.Join(out, "*.zst")); len(done) != 0 {
		t.Fatalf("the refused Open finished %q while the running sink writes it", done)
	}

	appendN("b", 50)
	closeP(t, p) // fails before the fix: the running sink cannot finish its file
	got := newIDSet()
	readZstdDir(t, out, got)
	if missing, dups := got.compare(acked); len(missing) != 0 || dups != 0 {
		t.Fatalf("acked %d, missing %d, duplicates %d", len(acked), len(missing), dups)
	}
}
