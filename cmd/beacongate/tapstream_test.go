package main

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/beacongate/beacongate/upstream"
)

// TestTapWritesRecordsOfferedBeforeClose: when the pipeline closes, a tap
// still holding records (appended before the shutdown, not yet written)
// writes them before it ends the stream: "beacongate tap" then says the
// gateway ended the stream, so it must have shown every record appended
// until then. Before the fix the handler chose at random between a
// waiting record and the tap's end, and ended without the records left.
func TestTapWritesRecordsOfferedBeforeClose(t *testing.T) {
	for round := range 32 {
		p, err := upstream.Open(upstream.Options{DataDir: t.TempDir(), Destinations: []upstream.DestinationOptions{
			{Name: "file", File: &upstream.FileOptions{}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		tap, ok := p.Tap(upstream.TapFilter{}, 16)
		if !ok {
			t.Fatal("no tap")
		}
		for i := range 3 {
			if err := p.Append(fmt.Appendf(nil, `{"v":1,"id":"r%d","site":"s"}`, i), upstream.RouteTo(0)); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		streamTap(&out, nil, tap, nil)
		tap.Close()
		if n := bytes.Count(out.Bytes(), []byte("\n")); n != 3 {
			t.Fatalf("round %d: the tap wrote %d of the 3 records appended before the pipeline closed:\n%s", round, n, out.Bytes())
		}
	}
}
