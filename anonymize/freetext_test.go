package anonymize

import (
	"strings"
	"testing"
)

// TestFreeTextScannedUnderEveryPolicy (issue 18 item 3): every free-text
// field is scanned whatever the consent state: the site id under the
// default config, the event name, property values, and the raw user agent
// where a policy keeps it (the personal parts go, the user agent stays).
func TestFreeTextScannedUnderEveryPolicy(t *testing.T) {
	const (
		idfa = "6D92078A-8246-4BA4-AE5B-76104861E7DC"
		mac  = "00:1A:2B:3C:4D:5E"
		ip   = "203.0.113.77"
	)
	en := newTestEngine(t, testConfig)
	for _, explicit := range []string{"", "analytics", "analytics,ads"} {
		e := plantedEvent(explicit)
		e.Site = []byte(plantedEmail)
		e.Name = []byte("ping from " + ip + " for jane dot doe at posteo dot de")
		e.UserAgent = []byte("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Mobile/15E148 " + plantedEmail + " IDFA/" + idfa + " (jane.doe(at)posteo.de)")
		e.Props = e.Props[:0]
		e.AddProp([]byte("note"), []byte("Jane's iPhone at "+mac+", mail "+plantedObfuscated), 0)
		m, out, _ := record(t, en, e)
		for _, leak := range []string{plantedEmail, idfa, mac, ip, "Jane", "jane", "posteo", "j.smith", "mailbox"} {
			if strings.Contains(out, leak) {
				t.Errorf("consent %q: %q reached the record:\n%s", explicit, leak, out)
			}
		}
		if explicit == "analytics,ads" {
			ua, _ := m["user_agent"].(string)
			if !strings.HasPrefix(ua, "Mozilla/5.0 (iPhone;") || !strings.Contains(ua, "[email]") || !strings.Contains(ua, "[token]") {
				t.Errorf("ads: user_agent %q; want it kept with its personal parts replaced", ua)
			}
		}
	}
}

// TestSensitivePropertyKey: a property whose allow-listed key names a
// secret or a person ("password", "name") is left out whatever its value.
func TestSensitivePropertyKey(t *testing.T) {
	en := newTestEngine(t, "properties:\n  allow: [plan, password, first_name]\nconsent:\n  purposes: [analytics, ads]\n")
	e := plantedEvent("analytics")
	e.Props = e.Props[:0]
	e.AddProp([]byte("plan"), []byte("pro"), 0)
	e.AddProp([]byte("password"), []byte("hunter2"), 0)
	e.AddProp([]byte("first_name"), []byte("Jane"), 0)
	m, out, _ := record(t, en, e)
	if strings.Contains(out, "hunter2") || strings.Contains(out, "Jane") {
		t.Fatalf("sensitive property values reached the record:\n%s", out)
	}
	if p, _ := m["props"].(map[string]any); p["plan"] != "pro" {
		t.Fatalf("props %v; want plan kept", m["props"])
	}
}

// TestPageURLRoutes (issue 18 item 1): a site's routes and origins shape
// its page URLs in records; the referrer is not held to them.
func TestPageURLRoutes(t *testing.T) {
	en := newTestEngine(t, "sites:\n  - id: shop\n    origins: [https://shop.example]\n    routes: [\"/products/{sku}\", \"/user/{id}/orders\"]\nconsent:\n  purposes: [analytics, ads]\n")
	f := func(explicit, url, want string) {
		t.Helper()
		e := plantedEvent(explicit)
		e.Site = []byte("shop")
		e.URL = []byte(url)
		m, out, _ := record(t, en, e)
		if got, _ := m["url"].(string); got != want {
			t.Fatalf("%q (consent %q): url %q; want %q\n%s", url, explicit, got, want, out)
		}
	}
	f("analytics", "https://jane-doe.shop.example/user/jane-doe/orders?page=2", "https://shop.example/user/{id}/orders?page=2")
	f("analytics", "https://shop.example/products/555-1234", "https://shop.example/products/555-1234")
	f("analytics", "https://other.example/products/x", "")
	f("", "https://shop.example/c/Jane_Doe/shoes", "https://shop.example/c/{id}/shoes")
}
