package plan

import (
	"strings"
	"testing"
)

// TestNamesCoverEveryValue: every enum value has a name, and a value out of
// range is named as such, never a panic.
func TestNamesCoverEveryValue(t *testing.T) {
	check := func(n int, names []string, str func(uint8) string) {
		t.Helper()
		if len(names) != n {
			t.Errorf("%d names for %d values", len(names), n)
		}
		for v := range n {
			if str(uint8(v)) != names[v] {
				t.Errorf("value %d: %q", v, str(uint8(v)))
			}
		}
		if !strings.HasPrefix(str(uint8(n)), "unknown(") {
			t.Errorf("value %d out of range: %q", n, str(uint8(n)))
		}
	}
	check(int(numIPActions), ipActionNames[:], func(v uint8) string { return IPAction(v).String() })
	check(int(numGeoLevels), geoLevelNames[:], func(v uint8) string { return GeoLevel(v).String() })
	check(int(numUAActions), uaActionNames[:], func(v uint8) string { return UAAction(v).String() })
	check(int(numBotActions), botActionNames[:], func(v uint8) string { return BotAction(v).String() })
	check(int(numIDActions), idActionNames[:], func(v uint8) string { return IDAction(v).String() })
	check(int(numURLActions), urlActionNames[:], func(v uint8) string { return URLAction(v).String() })
	check(int(numReferrerActions), referrerActionNames[:], func(v uint8) string { return ReferrerAction(v).String() })
	check(int(numLanguageActions), languageActionNames[:], func(v uint8) string { return LanguageAction(v).String() })
	check(int(numPropertiesActions), propertiesActionNames[:], func(v uint8) string { return PropertiesAction(v).String() })
	check(int(numContactActions), contactActionNames[:], func(v uint8) string { return ContactAction(v).String() })
	check(int(numClickIDActions), clickIDActionNames[:], func(v uint8) string { return ClickIDAction(v).String() })
	check(int(numPlatforms), platformNames[:], func(v uint8) string { return Platform(v).String() })
}

// TestValidateNamesTheField: a policy with values out of range is refused
// with the field named.
func TestValidateNamesTheField(t *testing.T) {
	p := Plan{}
	p.Policies[StateAds].URL = URLAction(9)
	p.Policies[StateNone].V6Prefix = 129
	p.Destinations = []Destination{{Name: "a"}, {Name: "a"}, {}}
	err := p.Validate()
	if err == nil {
		t.Fatal("valid")
	}
	for _, want := range []string{"policies.ads: url: unknown action 9", "policies.none: ip.v6_prefix: 129", `destinations[1]: name "a" used twice`, "destinations[2]: no name"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
