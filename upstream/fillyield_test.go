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
