package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigCheckNotesWhatAnAdPlatformCannotTake: a config is valid (exit
// 0) but an ad platform destination's policy leaves out what the platform
// needs for every website event (Meta: the user agent as sent and the page
// URL; GA4: a client id), so its sink would dead-letter each one unsent:
// config check says so in a note naming the destination and the key to
// set, and says nothing for policies that keep them.
func TestConfigCheckNotesWhatAnAdPlatformCannotTake(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	if err := os.WriteFile(tok, []byte("t0k3n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	check := func(policies string) string {
		t.Helper()
		cfg := filepath.Join(dir, "c.yaml")
		src := `consent: {purposes: [analytics, ads]}
destinations:
  - name: meta
    type: meta_capi
    requires: [ads]
    meta_capi: {pixel_id: "1234567890", access_token_file: ` + tok + `}
    policies: {ads: {user_agent: {action: ` + policies + `}}}
  - name: ga
    type: ga4
    requires: [ads]
    ga4: {measurement_id: G-NOTES1, api_secret_file: ` + tok + `}
    policies: {ads: {client_id: drop}}
`
		if policies == "" {
			src = strings.ReplaceAll(src, "    policies: {ads: {user_agent: {action: }}}\n", "")
			src = strings.ReplaceAll(src, "    policies: {ads: {client_id: drop}}\n", "")
		}
		if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		if code := runConfig([]string{"check", cfg}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "ok: ") {
			t.Fatalf("config check: exit %d\n%s%s", code, out.String(), errOut.String())
		}
		return errOut.String()
	}
	notes := check("reduce")
	for _, want := range []string{
		"note: ", "destinations[0] (meta): its ads policy does not keep the user agent", "set policies.ads.user_agent: {action: keep}",
		"destinations[1] (ga): its ads policy drops the client id and the click ids", "set policies.ads.client_id: pseudonymize or click_ids: keep",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if notes := check(""); strings.Contains(notes, "note:") {
		t.Errorf("notes for the default ads policy, which keeps what both need:\n%s", notes)
	}
}
