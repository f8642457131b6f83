package upstream

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
)

func TestFileSinkZstdcat(t *testing.T) {
	zstdcat, err := exec.LookPath("zstdcat")
	if err != nil {
		t.Skip("zstdcat not installed (apt-get install zstd)")
	}
	data := t.TempDir()
	p := openP(t, Options{DataDir: data, Destinations: []DestinationOptions{{
		Name: "file", File: &FileOptions{}, Batch: BatchOptions{MaxEvents: 10, MaxAge: time.Millisecond}}}})
	var a appender
	a.run(t, p, "z", 1, 100, RouteTo(0))
	// Readable while still being written (.part), and after Close.
	waitFor(t, "records in the .part file", 10*time.Second, func() bool { return p.Stats()[0].LagBytes == 0 })
	check := func(glob string) {
		files, _ := filepath.Glob(filepath.Join(data, "out", glob))
		if len(files) == 0 {
			t.Fatalf("no %s file", glob)
		}
		out, err := exec.Command(zstdcat, files...).Output()
		if err != nil {
			t.Fatalf("zstdcat %q: %v", files, err)
		}
		got := newIDSet()
		got.addNDJSON(t, out)
		if m, d := got.compare(a.ackedIDs()); len(m) != 0 || d != 0 {
			t.Fatalf("zstdcat %s: %d missing, %d duplicates", glob, len(m), d)
		}
	}
	check("*.zst.part")
	closeP(t, p)
	check("*.zst")
}

func TestFileSinkRepairsPart(t *testing.T) {
	dir := t.TempDir()
	e, _ := NewEncoder(CodecZstd, 0)
	good, _ := e.AppendEncoded(nil, []byte(`{"id":"a1"}`+"\n"))
	good, _ = e.AppendEncoded(good, []byte(`{"id":"a2"}`+"\n"))
	torn, _ := e.AppendEncoded(nil, []byte(`{"id":"a3"}`+"\n"))
	name := filepath.Join(dir, "events-20260101T000000Z-000001.ndjson.zst")
	os.WriteFile(name+".part", append(good, torn[:len(torn)-3]...), 0o644)
	os.WriteFile(filepath.Join(dir, "events-20260101T000000Z-000002.ndjson.zst.part"), torn[:5], 0o644)
	s, err := NewFileSink(FileOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	// The repaired file is fsynced before its name says it is complete.
	if got := s.syncs.Load(); got != 1 {
		t.Fatalf("fsyncs of repaired files: %d, want 1", got)
	}
	s.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 || files[0] != name {
		t.Fatalf("files after repair: %q", files)
	}
	got := newIDSet()
	readZstdDir(t, dir, got)
	if m, _ := got.compare([]string{"a1", "a2"}); len(m) != 0 || got.has("a3") {
		t.Fatalf("after repair: missing %v, a3 %v", m, got.has("a3"))
	}
}

// TestFileSinkSyncByDurability: in process durability a batch is written
// without fsync and the file is fsynced once when it closes; in fsync
// durability every batch is fsynced before Send returns.
func TestFileSinkSyncByDurability(t *testing.T) {
	for _, tc := range []struct {
		d                      Durability
		afterSends, afterClose int64
	}{
		{DurabilityProcess, 0, 1},
		{DurabilityFsync, 5, 5},
	} {
		t.Run(tc.d.String(), func(t *testing.T) {
			dir := t.TempDir()
			s, err := NewFileSink(FileOptions{Dir: dir, Durability: tc.d})
			if err != nil {
				t.Fatal(err)
			}
			want := make([]string, 0, 5)
			for i := range 5 {
				var b Batch
				id := fmt.Sprintf("s%d", i)
				b.add([]byte(`{"id":"` + id + `"}`))
				want = append(want, id)
				if err := s.Send(context.Background(), &b); err != nil {
					t.Fatal(err)
				}
			}
			if got := s.syncs.Load(); got != tc.afterSends {
				t.Fatalf("fsyncs after 5 batches: %d, want %d", got, tc.afterSends)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if got := s.syncs.Load(); got != tc.afterClose {
				t.Fatalf("fsyncs after Close: %d, want %d", got, tc.afterClose)
			}
			got := newIDSet()
			readZstdDir(t, dir, got)
			if m, d := got.compare(want); len(m) != 0 || d != 0 {
				t.Fatalf("file holds %d missing, %d duplicates", len(m), d)
			}
		})
	}
}

// BenchmarkFileSinkSend measures one 1,000-record batch (already zstd
// encoded) appended to the file sink, with an fsync per batch (fsync
// durability) and without (process durability).
func BenchmarkFileSinkSend(b *testing.B) {
	e, _ := NewEncoder(CodecZstd, 0)
	var batch Batch
	batch.Data = testBatchData(1000)
	batch.Encoded, _ = e.AppendEncoded(nil, batch.Data)
	batch.Codec = CodecZstd
	for _, d := range []Durability{DurabilityProcess, DurabilityFsync} {
		b.Run(d.String(), func(b *testing.B) {
			s, err := NewFileSink(FileOptions{Dir: b.TempDir(), Durability: d, RollBytes: 16 << 20})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			for b.Loop() {
				if err := s.Send(context.Background(), &batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000/1000, "µs/record")
		})
	}
}

// TestFileSinkStartLeavesAnotherWritersPartAlone: a second gateway whose
// file destination writes to the same dir (two instances on one host
// collecting into one folder) starts while the first is writing its .part
// file. Its repair, meant for the files of a run that ended, must leave
// that file alone: before the fix it renamed it to its final name (which
// says complete, never changes again) while the first kept appending to
// it, and the first then failed to finish it.
func TestFileSinkStartLeavesAnotherWritersPartAlone(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	clk := clock.NewManual(clocktest.Golden)
	a, err := NewFileSink(FileOptions{Dir: dir, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Send(ctx, fileBatch("a1")); err != nil {
		t.Fatal(err)
	}
	path := a.path
	b, err := NewFileSink(FileOptions{Dir: dir, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatalf("%s named complete by another sink's start while it is being written", filepath.Base(path))
	}
	if _, err := os.Stat(path + partSuffix); err != nil {
		t.Fatalf("the file being written lost its .part name: %v", err)
	}
	if err := a.Send(ctx, fileBatch("a2")); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if parts, _ := filepath.Glob(filepath.Join(dir, "*"+partSuffix)); len(parts) != 0 {
		t.Fatalf(".part files left after Close: %q", parts)
	}
	got := newIDSet()
	readZstdDir(t, dir, got)
	if m, d := got.compare([]string{"a1", "a2"}); len(m) != 0 || d != 0 {
		t.Fatalf("files hold %d missing (%v), %d duplicates", len(m), m, d)
	}
}
