package ropa

import (
	"strings"
	"testing"
)

// TestReportToComplete: every item the config leaves open is listed with
// the key that fills it; once all are set the list says so, and the
// controller's statements appear in the report (escaped in HTML).
func TestReportToComplete(t *testing.T) {
	_, _, text := render(t, build(t, parse(t, "")))
	for _, want := range []string{"To complete", "Controller: set privacy.controller.name.", "Data protection officer: set privacy.controller.dpo.",
		"Legal basis for analytics: set privacy.legal_basis.analytics.", "Role of the recipient of local: set privacy.recipients.local.role",
		"Country of the recipient of local: set privacy.recipients.local.country.", "Retention of local: set privacy.retention.local"} {
		if !strings.Contains(text, want) {
			t.Errorf("default report lacks %q", want)
		}
	}
	full := parse(t, `
privacy:
  retention: {local: 395d}
  controller:
    name: "Shop <GmbH> & Co"
    address: Hauptstr. 1, 10115 Berlin
    contact: privacy@shop.example
    dpo: Dr. A. Officer, dpo@shop.example
    representative: not applicable (established in the Union)
  legal_basis:
    analytics: consent, Art. 6(1)(a) GDPR
  recipients:
    local: {role: processor, country: DE, transfer: none (EEA)}
`)
	_, html, text := render(t, build(t, full))
	for _, want := range []string{"Controller: Shop <GmbH> & Co", "Legal basis for analytics: consent, Art. 6(1)(a) GDPR",
		"Recipient of local: processor; country DE; transfer mechanism none (EEA)", "Nothing: every item of the record is stated"} {
		if !strings.Contains(text, want) {
			t.Errorf("full report lacks %q", want)
		}
	}
	if strings.Contains(html, "<GmbH>") {
		t.Error("the controller's name is not escaped in HTML")
	}
}

// TestReportToCompleteTransfer: a recipient outside the EEA without a
// transfer mechanism leaves an item of Art. 30(1)(e) open: the report must
// list it, not say every item is stated. One inside the EEA needs none.
func TestReportToCompleteTransfer(t *testing.T) {
	const base = `
privacy:
  retention: {local: 395d}
  controller: {name: Shop, address: Berlin, contact: privacy@shop.example, dpo: A. Officer, representative: none}
  legal_basis: {analytics: consent}
  recipients:
`
	_, _, text := render(t, build(t, parse(t, base+"    local: {role: processor, country: US}\n")))
	if want := "Transfer mechanism of the recipient of local (country US): set privacy.recipients.local.transfer"; !strings.Contains(text, want) {
		t.Errorf("report lacks %q", want)
	}
	if strings.Contains(text, "every item of the record is stated") {
		t.Error("report says every item is stated while the transfer to the US is not")
	}
	_, _, text = render(t, build(t, parse(t, base+"    local: {role: processor, country: de}\n")))
	if strings.Contains(text, "Transfer mechanism of the recipient") || !strings.Contains(text, "every item of the record is stated") {
		t.Error("a recipient in the EEA is asked for a transfer mechanism")
	}
}
