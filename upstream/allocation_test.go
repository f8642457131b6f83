//go:build !race

package upstream

import (
	"context"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
)

// parkedSink blocks in Send until released, so that the shipper goroutine
// is parked and does not allocate while the test counts allocations (the
// counter is process-wide).
type parkedSink struct {
	entered chan struct{}
	release chan struct{}
}

func (s *parkedSink) Send(ctx context.Context, b *Batch) error {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	select {
	case <-s.release:
	case <-ctx.Done():
	}
	return nil
}

func (s *parkedSink) Close() error { return nil }

func TestAllocations(t *testing.T) {
	f := func(name string, fn func()) {
		t.Helper()
		fn()
		if n := testing.AllocsPerRun(1000, fn); n != 0 {
			t.Fatalf("%s: %v allocs per run, want 0", name, n)
		}
	}
	rec := testRecord(rand.New(rand.NewPCG(1, 1)), "a", 1)

	for _, d := range []Durability{DurabilityProcess, DurabilityFsync} {
		sink := &parkedSink{entered: make(chan struct{}, 1), release: make(chan struct{})}
		p := openP(t, Options{Spool: SpoolOptions{Durability: d},
			Destinations: []DestinationOptions{{Name: "parked", Sink: sink, Batch: BatchOptions{MaxEvents: 1}}}})
		if err := p.Append(rec, 1); err != nil {
			t.Fatal(err)
		}
		<-sink.entered
		f("Pipeline.Append "+d.String(), func() {
			if err := p.Append(rec, 1); err != nil {
				t.Fatal(err)
			}
		})
		tap, _ := p.Tap(TapFilter{Site: string(jsonStringField(rec, "site"))}, 4)
		got := 0
		f("Pipeline.Append with a tap "+d.String(), func() {
			if err := p.Append(rec, 1); err != nil {
				t.Fatal(err)
			}
			select {
			case r := <-tap.C():
				got++
				tap.Done(r)
			default:
			}
		})
		if got < 1000 || tap.Cut() {
			t.Fatalf("the tap got %d records, cut %v", got, tap.Cut())
		}
		tap.Close()
		// A beacon record with many properties is a few KiB: copied into
		// a tap's buffers without growing them (until 2026-12-06 they
		// held 1 KiB, and every such record allocated on the request
		// path while a tap was open).
		long := []byte(`{"site":"a","consent":{"state":"ads"},"props":{"note":"` + strings.Repeat("x", 3000) + `"}}`)
		tap, _ = p.Tap(TapFilter{}, 1100)
		f("Pipeline.Append of a 3 KiB record with a tap "+d.String(), func() {
			if err := p.Append(long, 1); err != nil {
				t.Fatal(err)
			}
			tap.Done(<-tap.C())
		})
		tap.Close()
		f("Pipeline.Append unrouted", func() {
			if err := p.Append(rec, 1<<5); err != nil {
				t.Fatal(err)
			}
		})
		close(sink.release)
		closeP(t, p)
	}

	f("jsonStringField", func() {
		if len(jsonStringField(rec, "site")) == 0 {
			t.Fatal("no site")
		}
	})
	data := testBatchData(50)
	for _, c := range []Codec{CodecZstd, CodecGzip, CodecNone} {
		e, err := NewEncoder(c, 0)
		if err != nil {
			t.Fatal(err)
		}
		dst := make([]byte, 0, 2*len(data))
		f("Encoder.AppendEncoded "+c.String(), func() {
			if _, err := e.AppendEncoded(dst[:0], data); err != nil {
				t.Fatal(err)
			}
		})
		big := testBatchData(1000) // more than one slice
		bigDst := make([]byte, 0, 2*len(big))
		// Per batch, not per request: klauspost/compress's streaming
		// zstd encoder writes the frame header and checksum through
		// an io.Writer from stack arrays that escape (2 allocations
		// per batch, 0.002 per request in 1,000-record batches).
		sliced := func() {
			if _, err := e.AppendEncodedSliced(bigDst[:0], big, func() {}); err != nil {
				t.Fatal(err)
			}
		}
		sliced()
		if n := testing.AllocsPerRun(100, sliced); n > 2 {
			t.Fatalf("Encoder.AppendEncodedSliced %v: %v allocs per batch, want at most 2", c, n)
		}
	}
}

// TestShipToFileAllocations: once warm, a record's whole way to a file
// destination (append, batch, compression, the file write, the cursor)
// allocates nothing; counted process-wide, so the shipper goroutine's
// allocations are in. Batches stay under one compression slice (see
// Encoder.AppendEncodedSliced for larger ones).
func TestShipToFileAllocations(t *testing.T) {
	dir := t.TempDir()
	p := openP(t, Options{DataDir: dir, Clock: clock.NewManual(clocktest.Golden), Destinations: []DestinationOptions{{
		Name: "file", File: &FileOptions{Dir: dir + "/out"}, Batch: BatchOptions{MaxEvents: 1},
	}}})
	defer closeP(t, p)
	rec := testRecord(rand.New(rand.NewPCG(1, 1)), "a", 1)
	r := p.spool.Reader(0)
	shipOne := func() {
		if err := p.Append(rec, 1); err != nil {
			t.Fatal(err)
		}
		for end := p.spool.End(); r.Committed() < end; {
			runtime.Gosched()
		}
	}
	for range 10 {
		shipOne()
	}
	if n := testing.AllocsPerRun(200, shipOne); n != 0 {
		t.Fatalf("%v allocs per record shipped to a file, want 0", n)
	}
}
