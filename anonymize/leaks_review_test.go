package anonymize

import (
	"strings"
	"testing"
)

// TestPlantedFormFieldsLocationAndObfuscationNeverReachARecord plants, in
// the page URL, the referrer and property values and keys (user.password), what the
// scanner missed until 2026-12-06: a GET form's nested field names
// (user[password], checkout[email]), a store locator's coordinates
// (lat/lng), contact fields under their usual spellings, an address with
// its at sign as an HTML character reference and a North American number
// with dots. None of it may reach the record under any consent state,
// while the page, its campaign and an ordinary property stay.
func TestPlantedFormFieldsLocationAndObfuscationNeverReachARecord(t *testing.T) {
	en := newTestEngine(t, "properties:\n  allow: [plan, note, user.password]\nconsent:\n  purposes: [analytics, ads]\n")
	for _, explicit := range []string{"", "analytics", "analytics,ads"} {
		e := plantedEvent(explicit)
		e.URL = []byte("https://shop.example/stores?user[password]=hunter2xyz&checkout%5Bemail%5D=janedoe&lat=52.520008&lng=13.404954&phone_number=5559876&utm_campaign=spring&page=2")
		e.Referrer = []byte("https://other.example/c?customer[first_name]=Zelda&given_name=Zelda")
		e.Name = []byte("contact jane.doe&#64;example.org")
		e.Props = e.Props[:0]
		e.AddProp([]byte("plan"), []byte("pro"), 0)
		e.AddProp([]byte("note"), []byte("mail jane.doe&#x40;example&#46;org or call 415.555.2671"), 0)
		e.AddProp([]byte("user.password"), []byte("hunter2xyz"), 0)
		m, out, _ := record(t, en, e)
		for _, leak := range []string{"hunter2xyz", "janedoe", "52.520008", "13.404954", "5559876", "Zelda", "jane.doe", "example.org", "415.555", "2671"} {
			if strings.Contains(out, leak) {
				t.Errorf("consent %q: %q reached the record:\n%s", explicit, leak, out)
			}
		}
		if explicit != "" {
			if u, _ := m["url"].(string); u != "https://shop.example/stores?utm_campaign=spring&page=2" {
				t.Errorf("consent %q: url %q; want the page, its campaign and page=2 kept", explicit, u)
			}
			if p, _ := m["props"].(map[string]any); p["plan"] != "pro" {
				t.Errorf("consent %q: props %v; want plan kept", explicit, m["props"])
			}
		}
	}
}
