package upstream

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestDeadLetterReplay: a destination refuses every batch for good, so
// they go to the dead letters; with the cause fixed, a dry run changes
// nothing, a replay puts every record back into the spool for that
// destination only, and the next gateway run delivers all of them. The
// other destination gets nothing twice.
func TestDeadLetterReplay(t *testing.T) {
	data := t.TempDir()
	partner := &memSink{ids: newIDSet(), t: t}
	other := &memSink{ids: newIDSet(), t: t}
	refused := Permanent(errors.New("400 bad credentials"))
	partner.fail.Store(&refused)
	dests := func() []DestinationOptions {
		return []DestinationOptions{
			{Name: "partner", Sink: partner, Batch: BatchOptions{MaxEvents: 100, MaxAge: 10 * time.Millisecond}, Retry: fastRetry},
			{Name: "other", Sink: other, Batch: BatchOptions{MaxAge: 10 * time.Millisecond}, Retry: fastRetry},
		}
	}
	o := Options{DataDir: data, Destinations: dests()}
	p := openP(t, o)
	var a appender
	a.run(t, p, "d", 2, 500, RouteTo(0)|RouteTo(1))
	acked := a.ackedIDs()
	waitFor(t, "every batch dead-lettered", 10*time.Second, func() bool { return p.Stats()[0].DeadRecords == uint64(len(acked)) })
	closeP(t, p)

	dir := DeadLetterDir(o, "partner")
	dls, err := ListDeadLetters(dir)
	if err != nil {
		t.Fatal(err)
	}
	recs := 0
	for _, d := range dls {
		if d.Err != nil || d.Reason != "permanent: 400 bad credentials" {
			t.Fatalf("dead letter %+v", d)
		}
		recs += d.Records
	}
	if recs != len(acked) || len(dls) < 10 {
		t.Fatalf("%d dead-lettered records in %d batches, want %d", recs, len(dls), len(acked))
	}

	dry, err := ReplayDeadLetters(o, "partner", ReplayOptions{DryRun: true})
	if err != nil || dry.Records != len(acked) || dry.Batches != len(dls) {
		t.Fatalf("dry run: %+v, %v", dry, err)
	}
	if after, _ := ListDeadLetters(dir); len(after) != len(dls) {
		t.Fatalf("the dry run removed batches: %d left of %d", len(after), len(dls))
	}
	if _, err := ReplayDeadLetters(o, "nope", ReplayOptions{}); err == nil {
		t.Fatal("replay of an unknown destination succeeded")
	}

	res, err := ReplayDeadLetters(o, "partner", ReplayOptions{})
	if err != nil || res.Records != len(acked) || res.Batches != len(dls) {
		t.Fatalf("replay: %+v, %v", res, err)
	}
	if after, _ := ListDeadLetters(dir); len(after) != 0 {
		t.Fatalf("%d batches left after the replay", len(after))
	}
	otherBefore := other.ids.n.Load()
	partner.fail.Store(nil) // the cause is fixed
	o.Destinations = dests()
	p = openP(t, o)
	waitFor(t, "the replayed records delivered", 10*time.Second, func() bool { return partner.ids.countMissing(acked) == 0 })
	closeP(t, p)
	missing, dups := partner.ids.compare(acked)
	if len(missing) != 0 || dups != 0 {
		t.Fatalf("after the replay: lost %d, duplicates %d", len(missing), dups)
	}
	if other.ids.n.Load() != otherBefore {
		t.Fatalf("the other destination got %d records again", other.ids.n.Load()-otherBefore)
	}
	t.Logf("dead-lettered %d records in %d batches; replayed %d; delivered %d, lost 0, duplicates 0", recs, len(dls), res.Records, len(acked))
}

// TestDeadLetterReplayInterrupted: a replay that fails (the spool has no
// room for the batch) keeps the batch whole; once the spool has drained,
// the replay is run again and nothing is lost (nor sent twice: the batch
// was not started, see TestDeadLetterReplayIntoFullSpoolAppendsNothing).
func TestDeadLetterReplayInterrupted(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "deadletter", "partner")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var body []byte
	var want []string
	for i := range 1500 {
		rec := testRecord(rng, "r", i)
		want = append(want, idOf(rec))
		body = append(append(body, rec...), '\n')
	}
	if err := os.WriteFile(filepath.Join(dir, "20260101T000000.000Z-00000000000000000000.ndjson"), body, 0o600); err != nil {
		t.Fatal(err)
	}
	partner := &memSink{ids: newIDSet(), t: t}
	down := error(errors.New("partner down"))
	partner.fail.Store(&down)
	o := Options{DataDir: data, Destinations: []DestinationOptions{{Name: "partner", Sink: partner, Batch: BatchOptions{MaxAge: 10 * time.Millisecond}, Retry: fastRetry}},
		Spool: SpoolOptions{MaxBytes: 1 << 20, SegmentBytes: 128 << 10}}
	// Fill most of the spool while the partner is down.
	p := openP(t, o)
	var a appender
	a.run(t, p, "f", 1, 1300, RouteTo(0))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	p.Close(ctx) // not drained: the records stay in the spool
	cancel()
	want = append(want, a.ackedIDs()...)

	res, err := ReplayDeadLetters(o, "partner", ReplayOptions{})
	if err == nil {
		t.Fatalf("the replay into a full spool succeeded: %+v", res)
	}
	if left, _ := ListDeadLetters(dir); len(left) != 1 || left[0].Records != 1500 {
		t.Fatalf("the interrupted batch is not kept whole: %+v", left)
	}
	partner.fail.Store(nil)
	p = openP(t, o)
	waitFor(t, "the spool drained", 10*time.Second, func() bool { return p.Stats()[0].LagBytes == 0 })
	closeP(t, p)
	if res, err = ReplayDeadLetters(o, "partner", ReplayOptions{}); err != nil || res.Records != 1500 {
		t.Fatalf("second replay: %+v, %v", res, err)
	}
	p = openP(t, o)
	waitFor(t, "the replayed batch delivered", 10*time.Second, func() bool { return partner.ids.countMissing(want) == 0 })
	closeP(t, p)
	missing, dups := partner.ids.compare(want)
	if len(missing) != 0 {
		t.Fatalf("lost %d records", len(missing))
	}
	t.Logf("interrupted replay of 1500 records: lost 0, duplicates %d", dups)
}

// TestDeadLetterTempFilesRemovedAtOpen: a kill while a dead letter was
// written leaves its temporary file; the batch was not dead-lettered (the
// cursor did not move past it) and is sent again, so at the next Open the
// half-written copy goes. Before, nothing ever removed it. Other files in
// the folder stay.
func TestDeadLetterTempFilesRemovedAtOpen(t *testing.T) {
	data := t.TempDir()
	o := Options{DataDir: data, Destinations: []DestinationOptions{{Name: "partner", Sink: &memSink{ids: newIDSet(), t: t}}}}
	dir := DeadLetterDir(o, "partner")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	stale := []string{"20261206T000000.000Z-00000000000000000017.ndjson.zst.tmp", "20261206T000000.000Z-00000000000000000017.error.tmp",
		// The reason is written first: a kill before the batch file leaves it alone.
		"20261206T000001.000Z-00000000000000000042.error", "20261206T000001.000Z-00000000000000000042-rejected.error"}
	kept := []string{"20261205T000000.000Z-00000000000000000001.ndjson", "20261205T000000.000Z-00000000000000000001.error",
		"20261205T000002.000Z-00000000000000000003.ndjson.zst", "20261205T000002.000Z-00000000000000000003.error",
		"20261205T000003.000Z-00000000000000000005-rejected.ndjson", "20261205T000003.000Z-00000000000000000005-rejected.error"}
	for _, name := range append(stale, kept...) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("{}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	closeP(t, openP(t, o))
	for _, name := range stale {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there after Open (%v)", name, err)
		}
	}
	for _, name := range kept {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestDeadLetterReplayIntoFullSpoolAppendsNothing: a replay that finds no
// room in the spool for a batch appends none of its records and says so;
// the batch stays whole for the next replay. Before the fix it appended
// the batch's records until the spool was full and then failed, so the
// records appended were sent, and sent again by the replay run once the
// spool had drained (924 of 1,500 in TestDeadLetterReplayInterrupted).
func TestDeadLetterReplayIntoFullSpoolAppendsNothing(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "deadletter", "partner")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var body []byte
	dead := map[string]bool{}
	for i := range 1500 {
		rec := testRecord(rng, "d", i)
		dead[idOf(rec)] = true
		body = append(append(body, rec...), '\n')
	}
	if err := os.WriteFile(filepath.Join(dir, "20260101T000000.000Z-00000000000000000000.ndjson"), body, 0o600); err != nil {
		t.Fatal(err)
	}
	partner := &memSink{ids: newIDSet(), t: t}
	down := error(errors.New("partner down"))
	partner.fail.Store(&down)
	o := Options{DataDir: data, Destinations: []DestinationOptions{{Name: "partner", Sink: partner, Batch: BatchOptions{MaxAge: 10 * time.Millisecond}, Retry: fastRetry}},
		Spool: SpoolOptions{MaxBytes: 1 << 20, SegmentBytes: 128 << 10}}
	p := openP(t, o)
	var a appender
	a.run(t, p, "f", 1, 1300, RouteTo(0))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	p.Close(ctx) // not drained: the records stay in the spool
	cancel()

	res, err := ReplayDeadLetters(o, "partner", ReplayOptions{})
	if err == nil {
		t.Fatalf("the replay into a full spool succeeded: %+v", res)
	}
	if res.Batches != 0 || res.Records != 0 {
		t.Fatalf("replay result %+v after a failure on the only batch", res)
	}
	partner.fail.Store(nil)
	p = openP(t, o)
	waitFor(t, "the spool drained", 10*time.Second, func() bool { return p.Stats()[0].LagBytes == 0 })
	closeP(t, p)
	sent := 0
	for id := range dead {
		if partner.ids.has(id) {
			sent++
		}
	}
	if sent != 0 {
		t.Fatalf("%d of the batch's records were appended by the replay that failed (and will be sent again by the next)", sent)
	}
	if n := partner.ids.countMissing(a.ackedIDs()); n != 0 {
		t.Fatalf("lost %d acknowledged records", n)
	}
}

// TestDeadLetterReplaySyncsRemovals: a replay removes each batch file it
// appended to the spool, and a drop each batch it deletes; the folder is
// fsynced after the removal, so that after a power loss the batch does not
// come back (and is not replayed, its records sent, a second time). Before
// the fix the folder was never fsynced after a removal.
func TestDeadLetterReplaySyncsRemovals(t *testing.T) {
	for _, verb := range []string{"replay", "drop"} {
		t.Run(verb, func(t *testing.T) {
			data := t.TempDir()
			o := Options{DataDir: data, Destinations: []DestinationOptions{{Name: "partner", Sink: &memSink{ids: newIDSet(), t: t}}}}
			dir := DeadLetterDir(o, "partner")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			batch := filepath.Join(dir, "20260101T000000.000Z-00000000000000000000.ndjson")
			rng := rand.New(rand.NewPCG(5, 6))
			if err := os.WriteFile(batch, append(testRecord(rng, "s", 0), '\n'), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(errorFileOf(batch), []byte("permanent: 400\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			synced := false
			old := syncDir
			syncDir = func(d string) error {
				if _, err := os.Stat(batch); d == dir && errors.Is(err, os.ErrNotExist) {
					synced = true
				}
				return old(d)
			}
			defer func() { syncDir = old }()
			var err error
			if verb == "replay" {
				_, err = ReplayDeadLetters(o, "partner", ReplayOptions{})
			} else {
				_, err = DropDeadLetters(o, "partner", false)
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(batch); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the batch is still there: %v", err)
			}
			if !synced {
				t.Fatalf("%s removed the batch without fsyncing %s: after a power loss it may come back", verb, dir)
			}
		})
	}
}

// TestDeadLetterReplayHoldsBack: records the check holds back are not
// appended; their batch file is rewritten with them alone, in its own
// format (zstd, gzip, plain), its .error kept; the others are delivered.
// A dry run counts the same and changes nothing; DropHeld deletes them.
func TestDeadLetterReplayHoldsBack(t *testing.T) {
	for _, ext := range []string{".ndjson", ".ndjson.zst", ".ndjson.gz"} {
		t.Run(ext, func(t *testing.T) {
			data := t.TempDir()
			partner := &memSink{ids: newIDSet(), t: t}
			dests := func() []DestinationOptions {
				return []DestinationOptions{{Name: "partner", Sink: partner, Batch: BatchOptions{MaxAge: 10 * time.Millisecond}, Retry: fastRetry}}
			}
			o := Options{DataDir: data, Destinations: dests()}
			dir := DeadLetterDir(o, "partner")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(7, 8))
			var recs [][]byte
			var sent, held []string
			for i := range 10 {
				r := testRecord(rng, "h", i)
				recs = append(recs, r)
				if i%3 == 0 {
					held = append(held, idOf(r))
				} else {
					sent = append(sent, idOf(r))
				}
			}
			batch := filepath.Join(dir, "20260101T000000.000Z-00000000000000000000"+ext)
			if err := rewriteDeadLetter(batch, recs); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(errorFileOf(batch), []byte("permanent: 400\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			// Retention counts from the batch's modification time: the
			// rewrite keeps it.
			written := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			if err := os.Chtimes(batch, written, written); err != nil {
				t.Fatal(err)
			}
			isHeld := map[string]bool{}
			for _, id := range held {
				isHeld[id] = true
			}
			check := func(rec []byte) string {
				if isHeld[idOf(rec)] {
					return "its policy changed"
				}
				return ""
			}
			dry, err := ReplayDeadLetters(o, "partner", ReplayOptions{DryRun: true, Check: check})
			if err != nil || dry.Records != len(sent) || dry.HeldRecords() != len(held) || dry.Held["its policy changed"] != len(held) || dry.HeldBatches != 1 {
				t.Fatalf("dry run: %+v, %v", dry, err)
			}
			if left, _ := ListDeadLetters(dir); len(left) != 1 || left[0].Records != 10 {
				t.Fatalf("the dry run changed the batch: %+v", left)
			}
			res, err := ReplayDeadLetters(o, "partner", ReplayOptions{Check: check})
			if err != nil || res.Records != dry.Records || res.Batches != dry.Batches || res.HeldRecords() != dry.HeldRecords() || res.HeldBatches != dry.HeldBatches {
				t.Fatalf("replay: %+v, %v (dry run: %+v)", res, err, dry)
			}
			left, _ := ListDeadLetters(dir)
			if len(left) != 1 || left[0].Path != batch || left[0].Records != len(held) || left[0].Reason != "permanent: 400" {
				t.Fatalf("after the replay: %+v", left)
			}
			if fi, err := os.Stat(batch); err != nil || !fi.ModTime().Equal(written) {
				t.Fatalf("the rewritten batch's modification time: %v, %v; want %v (retention counts from it)", fi.ModTime(), err, written)
			}
			kept, err := readDeadLetter(batch)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range kept {
				if idOf(r) != held[i] {
					t.Fatalf("record %d of the rewritten batch: %s, want %s", i, idOf(r), held[i])
				}
			}
			p := openP(t, Options{DataDir: data, Destinations: dests()})
			waitFor(t, "the replayed records delivered", 10*time.Second, func() bool { return partner.ids.countMissing(sent) == 0 })
			closeP(t, p)
			for _, id := range held {
				if partner.ids.has(id) {
					t.Fatalf("a record held back was sent")
				}
			}
			res, err = ReplayDeadLetters(o, "partner", ReplayOptions{Check: check, DropHeld: true})
			if err != nil || res.Records != 0 || res.HeldRecords() != len(held) {
				t.Fatalf("replay dropping the held records: %+v, %v", res, err)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Fatalf("left after dropping the held records: %v", left)
			}
		})
	}
}
