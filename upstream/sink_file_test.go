package upstream

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
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
