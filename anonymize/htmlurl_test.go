package anonymize

import (
	"strings"
	"testing"
)

// TestHTMLEscapedAddressInURLNeverReachesARecord: a link read from a
// page's markup carries an address with its at sign as an HTML character
// reference ("jane.doe&#64;example.org"), which splits it over a path and
// a fragment, or two parameters. Until 2026-12-07 such a page URL,
// referrer or link in a property reached the record whole under
// analytics and ads; now the URL keeps its origin only.
func TestHTMLEscapedAddressInURLNeverReachesARecord(t *testing.T) {
	en := newTestEngine(t, testConfig)
	for _, explicit := range []string{"", "analytics", "analytics,ads"} {
		e := plantedEvent(explicit)
		e.URL = []byte("https://shop.example/account/jane.doe&#64;example.org/orders")
		e.Referrer = []byte("https://mail.example/compose?to=jane.doe&commat;example.org&page=2")
		e.Props = e.Props[:0]
		e.AddProp([]byte("plan"), []byte("pro"), 0)
		e.AddProp([]byte("note"), []byte("clicked https://shop.example/s?page=2&to=jane.doe&#x40;example.org"), 0)
		m, out, _ := record(t, en, e)
		for _, leak := range []string{"jane.doe", "example.org"} {
			if strings.Contains(out, leak) {
				t.Errorf("consent %q: %q reached the record:\n%s", explicit, leak, out)
			}
		}
		if explicit != "" {
			if u, _ := m["url"].(string); u != "https://shop.example" {
				t.Errorf("consent %q: url %q; want the origin", explicit, u)
			}
			if p, _ := m["props"].(map[string]any); p["plan"] != "pro" || p["note"] != "clicked https://shop.example" {
				t.Errorf("consent %q: props %v; want plan kept and the link's origin in note", explicit, m["props"])
			}
		}
	}
}
