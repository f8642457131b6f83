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
