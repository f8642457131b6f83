package config

import (
	"strings"
	"testing"
)

func TestPrivacyValidation(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"privacy:\n  retention:\n    nosuch: 30d\n", "privacy.retention.nosuch: names no file destination"},
		{"privacy:\n  retention:\n    local: 1m\n", "privacy.retention.local: 1m is out of range"},
		{"privacy:\n  dead_letter_retention: 1s\n", "privacy.dead_letter_retention: 1s is out of range"},
		{"privacy:\n  quarantine_retention: 1m\n", "privacy.quarantine_retention: 1m is out of range"},
		{"privacy:\n  key_store: true\n", "privacy.key_store: needs pseudonym.mode: derived"},
		{"privacy:\n  key_retention: 30d\n", "privacy.key_retention: needs key_store: true"},
		{"privacy:\n  recipients:\n    nosuch: {role: processor}\n", "privacy.recipients.nosuch: names no destination"},
		{"privacy:\n  recipients:\n    local: {role: boss}\n", "privacy.recipients.local.role: is not a role"},
		{"privacy:\n  legal_basis:\n    ads: consent\n", "privacy.legal_basis.ads: is not a purpose in consent.purposes"},
	} {
		_, err := Parse("t.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.yaml, err, tc.want)
		}
	}
	c, err := Parse("t.yaml", []byte("privacy:\n  retention:\n    local: 395d\n  dead_letter_retention: 7d\n  quarantine_retention: 30d\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Privacy.Retention["local"].D().Hours() != 395*24 || !c.Privacy.AuditLog || c.Privacy.QuarantineRetention.D().Hours() != 30*24 {
		t.Errorf("parsed %+v", c.Privacy)
	}
}

// TestPrivacyMapKeysSuggest: a key of privacy.retention, recipients or
// legal_basis names a destination or a purpose; a mistyped one was refused
// without naming those there are, while every other unknown key gets a
// suggestion. It now lists them and suggests the closest.
func TestPrivacyMapKeysSuggest(t *testing.T) {
	dests := "destinations:\n  - {name: local, type: file}\n  - {name: warehouse, type: http, http: {url: \"https://w.example/in\"}}\n"
	for _, tc := range []struct{ yaml, want string }{
		{dests + "privacy:\n  retention:\n    locl: 30d\n",
			`privacy.retention.locl: names no file destination (local); did you mean "local"?`},
		{dests + "privacy:\n  retention:\n    warehouse: 30d\n",
			`privacy.retention.warehouse: names no file destination (local); warehouse is type http, whose output the gateway does not keep`},
		{dests + "privacy:\n  recipients:\n    warehose: {role: processor}\n",
			`privacy.recipients.warehose: names no destination (local, warehouse); did you mean "warehouse"?`},
		{"consent: {purposes: [analytics, ads]}\nprivacy:\n  legal_basis:\n    analytcs: consent\n",
			`privacy.legal_basis.analytcs: is not a purpose in consent.purposes (analytics, ads); did you mean "analytics"?`},
	} {
		_, err := Parse("t.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\ngot  %v\nwant %q", tc.yaml, err, tc.want)
		}
	}
}
