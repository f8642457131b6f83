package anonymize

import (
	"strings"
	"testing"

	"github.com/beacongate/beacongate/anonymize/scrub"
)

// TestKeptUserAgentOwnIDReplaced: where a policy keeps the user agent (the
// ad platforms' under ads: Meta and TikTok get it as client_user_agent and
// user.user_agent), the event's own user or client id as sent, as a word of
// its own in it, any letter case, becomes {id}, counted as segment, as in
// the event name, page URL and referrer: the record carries those ids as
// pseudonyms only. Apps' web views append their own ids to the header
// ("ShopApp/5.2 (user u-901297)"); until 2026-12-07 such a header reached
// Meta and TikTok with the raw user id beside the pseudonym. The context
// memo, keyed by the header, must not hand an event the header as an
// earlier event of another id wrote it.
func TestKeptUserAgentOwnIDReplaced(t *testing.T) {
	en := newTestEngine(t, adConfig)
	const base = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
	for _, c := range []struct{ uid, cid, ua, want string }{
		{"u-901297", "", base + "ShopApp/5.2 (user u-901297)", base + "ShopApp/5.2 (user {id})"},
		{"u-901297", "", base + "ShopApp/5.2 uid/U-901297", base + "ShopApp/5.2 uid/{id}"},
		{"", "cid7788abc", base + "ShopApp/5.2 [device cid7788abc]", base + "ShopApp/5.2 [device {id}]"},
		{"u-901297", "cid7788abc", base + "ShopApp/5.2 u-901297;cid7788abc", base + "ShopApp/5.2 {id};{id}"},
		// Inside a longer word, or shorter than four characters: kept.
		{"u-901297", "", base + "ShopApp/5.2 u-9012970", base + "ShopApp/5.2 u-9012970"},
		{"17", "", base + "ShopApp/17", base + "ShopApp/17"},
	} {
		// Twice, after an event of another user with the same header,
		// which the context memo may remember.
		for i, uid := range []string{"other-4242", c.uid, c.uid} {
			e := plantedEvent("analytics,ads")
			e.UserID = append(e.UserID[:0], uid...)
			e.ClientID = append(e.ClientID[:0], c.cid...)
			if i == 0 {
				e.ClientID = e.ClientID[:0]
			}
			e.UserAgent = append(e.UserAgent[:0], c.ua...)
			e.Name = append(e.Name[:0], "purchase"...)
			e.URL = append(e.URL[:0], "https://shop.example/p/1"...)
			e.Referrer = e.Referrer[:0]
			recs := recordsByDest(t, en, e, "warehouse", "meta", "ga", "tiktok")
			meta := recs["meta"]
			if meta == nil {
				t.Fatalf("%q: no record for meta", c.ua)
			}
			if i == 0 {
				continue
			}
			if got := meta["user_agent"]; got != c.want {
				t.Errorf("uid %q cid %q, event %d: user_agent %q; want %q", c.uid, c.cid, i, got, c.want)
			}
			if strings.Contains(c.want, "{id}") {
				if sc, _ := meta["scrubbed"].([]any); !containsAny(sc, scrub.KindSegment.String()) {
					t.Errorf("uid %q cid %q: scrubbed %v; want segment", c.uid, c.cid, meta["scrubbed"])
				}
			}
		}
	}
}

func containsAny(list []any, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
