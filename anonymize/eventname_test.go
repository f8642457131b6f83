package anonymize

import (
	"strings"
	"testing"

	"github.com/beacongate/beacongate/anonymize/scrub"
)

// TestEventNameOwnIDReplaced: the event's own user or client id as sent, as
// a word of its own in the event name ("signup_u-901297", any letter case),
// becomes {id} there as in the page URL and referrer, counted as segment,
// under every policy: the record carries those ids as pseudonyms only, or
// not at all. Until 2026-12-07 the name reached the record as sent. An id
// inside a longer word, or shorter than four characters, stays.
func TestEventNameOwnIDReplaced(t *testing.T) {
	en := newTestEngine(t, testConfig)
	for _, c := range []struct{ uid, cid, name, want string }{
		{"u-901297", "", "signup_u-901297", "signup_{id}"},
		{"u-901297", "", "U-901297 signed up", "{id} signed up"},
		{"", "cid7788abc", "view:cid7788abc:cart", "view:{id}:cart"},
		{"u-901297", "cid7788abc", "u-901297/cid7788abc", "{id}/{id}"},
		{"u-901297", "", "signup_u-9012970", "signup_u-9012970"},
		{"42", "", "size_42", "size_42"},
	} {
		for _, explicit := range []string{"", "analytics", "analytics,ads"} {
			e := plantedEvent(explicit)
			e.UserID = append(e.UserID[:0], c.uid...)
			e.ClientID = append(e.ClientID[:0], c.cid...)
			e.Name = append(e.Name[:0], c.name...)
			for range 2 { // the second from the text memo
				m, _, res := record(t, en, e)
				if m["event"] != c.want {
					t.Errorf("%q (consent %q): event %q; want %q", c.name, explicit, m["event"], c.want)
				}
				if strings.Contains(c.want, "{id}") && !res.Scrubbed.Has(scrub.KindSegment) {
					t.Errorf("%q: scrubbed %v; want segment counted", c.name, res.Scrubbed)
				}
			}
		}
	}
}
