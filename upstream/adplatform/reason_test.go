package adplatform_test

import (
	"strings"
	"testing"

	"github.com/beacongate/beacongate/upstream/adplatform"
)

// The error a batch with dead-lettered events returns (the reason the
// dead letter's .error file and beacongate deadletter list show) tells the
// events the platform refused from those the sink never sent (too old, no
// user agent) and from those it may have taken (unsettled): "meta refused
// 3 events: too_old=2" sent an operator looking for a refusal Meta never
// made. Its reasons come in one order, whatever the map's.
func TestRejectedReasonSaysWhatWasNotSent(t *testing.T) {
	srv, s, _, _ := setup(t, adplatform.Meta, nil)
	srv.RejectEvents("eid-000003")
	old := func(i int) []byte {
		return []byte(strings.Replace(string(rec(i, "c", false)), `"received":"2026-12-04T10:00:0`, `"received":"2026-11-20T10:00:0`, 1))
	}
	noUA := strings.Replace(string(rec(2, "c", false)), `"user_agent":"Mozilla/5.0 (X11; Linux x86_64)",`, "", 1)
	err := send(s, batch(0, old(0), old(1), []byte(noUA), rec(3, "c", false), rec(4, "c", false)))
	if rej := rejectedOf(err); len(rej) != 4 {
		t.Fatalf("rejected %v (%v); want 4", rej, err)
	}
	const want = "meta: 4 events dead-lettered: 1 refused by meta (invalid_event=1); 3 not sent (too_old=2 unmappable=1)"
	if err.Error() != want {
		t.Fatalf("error %q\nwant  %q", err, want)
	}
	if st := srv.Stats(); st.Events != 1 {
		t.Fatalf("stats %+v", st)
	}
}
