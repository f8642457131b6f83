package consent

import (
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize/consent/tctest"
)

// TestTCStringDates: a TC string last updated longer than the maximum age
// before the request, dated in the future, or last updated before it was
// created decodes but grants nothing, and is counted as rejected.
func TestTCStringDates(t *testing.T) {
	o := DefaultOptions()
	o.MaxAge = 395 * 24 * time.Hour
	ev, err := NewEvaluator(o)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 11, 24, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name             string
		created, updated time.Time
		received         time.Time
		want             Problems
	}{
		{"fresh", now.AddDate(0, -12, 0), time.Time{}, now, 0},
		{"a day short of 13 months", now.Add(-394 * 24 * time.Hour), time.Time{}, now, 0},
		{"older than 13 months", now.Add(-396 * 24 * time.Hour), time.Time{}, now, ProblemStale},
		{"old but renewed", now.AddDate(-3, 0, 0), now.AddDate(0, -1, 0), now, 0},
		{"created in the future", now.Add(time.Hour), time.Time{}, now, ProblemFuture},
		{"within the clock skew", now.Add(4 * time.Minute), time.Time{}, now, 0},
		{"updated before created", now.AddDate(0, -1, 0), now.AddDate(0, -2, 0), now, ProblemUpdatedBeforeCreated},
		{"no receive time: dates not judged", now.AddDate(-5, 0, 0), time.Time{}, time.Time{}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := tctest.Valid(c.created)
			s.LastUpdated = c.updated
			sig := Signals{GDPR: []byte("1"), TCString: []byte(s.Encode()), ReceivedAt: c.received}
			var tc TCString
			a := ev.Evaluate(&sig, &tc)
			if a.TCFProblems != c.want {
				t.Fatalf("problems %v; want %v", a.TCFProblems, c.want)
			}
			if c.want != 0 && (a.Purposes != 0 || !a.Rejected.Has(SignalTCF)) {
				t.Fatalf("purposes %v, rejected %v; want nothing granted and tcf rejected", a.Purposes, a.Rejected)
			}
			if c.want == 0 && !a.Purposes.Has(Analytics) {
				t.Fatalf("purposes %v; a valid string grants analytics", a.Purposes)
			}
		})
	}
}
