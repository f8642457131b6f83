package upstream

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestShipperYieldsWhileReadingABatch: reading a batch from the spool
// gives the core to the requests every sliceBytes, as compressing it does,
// so that with one core no request waits behind a whole batch's reading
// (bench/stalls). Uncompressed here, so every yield counted is fill's.
func TestShipperYieldsWhileReadingABatch(t *testing.T) {
	var yields atomic.Int64
	defer func(y func()) { shipperYield = y }(shipperYield)
	shipperYield = func() { yields.Add(1) }
	sink := &memSink{ids: newIDSet(), t: t}
	p := openP(t, Options{Destinations: []DestinationOptions{{Name: "m", Sink: sink, Compression: CodecNone,
		Batch: BatchOptions{MaxEvents: 1000, MaxBytes: 4 << 20, MaxAge: time.Hour}}}})
	defer closeP(t, p)
	const n, size = 1000, 1 << 10
	pad := strings.Repeat("x", size-40)
	want := make([]string, n)
	for i := range n {
		want[i] = fmt.Sprintf("r%06d", i)
		if err := p.Append([]byte(fmt.Sprintf(`{"id":%q,"pad":"%s"}`, want[i], pad)), RouteTo(0)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the batch of 1,000 records", 30*time.Second, func() bool { return sink.ids.countMissing(want) == 0 })
	if want := int64(n * size / sliceBytes); yields.Load() < want-1 {
		t.Errorf("the shipper yielded %d times reading %d KiB, want about %d (one per %d KiB)", yields.Load(), n*size>>10, want, sliceBytes>>10)
	}
}

// TestShipperYieldsBetweenReadingAndCompressing: the rest of a batch read
// since fill's last yield and the first compression slice are not one run
// on the core: the shipper yields between them when together they exceed
// a slice, so no request waits behind more than about one slice of work.
func TestShipperYieldsBetweenReadingAndCompressing(t *testing.T) {
	var yields atomic.Int64
	defer func(y func()) { shipperYield = y }(shipperYield)
	shipperYield = func() { yields.Add(1) }
	sink := &memSink{ids: newIDSet(), t: t}
	p := openP(t, Options{Destinations: []DestinationOptions{{Name: "m", Sink: sink, Compression: CodecZstd,
		Batch: BatchOptions{MaxEvents: 1000, MaxBytes: 4 << 20, MaxAge: time.Hour}}}})
	defer closeP(t, p)
	const n = 1000
	pad := strings.Repeat("x", 1000)
	want := make([]string, n)
	total, readYields, unyielded := 0, 0, 0
	for i := range n {
		want[i] = fmt.Sprintf("r%06d", i)
		rec := []byte(fmt.Sprintf(`{"id":%q,"pad":"%s"}`, want[i], pad))
		if err := p.Append(rec, RouteTo(0)); err != nil {
			t.Fatal(err)
		}
		// What fill yields for, and the batch's bytes (a newline each).
		total += len(rec) + 1
		if unyielded += len(rec); unyielded >= sliceBytes {
			readYields, unyielded = readYields+1, 0
		}
	}
	waitFor(t, "the batch of 1,000 records", 30*time.Second, func() bool { return sink.ids.countMissing(want) == 0 })
	sliceYields := (total+sliceBytes-1)/sliceBytes - 1
	if unyielded == 0 {
		t.Fatal("the records end on a slice: pick another size")
	}
	if want := int64(readYields + 1 + sliceYields); yields.Load() != want {
		t.Errorf("the shipper yielded %d times, want %d: %d reading, 1 before compressing, %d between slices", yields.Load(), want, readYields, sliceYields)
	}
}
