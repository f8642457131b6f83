//go:build !race

package anonymize

import (
	"testing"
)

// TestAppendRecordAllocs proves the whole per-event path (consent decode and
// merge, UA reduction, geo lookup, IP truncation, URL and text scanning,
// pseudonyms, visitor hash, encoding) does not allocate with a reused buffer.
func TestAppendRecordAllocs(t *testing.T) {
	en := newTestEngine(t, testConfig)
	f := func(name, explicit, tc string, ble bool) {
		t.Helper()
		e := plantedEvent(explicit)
		e.Consent.TCString = []byte(tc)
		if ble {
			makeBLE(e)
		}
		buf := make([]byte, 0, 16<<10)
		buf, _ = en.AppendRecord(buf[:0], e)
		n := testing.AllocsPerRun(500, func() { buf, _ = en.AppendRecord(buf[:0], e) })
		if n != 0 {
			t.Fatalf("%s: %v allocs per record; want 0", name, n)
		}
	}
	f("none", "", "", false)
	f("analytics", "analytics", "", false)
	f("ads", "analytics,ads", "", false)
	f("tcf", "", realTC, false)
	f("ble", "analytics", "", true)
}
