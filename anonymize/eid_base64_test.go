package anonymize

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestEventIDHoldingBase64EmailLeftOut: an eid may hold only A-Z a-z 0-9 -
// _, which is the base64url alphabet, so an e-mail address fits in it
// encoded: a tag that builds its event ids from the visitor's address
// ("base64url(jane@example.org)", or a JSON blob holding it, as the
// pixel's eid) put the address, readable by anyone, in every record under
// analytics and ads (found by planting it through the real binary: the
// same string as a property became "[email]", as the eid it reached every
// destination whole). Such an id is left out, the kind counted as
// scrubbed, wherever the encoding starts in it; random ids (bg.js's 22
// characters) and base64url ids of other text stay.
func TestEventIDHoldingBase64EmailLeftOut(t *testing.T) {
	en := newTestEngine(t, testConfig)
	const addr = "jane.doe@example.org"
	u := base64.RawURLEncoding.EncodeToString
	s := base64.StdEncoding.EncodeToString
	for eid, kept := range map[string]bool{
		u([]byte(addr)):                             false,
		strings.TrimRight(s([]byte(addr)), "="):     false,
		u([]byte(`{"e":"` + addr + `"}`)):           false,
		u([]byte(`{"email":"` + addr + `","n":1}`)): false,
		"ev_" + u([]byte(addr)):                     false, // after a prefix of any length
		"e-" + u([]byte(addr)):                      false,
		"x" + u([]byte(addr)):                       false,
		"evt-" + u([]byte(addr)) + "-17":            false,
		"Qm9vbXNoYWthbGFrYTEyMw":                    true, // bg.js's 22 characters
		u([]byte("order 2024-118842 ok")):           true,
		u([]byte("jane.doe at example")):            true,
		u([]byte("@handle and more")):               true,
	} {
		e := plantedEvent("analytics")
		e.EventID = append(e.EventID[:0], eid...)
		m, out, _ := record(t, en, e)
		if got := m["eid"] == eid; got != kept {
			t.Errorf("eid %q: kept %v; want %v\n%s", eid, got, kept, out)
		}
		if !kept && strings.Contains(out, eid) {
			t.Errorf("eid %q reaches the record elsewhere:\n%s", eid, out)
		}
	}
}
