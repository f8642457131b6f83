package ropa

import (
	"bytes"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/config"
)

// TestReportConsentModeRowIsTheEvaluators: the record of processing said
// Consent Mode grants ads "from ad_storage unless ad_user_data or
// ad_personalization is denied", so gcs=G111 (ad_storage granted, nothing
// said of ad_user_data) would grant ads; the evaluator refuses it, since
// ads needs ad_user_data granted. The row now says what the evaluator
// does, checked here against it.
func TestReportConsentModeRowIsTheEvaluators(t *testing.T) {
	cfg, err := config.Parse("t.yaml", []byte("consent: {purposes: [analytics, ads]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := build(t, cfg).WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	row := ""
	for _, l := range strings.Split(md.String(), "\n") {
		if strings.HasPrefix(l, "| `consent_mode`") {
			row = strings.ReplaceAll(l, `\_`, "_") // Markdown escapes
		}
	}
	e, err := consent.NewEvaluator(consent.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var tc consent.TCString
	gcsOnly := e.Evaluate(&consent.Signals{GCS: []byte("G111")}, &tc)
	unset := e.Evaluate(&consent.Signals{GCD: []byte("13r3r3l3r5")}, &tc) // ad_user_data unset: denied
	if gcsOnly.Allowed(consent.Ads) || unset.Allowed(consent.Ads) {
		t.Fatal("the evaluator grants ads without ad_user_data granted")
	}
	for _, want := range []string{"ads from ad_storage and ad_user_data granted", "ad_personalization not denied", "gcs alone never grants ads"} {
		if !strings.Contains(row, want) {
			t.Errorf("the consent_mode row does not say %q:\n%s", want, row)
		}
	}
	if strings.Contains(row, "unless ad_user_data") {
		t.Errorf("the consent_mode row says ads needs ad_user_data only not denied:\n%s", row)
	}
}
