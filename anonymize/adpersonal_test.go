package anonymize

import (
	"strings"
	"testing"
)

// adPersonalConfig grants analytics and ads by default, so that a broken
// consent field and a good one decide the same purposes by the same
// signal, and differ only in ad personalisation.
const adPersonalConfig = `
consent:
  purposes: [analytics, ads]
  default: [analytics, ads]
destinations:
  - name: ga
    type: file
    requires: [ads]
    tcf: {without_vendor: true}
`

// TestRecordAdPersonalization: a record's consent says
// "ad_personalization": true exactly when the answer allows ads for
// personalised advertising (ads listed in the consent field), not when
// ads comes from consent.default (the field malformed); the caches and
// the record context memo tell the two apart.
func TestRecordAdPersonalization(t *testing.T) {
	en := newTestEngine(t, adPersonalConfig)
	ref := uncached(en)
	buf := make([]byte, 0, 16<<10)
	for i, c := range []struct {
		explicit string
		want     bool
	}{{"analytics,ads", true}, {"analytics,ads,bogus", false}, {"analytics,ads", true}, {"analytics,ads,bogus", false}, {"analytics", false}} {
		e := plantedEvent(c.explicit)
		want, wres := recordsOf(t, ref, e, buf)
		got, gres := recordsOf(t, en, e, buf)
		if got != want || gres != wres {
			t.Fatalf("%d %s: cached engine differs\ncached:   %+v\n%s\nuncached: %+v\n%s", i, c.explicit, gres, got, wres, want)
		}
		if gres.AdPersonalization != c.want || strings.Contains(got, `"ad_personalization":true}`) != c.want {
			t.Fatalf("%d %s: ad personalization %v; want %v\n%s", i, c.explicit, gres.AdPersonalization, c.want, got)
		}
	}
}
