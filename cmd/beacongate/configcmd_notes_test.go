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
	// (Both still get the note that, without tcf.vendor_id, they get no
	// event where GDPR applies.)
	if notes := check(""); strings.Contains(notes, "policy") {
		t.Errorf("notes for the default ads policy, which keeps what both need:\n%s", notes)
	}
}

// TestConfigCheckNotesDestinationWithoutTCF: a destination with neither
// tcf.vendor_id nor tcf.without_vendor gets no event where GDPR applies
// (gdpr=1 or a TC string). The gateway warns of it at every start, but
// config check, which an operator runs before a deploy or in CI, said
// only "ok": a config whose every destination is so loses each EU
// visitor's events. It now notes each such destination by index and
// name, with the key to set, and nothing for one that has either.
func TestConfigCheckNotesDestinationWithoutTCF(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfg, []byte(`consent: {purposes: [analytics, ads]}
destinations:
  - {name: own, type: file, tcf: {without_vendor: true}}
  - {name: lake, type: file}
  - {name: partner, type: file, requires: [ads], tcf: {vendor_id: 755, purposes: [1, 3, 4]}}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := runConfig([]string{"check", cfg}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "ok: ") {
		t.Fatalf("config check: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	notes := errOut.String()
	for _, want := range []string{"note: " + cfg + ": destinations[1] (lake) has no tcf.vendor_id and no tcf.without_vendor",
		"it gets no event where GDPR applies", "tcf.without_vendor: true"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if strings.Count(notes, "note: ") != 1 || strings.Contains(notes, "(own)") || strings.Contains(notes, "(partner)") {
		t.Errorf("notes name a destination that has tcf.without_vendor or tcf.vendor_id:\n%s", notes)
	}
}

// TestConfigCheckNotesUnrecordedProperties: properties.allow naming a
// property the engine never records (a click id, contact data, a name that
// says secret or person, such as user_id) is valid, but the operator who
// listed it expects it in the records: config check names each in a note
// with the reason, and says nothing of a property that is recorded.
func TestConfigCheckNotesUnrecordedProperties(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte("properties: {allow: [plan, msclkid, em, user_id]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := runConfig([]string{"check", cfg}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "ok: ") {
		t.Fatalf("config check: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{
		"note: " + cfg + ": properties.allow: msclkid is never recorded as a property: a click id\n",
		"note: " + cfg + ": properties.allow: em is never recorded as a property: contact data",
		"note: " + cfg + ": properties.allow: user_id is never recorded as a property: its name says secret or person\n",
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("notes lack %q:\n%s", want, errOut.String())
		}
	}
	if strings.Contains(errOut.String(), " plan ") {
		t.Errorf("a note names plan, which is recorded:\n%s", errOut.String())
	}
}

// TestConfigCheckNotesAnEmptyFile: a file without settings (empty, or
// comments only) starts the gateway on the built-in defaults, but a reload
// refuses it (a file caught half-written must not replace the running
// config): config check says ok, and a note says both.
func TestConfigCheckNotesAnEmptyFile(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"empty": "", "comments": "# nothing yet\n# server: {}\n"} {
		cfg := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		if code := runConfig([]string{"check", cfg}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "ok: ") {
			t.Fatalf("%s: config check: exit %d\n%s%s", name, code, out.String(), errOut.String())
		}
		want := "note: " + cfg + ": the file holds no settings: the gateway starts on the built-in defaults, and a reload refuses it"
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("%s: notes lack %q:\n%s", name, want, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	cfg := filepath.Join(dir, "set.yaml")
	if err := os.WriteFile(cfg, []byte("server: {listen: \"127.0.0.1:38181\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := runConfig([]string{"check", cfg}, &out, &errOut); code != 0 || strings.Contains(errOut.String(), "no settings") {
		t.Errorf("a file with a setting: exit %d, notes:\n%s", code, errOut.String())
	}
}

// TestConfigCheckNotesAdPlatformWithoutAnalytics: with analytics not in
// consent.purposes, the ads policy (analytics and ads granted) never
// applies, and an ad platform gets every event under its none policy,
// which by default keeps no user agent: Meta's sink would dead-letter each
// one. config check read the ads policy alone and said nothing; it now
// reads the none policy there, names it and says why.
func TestConfigCheckNotesAdPlatformWithoutAnalytics(t *testing.T) {
	dir := t.TempDir()
	tok, cfg := filepath.Join(dir, "token"), filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(tok, []byte("t0k3n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	check := func(purposes, none string) string {
		t.Helper()
		src := "consent: {purposes: " + purposes + "}\ndestinations:\n  - name: meta\n    type: meta_capi\n    requires: [ads]\n" +
			"    tcf: {without_vendor: true}\n    meta_capi: {pixel_id: \"1234567890\", access_token_file: " + tok + "}\n" +
			"    policies: {ads: {user_agent: {action: keep}, contact: hash}" + none + "}\n"
		if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		if code := runConfig([]string{"check", cfg}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "ok: ") {
			t.Fatalf("config check: exit %d\n%s%s", code, out.String(), errOut.String())
		}
		return errOut.String()
	}
	notes := check("[ads]", "")
	for _, want := range []string{
		"note: ", "destinations[0] (meta) (consent.purposes lacks analytics, so its ads policy", "under its none policy",
		"its none policy does not keep the user agent", "set policies.none.user_agent: {action: keep}",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("purposes [ads]: notes lack %q:\n%s", want, notes)
		}
	}
	if notes := check("[ads]", ", none: {user_agent: {action: keep}}"); notes != "" {
		t.Errorf("purposes [ads], none policy keeps the user agent: notes\n%s", notes)
	}
	if notes := check("[analytics, ads]", ""); notes != "" {
		t.Errorf("purposes [analytics, ads]: notes\n%s", notes)
	}
}

// TestConfigCheckNotesCredentialsInClearText: an http destination with a
// bearer_token_file, or an ad platform whose endpoint is http://, sends
// its token over plain HTTP to any host that is not loopback; config
// check said only "ok" (a kafka destination's sasl plain without tls is
// refused for the same reason). It now notes each such destination with
// the key to change, and nothing for https:// or a loopback host.
func TestConfigCheckNotesCredentialsInClearText(t *testing.T) {
	dir := t.TempDir()
	tok, cfg := filepath.Join(dir, "token"), filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(tok, []byte("t0k3n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	check := func(collector, meta string) string {
		t.Helper()
		src := "consent: {purposes: [analytics, ads]}\ndestinations:\n" +
			"  - {name: wh, type: http, tcf: {without_vendor: true}, http: {url: \"" + collector + "\", bearer_token_file: " + tok + "}}\n" +
			"  - name: meta\n    type: meta_capi\n    requires: [ads]\n    tcf: {without_vendor: true}\n" +
			"    meta_capi: {pixel_id: \"1234567890\", access_token_file: " + tok + ", endpoint: \"" + meta + "\"}\n"
		if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		if code := runConfig([]string{"check", cfg}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "ok: ") {
			t.Fatalf("config check: exit %d\n%s%s", code, out.String(), errOut.String())
		}
		return errOut.String()
	}
	notes := check("http://collector.example/in", "http://graph.example")
	for _, want := range []string{
		"note: ", "destinations[0] (wh): http.url is http://, so the token of http.bearer_token_file crosses the network in clear text",
		"destinations[1] (meta): meta_capi.endpoint is http://, so the token of meta_capi.access_token_file crosses the network in clear text",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	for _, urls := range [][2]string{{"https://collector.example/in", "https://graph.example"}, {"http://127.0.0.1:8080/in", "http://localhost:9999"}} {
		if notes := check(urls[0], urls[1]); strings.Contains(notes, "clear text") {
			t.Errorf("%v: notes\n%s", urls, notes)
		}
	}
}

// TestConfigCheckNotesProxiesTrustingEveryAddress: server.trusted_proxies
// with 0.0.0.0/0 or ::/0 (written to make a balancer's address "just
// work") trusts every peer, so any client names its own address in the
// forwarding header: the records' ip and geo, the visitor hash and the
// per-client limit then follow what the client wrote. config check said
// "ok" and nothing else; it now notes it (a note: behind some cloud
// balancers the operator cannot list their addresses).
func TestConfigCheckNotesProxiesTrustingEveryAddress(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	check := func(proxies string) string {
		t.Helper()
		if err := os.WriteFile(cfg, []byte("server: {trusted_proxies: "+proxies+"}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		if code := runConfig([]string{"check", cfg}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "ok: ") {
			t.Fatalf("config check: exit %d\n%s%s", code, out.String(), errOut.String())
		}
		return errOut.String()
	}
	notes := check(`["10.0.0.0/8", "0.0.0.0/0", "::/0"]`)
	for _, want := range []string{
		"note: ", "server.trusted_proxies[1] (0.0.0.0/0) trusts every IPv4 address",
		"server.trusted_proxies[2] (::/0) trusts every IPv6 address", "X-Forwarded-For",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if notes := check(`["10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32"]`); strings.Contains(notes, "trusted_proxies") {
		t.Errorf("proxies listed by their networks: notes\n%s", notes)
	}
}

// TestConfigCheckNotesKeysWithoutEffect: config check prints the notes of
// keys set where they have no effect (config.Config.Notes), naming the
// key; and the default config, which spells out every key, checks with no
// note at all.
func TestConfigCheckNotesKeysWithoutEffect(t *testing.T) {
	pinFileLimit(t, 1024)
	dir := t.TempDir()
	check := func(name string, src []byte) string {
		t.Helper()
		cfg := filepath.Join(dir, name)
		if err := os.WriteFile(cfg, src, 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		if code := runConfig([]string{"check", cfg}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "ok: ") {
			t.Fatalf("config check: exit %d\n%s%s", code, out.String(), errOut.String())
		}
		return errOut.String()
	}
	notes := check("c.yaml", []byte("geoip: {lookup_from: truncated}\nble: {k: 10}\n"))
	for _, want := range []string{
		"note: " + filepath.Join(dir, "c.yaml") + ": geoip.lookup_from: truncated has no effect without geoip.database",
		"note: " + filepath.Join(dir, "c.yaml") + ": ble.k: 10 has no effect with ble.output: sightings",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	var def, errOut bytes.Buffer
	if code := runConfig([]string{"default"}, &def, &errOut); code != 0 {
		t.Fatalf("config default: exit %d: %s", code, errOut.String())
	}
	if notes := check("default.yaml", def.Bytes()); notes != "" {
		t.Errorf("config default checks with notes:\n%s", notes)
	}
}
