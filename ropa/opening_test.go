package ropa

import (
	"strings"
	"testing"
)

// opening returns the report's introduction: the text between the title
// and the first mention of the controller section (the table of contents,
// or the section itself).
func opening(t *testing.T, r *Report) string {
	t.Helper()
	_, _, text := render(t, r)
	start := strings.Index(text, "Record of processing activities: beacongate")
	end := strings.Index(text, "Controller, legal bases and recipients")
	if start < 0 || end < start {
		t.Fatalf("cannot find the opening in %.300q", text)
	}
	return text[start:end]
}

// TestReportOpeningWithoutController: with nothing stated in privacy, the
// opening says the controller's details are still missing and where to
// state them.
func TestReportOpeningWithoutController(t *testing.T) {
	o := opening(t, build(t, parse(t, "")))
	for _, want := range []string{"are not stated in the configuration yet", "privacy.controller", "To complete"} {
		if !strings.Contains(o, want) {
			t.Errorf("opening lacks %q:\n%s", want, o)
		}
	}
}

// TestReportOpeningWithController: once privacy states everything, the
// opening no longer claims anything must be added, and says where the
// controller's statements are; with part of it stated, it says how many
// items are left.
func TestReportOpeningWithController(t *testing.T) {
	full := build(t, parse(t, `
privacy:
  retention: {local: 395d}
  controller: {name: Shop GmbH, address: "Hauptstr. 1, Berlin", contact: privacy@shop.example, dpo: dpo@shop.example, representative: none (established in the Union)}
  legal_basis: {analytics: "consent, Art. 6(1)(a) GDPR"}
  recipients:
    local: {role: processor, country: DE}
`))
	o := opening(t, full)
	if strings.Contains(o, "must be added") || strings.Contains(o, "not stated") {
		t.Errorf("opening still asks for the controller's details though privacy states them:\n%s", o)
	}
	for _, want := range []string{"Shop GmbH", "are stated in the configuration", "privacy"} {
		if !strings.Contains(o, want) {
			t.Errorf("opening lacks %q:\n%s", want, o)
		}
	}

	part := build(t, parse(t, `
privacy:
  controller: {name: Shop GmbH}
`))
	o = opening(t, part)
	if strings.Contains(o, "must be added by the controller") {
		t.Errorf("opening says everything is missing though the controller is named:\n%s", o)
	}
	for _, want := range []string{"Shop GmbH", "items are not stated in the configuration yet", "To complete"} {
		if !strings.Contains(o, want) {
			t.Errorf("partial opening lacks %q:\n%s", want, o)
		}
	}
}
