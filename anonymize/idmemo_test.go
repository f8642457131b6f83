package anonymize

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/event"
)

// recordsOneByOne is AppendRecords as it was before idMemo: each distinct
// policy's record made on its own, every pseudonym and visitor hash
// computed again. It is the reference TestAppendRecordsShareHashes compares
// with, in recordsOf's format.
func recordsOneByOne(en *Engine, e *event.Event) (string, int) {
	sc := getScratch()
	defer putScratch(sc)
	var res Result
	en.decideRouted(e, sc, &res)
	var groups []policyGroup
	for i := range en.dests {
		if !res.Dests.Has(i) {
			continue
		}
		pi := en.dests[i].policy[res.State]
		j := 0
		for j < len(groups) && groups[j].policy != pi {
			j++
		}
		if j == len(groups) {
			groups = append(groups, policyGroup{policy: pi})
		}
		groups[j].dests |= 1 << uint(i)
	}
	var b strings.Builder
	base := res
	for _, g := range groups {
		rec, r := en.appendRecord(nil, e, &base, sc, g.policy)
		if !r.Drop {
			fmt.Fprintf(&b, "%b %s\n", g.dests, blankID(rec))
		}
	}
	return b.String(), len(groups)
}

// TestAppendRecordsShareHashes: under ads the shop example's destinations
// have 5 distinct policies; the records AppendRecords makes with one
// computation of each pseudonym and visitor hash are byte for byte (event
// ids aside) those made one by one, for a web event and a BLE sighting,
// and several records do carry the shared values.
func TestAppendRecordsShareHashes(t *testing.T) {
	en := shopRetargeting(t)
	buf := make([]byte, 0, 16<<10)
	for _, c := range []struct {
		name string
		e    *event.Event
		keys []string
	}{
		{"web", senderEvent("shop", chromeUA, false), []string{`"user":"`, `"client":"`, `"visitor":"`}},
		{"ble", senderEvent("shop", chromeUA, true), []string{`"user":"`, `"device":"`, `"visitor":"`}},
	} {
		want, groups := recordsOneByOne(en, c.e)
		if groups != 5 {
			t.Fatalf("%s: %d distinct policies; want the example's 5 under ads", c.name, groups)
		}
		got, _ := recordsOf(t, en, c.e, buf)
		if got != want {
			t.Fatalf("%s: records differ\nshared:     %s\none by one: %s", c.name, got, want)
		}
		for _, k := range c.keys {
			if n := strings.Count(got, k); n < 2 {
				t.Fatalf("%s: %d records carry %s; want at least 2 for the test to mean something", c.name, n, k)
			}
		}
	}
}

// TestIDMemoComputesOnce: with more than one record to make, a slot's hash
// is computed by the first record and copied into the others; with one
// record, or after stop, it is computed each time.
func TestIDMemoComputesOnce(t *testing.T) {
	en := &Engine{}
	calls := 0
	add := func(d []byte) []byte { calls++; return append(d, "h4sh"...) }
	var m idMemo
	for _, c := range []struct{ records, want int }{{5, 1}, {1, 5}} {
		calls = 0
		m.start(c.records)
		for range 5 {
			if got := en.appendHash(nil, &m, memoUser, "user", add); !bytes.Equal(got, []byte(`"user":"h4sh"`)) {
				t.Fatalf("%d records: appended %s", c.records, got)
			}
		}
		m.stop()
		if calls != c.want {
			t.Fatalf("%d records: hash computed %d times; want %d", c.records, calls, c.want)
		}
	}
	// An empty value (an ephemeral key already forgotten) is kept as empty.
	m.start(2)
	empty := func(d []byte) []byte { calls++; return d }
	calls = 0
	for range 2 {
		if got := en.appendHash(nil, &m, memoDevice, "device", empty); len(got) != 0 {
			t.Fatalf("empty hash appended %s", got)
		}
	}
	if calls != 1 {
		t.Fatalf("empty hash computed %d times; want 1", calls)
	}
}
