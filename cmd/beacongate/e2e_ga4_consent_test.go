package main

import (
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize/consent/tctest"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/upstream/adplatform/contract"
)

// TestE2EGA4AdPersonalization: the real binary with a GA4 destination
// (ads mapped to TCF purposes 1, 2 and 7, ads granted without a signal)
// sends each pixel's consent to the GA4 contract server:
// ad_personalization GRANTED when the signals allow personalised ads (ads
// in the consent field, Consent Mode ad_personalization granted, a TC
// string, alone or in GPP, consenting to purposes 3 and 4), DENIED when
// ads comes from the default or the TC string leaves out 3 and 4, whatever
// our personalization purpose (content personalisation) is.
func TestE2EGA4AdPersonalization(t *testing.T) {
	dir := t.TempDir()
	const tok = "e2e-token-0123456789"
	ga := contract.New(t, contract.GA4, "G-E2ETEST1", tok)
	ga.SetNow(clocktest.Golden)
	certs, tokFile := writeContractFiles(t, dir, tok, ga)
	cfg := writeE2EConfig(t, dir, "ga4.yaml", `consent:
  purposes: [analytics, ads, personalization, device_storage]
  default: [analytics, ads]
  tcf:
    mapping:
      ads: {purposes: [1, 2, 7]}
sites:
  - id: shop
    origins: [https://shop.example]
destinations:
  - name: ga
    type: ga4
    requires: [ads]
    tcf: {without_vendor: true}
    batch: {max_age: 20ms}
    ga4: {measurement_id: G-E2ETEST1, api_secret_file: `+tokFile+`, test_mode: true, endpoint: "`+ga.URL()+`", timeout: 5s, retry: {initial_backoff: 20ms, max_backoff: 300ms}}
`)
	tc := tctest.Valid(clocktest.Golden.Add(-time.Hour)) // purposes 1-10
	all := tc.Encode()
	tc.PurposesConsent = []int{1, 2, 5, 6, 7, 8, 9, 10}
	noAdProfile := tc.Encode()
	p := startGatewayEnv(t, []string{startEnv(clocktest.Golden), "SSL_CERT_FILE=" + certs}, nil, filepath.Join(dir, "data"), cfg)
	ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
	for i, c := range []struct {
		name, signal, want string
	}{
		{"consent mode, all granted", "gcs=G111&gcd=13r3r3r3r5", "GRANTED"},
		{"explicit ads", "consent=analytics,ads", "GRANTED"},
		{"tcf, purposes 1-10", "gdpr=1&gdpr_consent=" + all, "GRANTED"},
		{"tcf without purposes 3 and 4", "gdpr=1&gdpr_consent=" + noAdProfile, "DENIED"},
		{"gpp tcfeuv2, purposes 1-10", "gpp=" + url.QueryEscape(gppHeaderFor(2)+"~"+all) + "&gpp_sid=2", "GRANTED"},
		{"no signal, ads by default", "", "DENIED"},
	} {
		getPixel(t, p.url("/p.gif?site=shop&url=https%3A%2F%2Fshop.example%2Fcart&cid=client-"+strconv.Itoa(i)+"&"+c.signal), "User-Agent", ua)
		deadline := time.After(10 * time.Second)
		for len(ga.Envelopes()) <= i {
			select {
			case <-deadline:
				t.Fatalf("%s: not delivered: %+v\n%s", c.name, ga.Stats(), p.logText())
			case <-time.After(10 * time.Millisecond):
			}
		}
		env := ga.Envelopes()
		want := `"consent":{"ad_personalization":"` + c.want + `","ad_user_data":"GRANTED"}`
		if len(env) != i+1 || !strings.Contains(env[i], want) {
			t.Errorf("%s: envelopes %q\nwant the last with %s", c.name, env, want)
		}
	}
	if st := ga.Stats(); len(st.Refused) > 0 {
		t.Errorf("refused %q", st.Refused)
	}
}
