package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplainHonoursTheSuppressionList: a subject on the suppression list
// has its events dropped on arrival by the running gateway, before the
// privacy engine; explain, which "shows which destinations would receive"
// a sample, must say so rather than show records going to every
// destination. Before, explain ignored the list (it did apply the older
// ble.optout_file), so an officer checking a request by explain was told
// the suppressed subject's events still reach the warehouse.
func TestExplainHonoursTheSuppressionList(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef-explain\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeE2EConfig(t, dir, "c.yaml", "consent: {default: [analytics]}\npseudonym: {mode: derived, secret_file: "+secret+"}\n"+
		"destinations:\n  - name: warehouse\n    type: file\n    tcf: {without_vendor: true}\n    file: {dir: "+filepath.Join(dir, "out")+"}\n")
	sample := `{"site":"shop","event":"view","uid":"user-4711"}`
	o := explainJSON(t, sample, "-config", cfgPath, "-data", data)
	if len(o.Events) != 1 || len(o.Events[0].Recipients) != 1 || !o.Events[0].Recipients[0].Gets {
		t.Fatalf("before suppression: events %+v; want the warehouse to get the event", o.Events)
	}
	var out, errb bytes.Buffer
	if code := runSubject([]string{"suppress", "-config", cfgPath, "-data", data, "-site", "shop", "-id", "user-4711"}, &out, &errb); code != 0 {
		t.Fatalf("subject suppress: exit %d: %s", code, errb.String())
	}
	o = explainJSON(t, sample, "-config", cfgPath, "-data", data)
	if len(o.Events) != 1 {
		t.Fatalf("after suppression: %d events; want 1, marked suppressed", len(o.Events))
	}
	ev := o.Events[0]
	if !ev.Suppressed {
		t.Errorf("after suppression: the event is not marked suppressed")
	}
	for _, r := range ev.Recipients {
		if r.Gets || !strings.Contains(r.Why, "suppression list") {
			t.Errorf("after suppression: %s gets %v (%q); the gateway drops the subject's events on arrival", r.Destination, r.Gets, r.Why)
		}
	}
	for _, c := range ev.States {
		if len(c.Destinations) > 0 {
			t.Errorf("after suppression: state %s lists destinations %v", c.State, c.Destinations)
		}
	}
	text, _, code := explainRun(t, sample, "-config", cfgPath, "-data", data)
	if code != 0 || !strings.Contains(text, "suppression list") || strings.Contains(text, "warehouse: gets {") {
		t.Errorf("text output (exit %d) does not say the subject is suppressed:\n%s", code, text)
	}
	// Another user of the same site is not suppressed.
	o = explainJSON(t, strings.Replace(sample, "user-4711", "user-4712", 1), "-config", cfgPath, "-data", data)
	if ev := o.Events[0]; ev.Suppressed || !ev.Recipients[0].Gets {
		t.Errorf("another user: suppressed %v, recipients %+v", ev.Suppressed, ev.Recipients)
	}
}
