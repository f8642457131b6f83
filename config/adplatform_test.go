package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAdPlatformDestinations(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	if err := os.WriteFile(tok, []byte("EAAB-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Parse("t.yaml", []byte(`
consent: {purposes: [analytics, ads]}
destinations:
  - name: meta
    type: meta_capi
    requires: [ads]
    meta_capi: {pixel_id: "1234567890", access_token_file: `+tok+`, test_event_code: TEST123}
  - name: ga
    type: ga4
    requires: [analytics, ads]
    ga4: {measurement_id: G-ABC123, api_secret_file: `+tok+`, test_mode: true}
  - name: tt
    type: tiktok
    requires: [ads]
    tiktok: {event_source_id: C4ABC123DEF, offline_event_set_id: "7300000000000000002", access_token_file: `+tok+`}
  - name: stores
    type: tiktok
    requires: [ads]
    tiktok: {offline_event_set_id: "7300000000000000002", access_token_file: `+tok+`}
`))
	if err != nil {
		t.Fatal(err)
	}
	m, g, tt := c.Destinations[0].MetaCAPI, c.Destinations[1].GA4, c.Destinations[2].TikTok
	if m.APIVersion != "v23.0" || m.Endpoint != "https://graph.facebook.com" || m.Timeout.D() != 30*time.Second || m.Retry.InitialBackoff.D() != 100*time.Millisecond {
		t.Fatalf("meta defaults not applied: %+v", m)
	}
	if g.Endpoint != "https://www.google-analytics.com" || !g.TestMode || g.MaxInFlight != 8 || tt.Endpoint != "https://business-api.tiktok.com" {
		t.Fatalf("defaults: %+v %+v", g, tt)
	}
	var secrets []string
	for _, f := range c.Files() {
		if f.Secret && f.Path == tok {
			secrets = append(secrets, f.Key)
		}
	}
	if tt.OfflineEventSetID != "7300000000000000002" {
		t.Fatalf("tiktok ids: %+v", tt)
	}
	if len(secrets) != 4 {
		t.Fatalf("token files listed as secrets: %v", secrets)
	}

	open := filepath.Join(dir, "open")
	os.WriteFile(open, []byte("x"), 0o644)
	errs := strings.Join(parseErrs(t, `
destinations:
  - name: meta
    type: meta_capi
    meta_capi: {pixel_id: "12ab", access_token_file: `+open+`, api_version: "23", test_event_code: "a b", endpoint: "ftp://x", timeout: 1ms}
  - name: ga
    type: ga4
    ga4: {measurement_id: "UA-1", endpoint: "https://user:pw@x", max_in_flight: 65}
  - name: tt
    type: tiktok
    tiktok: {event_source_id: "lower", access_token_file: `+tok+`, retry: {initial_backoff: 1s, max_backoff: 10ms}}
  - name: mix
    type: ga4
    meta_capi: {pixel_id: "1"}
  - name: tt2
    type: tiktok
    tiktok: {app_id: "7300000000000000001", offline_event_set_id: "x1", access_token_file: `+tok+`}
  - name: tt3
    type: tiktok
    tiktok: {access_token_file: `+tok+`}
`), "\n")
	for _, want := range []string{
		"destinations[0].meta_capi.pixel_id: is not a Meta pixel id",
		"destinations[0].meta_capi.access_token_file: " + open + " is readable by every user",
		"destinations[0].meta_capi.api_version: \"23\" is not a Graph API version",
		"destinations[0].meta_capi.test_event_code: is not a test event code",
		"destinations[0].meta_capi.endpoint: is not an http or https base URL",
		"destinations[0].meta_capi.timeout: 1ms is out of range",
		"destinations[1].ga4.measurement_id: is not a GA4 measurement id",
		"destinations[1].ga4.api_secret_file: is missing",
		"destinations[1].ga4.endpoint: holds a user name or password",
		"destinations[1].ga4.max_in_flight: 65 is out of range 1..64",
		"destinations[2].tiktok.event_source_id: is not a TikTok pixel code",
		"destinations[2].tiktok.retry.max_backoff: 10ms is shorter than initial_backoff",
		"destinations[3].meta_capi: is set but type is ga4",
		"destinations[3].ga4.measurement_id: is missing",
		"destinations[4].tiktok.app_id: unknown key",
		"destinations[4].tiktok.offline_event_set_id: is not a TikTok Offline Event Set ID",
		"destinations[5].tiktok.event_source_id: is missing",
		// An ad platform destination without ads in requires would get
		// every visitor's events (fail closed).
		"destinations[0].requires: must list ads for a meta_capi destination",
		"destinations[1].requires: must list ads for a ga4 destination",
		"destinations[2].requires: must list ads for a tiktok destination",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("no error %q in:\n%s", want, errs)
		}
	}
	if strings.Contains(errs, "pw@") {
		t.Errorf("an error shows the password:\n%s", errs)
	}
}

// TestURLErrorsShowNoSecret: a destination URL that fails its check may
// carry a credential (a token in the query, a password before the host);
// the error names the key and what is wrong, never the URL, since config
// check prints it and a refused reload writes it to the log and the audit
// log.
func TestURLErrorsShowNoSecret(t *testing.T) {
	const secret = "s3cr3t-T0KEN"
	errs := strings.Join(parseErrs(t, `
consent: {purposes: [analytics, ads]}
destinations:
  - name: collector
    type: http
    http: {url: "collector.example/ingest?token=`+secret+`"}
  - name: collector2
    type: http
    http: {url: "htps://user:`+secret+`@collector.example/ingest"}
  - name: collector3
    type: http
    http: {url: "https://user:`+secret+`%zz@collector.example/"}
  - name: meta
    type: meta_capi
    requires: [ads]
    meta_capi: {pixel_id: "1234567890", endpoint: "https://graph.facebook.com/?access_token=`+secret+`"}
  - name: bus
    type: kafka
    kafka: {brokers: ["sasl://user:`+secret+`@kafka-1.example.net:9092"], topic: events}
`), "\n")
	for _, want := range []string{
		"destinations[0].http.url: is not an http or https URL",
		"destinations[1].http.url: is not an http or https URL",
		"destinations[2].http.url: is not an http or https URL",
		"destinations[3].meta_capi.endpoint: is not an http or https base URL",
		"destinations[4].kafka.brokers[0]: is not host:port",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("no error %q in:\n%s", want, errs)
		}
	}
	if strings.Contains(errs, secret) {
		t.Errorf("an error shows the secret:\n%s", errs)
	}
}

// TestAdPlatformEndpointThatCannotWork: an ad platform endpoint whose port
// is no TCP port (":99999", ":0"), or that carries a fragment or an empty
// query, passed config check and start; every request then failed to
// dial, or went to the endpoint's bare root (the sink appends its path to
// the endpoint, so "https://graph.facebook.com/#x" sent Meta's events to
// https://graph.facebook.com/). It is refused as http.url is, never
// quoting the URL.
func TestAdPlatformEndpointThatCannotWork(t *testing.T) {
	tok := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tok, []byte("EAAB-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dests := map[string]string{
		"meta_capi": `pixel_id: "1234567890"`,
		"ga4":       `measurement_id: G-ABC123, api_secret_file: ` + tok,
		"tiktok":    `event_source_id: C4ABC123DEF`,
	}
	src := func(typ, endpoint string) string {
		ids := dests[typ]
		if typ != "ga4" {
			ids += ", access_token_file: " + tok
		}
		return "consent: {purposes: [analytics, ads]}\ndestinations:\n  - name: ad\n    type: " + typ +
			"\n    requires: [ads]\n    " + typ + ": {" + ids + ", endpoint: \"" + endpoint + "\"}\n"
	}
	for typ := range dests {
		for endpoint, want := range map[string]string{
			"https://ads.example:99999":        "has no valid port",
			"https://ads.example:0":            "has no valid port",
			"https://ads.example/#tok=secret1": "without a query or fragment",
			"https://ads.example/#":            "without a query or fragment",
			"https://ads.example/?":            "without a query or fragment",
		} {
			got := strings.Join(parseErrs(t, src(typ, endpoint)), "\n")
			if !strings.Contains(got, "destinations[0]."+typ+".endpoint: ") || !strings.Contains(got, want) {
				t.Errorf("%s endpoint %s: errors %q; want one with %q", typ, endpoint, got, want)
			}
			if strings.Contains(got, "secret1") {
				t.Errorf("%s endpoint %s: error quotes the URL: %q", typ, endpoint, got)
			}
		}
		for _, endpoint := range []string{"https://ads.example:8443", "http://127.0.0.1:9999/prefix/", "https://ads.example"} {
			if got := parseErrs(t, src(typ, endpoint)); got != nil {
				t.Errorf("%s endpoint %s: refused: %q", typ, endpoint, got)
			}
		}
	}
}
