package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/upstream/adplatform/contract"
)

// TestE2EAdPlatforms: the real binary, configured with the three ad
// platform destinations pointed at their contract servers (TLS, trusted
// through SSL_CERT_FILE), takes pixels carrying the page's eid: each
// platform gets every ads-consented event once, with the same event id the
// browser pixel had (so the platform can de-duplicate the two), in requests
// its contract accepts; events without ads consent reach none of them.
// Meta first answers 429 with Retry-After: 1 (waited out), then refuses
// one event, as TikTok does: those two land in the dead letters alone.
func TestE2EAdPlatforms(t *testing.T) {
	dir := t.TempDir()
	const tok = "e2e-token-0123456789"
	meta := contract.New(t, contract.Meta, "1234567890", tok)
	ga := contract.New(t, contract.GA4, "G-E2ETEST1", tok)
	tt := contract.New(t, contract.TikTok, "C4E2ETEST", tok)
	certs, tokFile := writeContractFiles(t, dir, tok, meta, ga, tt)
	retry := `, timeout: 5s, retry: {initial_backoff: 20ms, max_backoff: 300ms}}`
	cfg := writeE2EConfig(t, dir, "ads.yaml", `consent:
  purposes: [analytics, ads]
sites:
  - id: shop
    origins: [https://shop.example]
properties:
  allow: [cart_value]
policies:
  ads:
    user_agent: {action: keep}
destinations:
  - name: warehouse
    type: file
    batch: {max_age: 50ms}
  - name: meta
    type: meta_capi
    requires: [ads]
    tcf: {without_vendor: true}
    batch: {max_age: 50ms}
    meta_capi: {pixel_id: "1234567890", access_token_file: `+tokFile+`, test_event_code: TEST42, endpoint: "`+meta.URL()+`"`+retry+`
  - name: ga
    type: ga4
    requires: [ads]
    tcf: {without_vendor: true}
    batch: {max_age: 50ms}
    ga4: {measurement_id: G-E2ETEST1, api_secret_file: `+tokFile+`, test_mode: true, endpoint: "`+ga.URL()+`"`+retry+`
  - name: tt
    type: tiktok
    requires: [ads]
    tcf: {without_vendor: true}
    batch: {max_age: 50ms}
    tiktok: {event_source_id: C4E2ETEST, access_token_file: `+tokFile+`, endpoint: "`+tt.URL()+`"`+retry+`
`)
	if code, out, errOut := runCLI(t, "config", "check", cfg); code != 0 {
		t.Fatalf("config check: exit %d\n%s%s", code, out, errOut)
	}
	meta.Script(contract.Answer{Status: 429, RetryAfter: "1", Body: `{"error":{"message":"rate","code":17}}`})
	meta.RejectEvents("pixelEid0007")
	tt.RejectEvents("pixelEid0011")
	p := startGatewayVia(t, []string{"env", "SSL_CERT_FILE=" + certs}, filepath.Join(dir, "data"), cfg)
	const n = 40
	ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
	get := func(q string) { getPixel(t, p.url("/p.gif?"+q), "User-Agent", ua) }
	want := map[string]bool{}
	// Meta's 429 can come as soon as the first batch leaves, about 50 ms
	// after the first pixel: the Retry-After wait is measured from before
	// it, so a slow machine sending the 41 pixels cannot hide it.
	t0 := time.Now()
	for i := range n {
		eid := fmt.Sprintf("pixelEid%04d", i)
		want[eid] = true
		get(fmt.Sprintf("site=shop&event=Purchase&url=%s&eid=%s&cid=client-%d&consent=analytics,ads&props=%s",
			"https%3A%2F%2Fshop.example%2Fcheckout", eid, i%4, `%7B%22cart_value%22%3A12.5%7D`))
	}
	// No ads consent: the warehouse gets it, no ad platform does.
	get("site=shop&event=Purchase&url=https%3A%2F%2Fshop.example%2Fx&eid=noAdsEid0001&cid=c9&consent=analytics")

	deadline := time.Now().Add(20 * time.Second)
	for meta.Stats().Events < n-1 || ga.Stats().Events < n || tt.Stats().Events < n-1 {
		if time.Now().After(deadline) {
			t.Fatalf("delivered: meta %+v, ga4 %+v, tiktok %+v\n%s", meta.Stats(), ga.Stats(), tt.Stats(), p.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if waited := time.Since(t0); waited < time.Second {
		t.Errorf("meta delivered after %v: its Retry-After: 1 was not honoured", waited)
	}
	time.Sleep(200 * time.Millisecond) // a late duplicate or the refused event would show now
	for _, s := range []*contract.Server{meta, ga, tt} {
		st, wantN := s.Stats(), n-1
		if s == ga {
			wantN = n
		}
		if st.Events != wantN || len(st.Refused) > 0 {
			t.Errorf("%s: %d events (want %d), refused %q", s.Platform, st.Events, wantN, st.Refused)
		}
		if s == ga {
			continue // GA4 events carry no event id
		}
		got := map[string]int{}
		for _, e := range s.Events() {
			got[e.ID]++
			if !want[e.ID] || got[e.ID] > 1 {
				t.Errorf("%s: event id %q unexpected or twice", s.Platform, e.ID)
			}
			if !strings.Contains(string(e.Raw), `"https://shop.example/checkout"`) {
				t.Errorf("%s: event %s lacks the page URL", s.Platform, e.Raw)
			}
		}
	}
	if st := meta.Stats(); st.Test["TEST42"] != n-1 {
		t.Errorf("meta test events %v", st.Test)
	}
	if st := ga.Stats(); st.Test["debug"] != n {
		t.Errorf("ga4: %d events to the validation server, want %d", st.Test["debug"], n)
	}
	for _, c := range []struct{ dest, platform string }{{"meta", "meta"}, {"tt", "tiktok"}} {
		m := `beacongate_upstream_platform_event_errors_total{destination="` + c.dest + `",platform="` + c.platform + `",reason="invalid_event"}`
		dl := `beacongate_upstream_dead_letter_records_total{destination="` + c.dest + `"}`
		if metricValue(t, p, m) != 1 || metricValue(t, p, dl) != 1 {
			t.Errorf("%s: %s = %v, %s = %v; want 1 and 1", c.dest, m, metricValue(t, p, m), dl, metricValue(t, p, dl))
		}
	}
	if env := ga.Envelopes(); len(env) == 0 || !strings.Contains(env[0], `"ad_user_data":"GRANTED"`) {
		t.Errorf("ga4 envelopes %q", env)
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, c := range []struct{ dest, eid string }{{"meta", "pixelEid0007"}, {"tt", "pixelEid0011"}} {
		code, out, errOut := runCLI(t, "deadletter", "list", "-config", cfg, "-data", filepath.Join(dir, "data"), c.dest)
		if code != 0 || !strings.Contains(out, "-rejected.ndjson") || !strings.Contains(out, "invalid_event=1") {
			t.Errorf("deadletter list %s: exit %d\n%s%s", c.dest, code, out, errOut)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "data", "deadletter", c.dest, "*-rejected.ndjson"))
		if len(files) != 1 {
			t.Fatalf("%s: dead letters %v", c.dest, files)
		}
		if b, _ := os.ReadFile(files[0]); strings.Count(string(b), "\n") != 1 || !strings.Contains(string(b), `"eid":"`+c.eid+`"`) {
			t.Errorf("%s: dead letter holds %s; want the record of %s alone", c.dest, b, c.eid)
		}
	}
}

// writeContractFiles writes, under dir, the one certificate bundle the
// child trusts (the contract servers' certificates) and the token file,
// and returns their paths.
func writeContractFiles(t *testing.T, dir, tok string, servers ...*contract.Server) (certs, tokFile string) {
	t.Helper()
	var bundle []byte
	for _, s := range servers {
		b, err := os.ReadFile(s.CertFile(t, dir))
		if err != nil {
			t.Fatal(err)
		}
		bundle = append(bundle, b...)
	}
	certs, tokFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "token")
	for path, b := range map[string][]byte{certs: bundle, tokFile: []byte(tok + "\n")} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certs, tokFile
}
