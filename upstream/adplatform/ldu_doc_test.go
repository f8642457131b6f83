package adplatform_test

import (
	"os"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/config"
)

// TestReadmeLimitedDataUse: the README's ad platform table said Meta gets
// data_processing_options ["LDU"] (and TikTok limited_data_use) "when a US
// Privacy / GPP / GPC opt-out decided", but the sinks set them only for an
// event whose ads purpose is not granted (TestLimitedDataUse), and no such
// event is routed to an ad platform destination: config check refuses one
// whose requires leaves out ads (pinned here for each type), and routing
// needs every purpose of requires. The row now says they are sent only
// for such an event, which the routing never sends there.
func TestReadmeLimitedDataUse(t *testing.T) {
	for _, typ := range []string{"meta_capi", "tiktok", "ga4"} {
		yaml := "consent: {purposes: [analytics, ads]}\ndestinations:\n  - name: x\n    type: " + typ + "\n    requires: [analytics]\n"
		_, err := config.Parse("c.yaml", []byte(yaml))
		if err == nil || !strings.Contains(err.Error(), "requires: must list ads") {
			t.Errorf("%s destination with requires: [analytics]: %v; want it refused (requires must list ads)", typ, err)
		}
	}
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Retargeting connectors\n")
	if !ok {
		t.Fatal("README has no Retargeting connectors section")
	}
	var row string
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "| consent |") {
			row = line
			break
		}
	}
	for _, want := range []string{`"LDU"`, "`limited_data_use: true`", "`ads` is not granted", "never"} {
		if !strings.Contains(row, want) {
			t.Errorf("the README's consent row %q lacks %q: it must say LDU and limited_data_use go only with events without ads, which the routing never sends there", row, want)
		}
	}
}
