package anonymize

import (
	"strings"
	"testing"

	"github.com/beacongate/beacongate/event"
)

// TestUserParamLeavesURLsNotProperties: "?user=Zelda" (and the other names
// scrub.BuiltinURLDropParams lists) goes from the page URL and the referrer
// of every record, while an allowlisted property named "user" or "nick" is
// governed by the allowlist and the value scanner alone: kept when its
// value says nothing, its e-mail replaced, and left out when not
// allowlisted. Until 2026-12-07 the URLs kept "user=Zelda".
func TestUserParamLeavesURLsNotProperties(t *testing.T) {
	en := newTestEngine(t, strings.Replace(testConfig, "allow: [plan, note, cart_value]", "allow: [plan, user, nick]", 1))
	for _, explicit := range []string{"analytics", "analytics,ads"} {
		e := plantedEvent(explicit)
		e.URL = append(e.URL[:0], "https://shop.example/forum?user=Zelda&page=2"...)
		e.Referrer = append(e.Referrer[:0], "https://shop.example/profile?nickname=Zelda&tab=posts"...)
		e.Props = e.Props[:0]
		e.AddProp([]byte("user"), []byte("returning"), event.PropString)
		e.AddProp([]byte("nick"), []byte("mail zelda@example.com"), event.PropString)
		e.AddProp([]byte("display_name"), []byte("Zelda"), event.PropString) // not allowlisted
		m, out, _ := record(t, en, e)
		if strings.Contains(strings.ReplaceAll(out, `"user":"returning"`, ""), "Zelda") || strings.Contains(out, "zelda") {
			t.Errorf("%s: the record holds the user name:\n%s", explicit, out)
		}
		props, _ := m["props"].(map[string]any)
		if props["user"] != "returning" || props["nick"] != "mail [email]" || props["display_name"] != nil {
			t.Errorf("%s: props %v; want user kept, nick scanned, display_name left out (not allowlisted)", explicit, props)
		}
		if u, _ := m["url"].(string); u != "" && strings.Contains(u, "user=") {
			t.Errorf("%s: url %q", explicit, u)
		}
	}
}
