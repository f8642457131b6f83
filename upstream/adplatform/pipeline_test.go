package adplatform_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/upstream/adplatform"
	"github.com/beacongate/beacongate/upstream/adplatform/contract"
)

// Through the real shipper and spool: a 429 with Retry-After: 1 is waited
// out, bad events land in the dead-letter folder alone, every good event
// arrives once.
func TestPipeline(t *testing.T) {
	srv, s, _, _ := setup(t, adplatform.TikTok, nil)
	srv.RejectEvents("eid-000042")
	srv.Script(contract.Answer{Status: 429, RetryAfter: "1"})
	data := t.TempDir()
	o := upstream.Options{DataDir: data, Destinations: []upstream.DestinationOptions{{Name: "ads", Sink: s,
		Batch: upstream.BatchOptions{MaxEvents: 500, MaxAge: 10 * time.Millisecond}}}}
	p, err := upstream.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	for _, r := range records(300, true) {
		if err := p.Append(r, upstream.RouteTo(0)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for srv.Stats().Events < 299 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	waited := time.Since(t0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if waited < time.Second {
		t.Fatalf("delivered after %v: Retry-After: 1 not honoured", waited)
	}
	ids := map[string]int{}
	for _, e := range srv.Events() {
		ids[e.ID]++
	}
	if len(ids) != 299 || srv.Stats().Events != 299 || ids["eid-000042"] != 0 {
		t.Fatalf("%d distinct events of %d; want 299 once each", len(ids), srv.Stats().Events)
	}
	dls, err := upstream.ListDeadLetters(upstream.DeadLetterDir(o, "ads"))
	if err != nil || len(dls) != 1 || dls[0].Records != 1 {
		t.Fatalf("dead letters %+v, %v", dls, err)
	}
	b, _ := os.ReadFile(dls[0].Path)
	if !bytes.Contains(b, []byte(`"eid":"eid-000042"`)) || !strings.Contains(dls[0].Reason, "invalid_event=1") {
		t.Fatalf("dead letter %s: %s", dls[0].Reason, b)
	}
	if st := p.Stats()[0]; st.Records != 299 || st.DeadRecords != 1 {
		t.Fatalf("stats %+v", st)
	}
}
