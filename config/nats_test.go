package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNATSDestination(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`
destinations:
  - name: bus
    type: nats
    nats:
      urls: [nats://127.0.0.1:4222]
      subject: beacongate.events
      stream: EVENTS
`))
	if err != nil {
		t.Fatal(err)
	}
	n := c.Destinations[0].NATS
	if n.SubjectBy != NATSSubjectSite || n.MaxPending != 256 || n.AckTimeout.D() != 5*time.Second || !n.CheckStream {
		t.Fatalf("defaults not applied: %+v", n)
	}

	errs := strings.Join(parseErrs(t, `
destinations:
  - name: bus
    type: nats
    nats:
      urls: ["nats://user:hunter2@bus:4222", "http://bus"]
      subject: "a.*"
      stream: "x.y"
      max_pending: 0
      ack_timeout: 1ms
      subject_by: event
`), "\n")
	for _, want := range []string{
		"destinations[0].nats.urls[0]: holds a user name or password",
		"destinations[0].nats.urls[1]: is not a nats:// or tls:// URL",
		"destinations[0].nats.subject: is not a valid subject",
		"destinations[0].nats.stream: is not a valid stream name",
		"destinations[0].nats.max_pending: 0 is out of range",
		"destinations[0].nats.ack_timeout: 1ms is out of range",
		"destinations[0].nats.subject_by:",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("no error %q in:\n%s", want, errs)
		}
	}
	if strings.Contains(errs, "hunter2") {
		t.Errorf("an error shows the password:\n%s", errs)
	}
	errs = strings.Join(parseErrs(t, "destinations:\n  - {name: bus, type: nats}\n"), "\n")
	if !strings.Contains(errs, "nats.urls: is empty") || !strings.Contains(errs, "nats.subject: is missing") {
		t.Errorf("missing settings not reported:\n%s", errs)
	}
	errs = strings.Join(parseErrs(t, "destinations:\n  - {name: bus, type: file, nats: {subject: a}}\n"), "\n")
	if !strings.Contains(errs, "destinations[0].nats: is set but type is file") {
		t.Errorf("nats block on a file destination not reported:\n%s", errs)
	}
}

// TestNATSFilesListed: Files lists the files a nats destination names, as
// it does a kafka destination's, so config check notes those absent where
// it runs (the gateway cannot connect without them); it listed none.
func TestNATSFilesListed(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`
destinations:
  - name: bus
    type: nats
    nats:
      urls: [tls://127.0.0.1:4222]
      subject: beacongate.events
      credentials_file: /run/secrets/nats.creds
      tls: {enabled: true, ca_file: /etc/nats/ca.pem, cert_file: /etc/nats/client.pem, key_file: /run/secrets/nats.key}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]FileRef{}
	for _, f := range c.Files() {
		got[f.Key] = f
	}
	for key, want := range map[string]FileRef{
		"destinations[0].nats.credentials_file": {Path: "/run/secrets/nats.creds", Secret: true},
		"destinations[0].nats.tls.ca_file":      {Path: "/etc/nats/ca.pem"},
		"destinations[0].nats.tls.cert_file":    {Path: "/etc/nats/client.pem"},
		"destinations[0].nats.tls.key_file":     {Path: "/run/secrets/nats.key", Secret: true},
	} {
		want.Key = key
		if got[key] != want {
			t.Errorf("Files()[%s] = %+v; want %+v", key, got[key], want)
		}
	}
}

// TestCompressionWhereNotApplied: nats and the ad platforms send each record
// (or each platform request) without the destination's batch compression,
// so compression or level written for them would be ignored silently.
func TestCompressionWhereNotApplied(t *testing.T) {
	tok := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tok, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ typ, block, key, want string }{
		{"nats", "nats: {urls: [nats://127.0.0.1:4222], subject: s, stream: S}", "compression: gzip",
			"destinations[0].compression: has no effect for a nats destination, which publishes each record as a message of its own; remove it"},
		{"nats", "nats: {urls: [nats://127.0.0.1:4222], subject: s, stream: S}", "level: 3",
			"destinations[0].level: has no effect for a nats destination, which publishes each record as a message of its own; remove it"},
		{"meta_capi", "meta_capi: {pixel_id: \"1234567890\", access_token_file: " + tok + "}", "compression: zstd",
			"destinations[0].compression: has no effect for a meta_capi destination, which sends the platform's own request format; remove it"},
		{"ga4", "ga4: {measurement_id: G-ABC123, api_secret_file: " + tok + "}", "level: 1",
			"destinations[0].level: has no effect for a ga4 destination, which sends the platform's own request format; remove it"},
		{"tiktok", "tiktok: {event_source_id: C4ABC123DEF, access_token_file: " + tok + "}", "compression: none",
			"destinations[0].compression: has no effect for a tiktok destination, which sends the platform's own request format; remove it"},
	} {
		src := "consent: {purposes: [analytics, ads]}\ndestinations:\n  - name: d\n    type: " + tc.typ +
			"\n    requires: [ads]\n    " + tc.key + "\n    " + tc.block + "\n"
		errs := strings.Join(parseErrs(t, src), "\n")
		if !strings.Contains(errs, tc.want) {
			t.Errorf("%s with %s: errors\n%s\nwant one containing\n%s", tc.typ, tc.key, errs, tc.want)
		}
	}
	// Unset, the defaults (zstd, 0) stand and nothing is reported.
	if _, err := Parse("t.yaml", []byte("destinations:\n  - {name: bus, type: nats, nats: {urls: [nats://127.0.0.1:4222], subject: s, stream: S}}\n")); err != nil {
		t.Fatal(err)
	}
}

// TestNATSURLListInOneItemRefused: nats.go splits the servers it is given
// at commas, so one urls item written as the nats CLI's server list,
// "nats://bus-1:4222,nats://user:password@bus-2:4222", passed the check
// (url.Parse reads "bus-1:4222,nats:" as its host, with no user) while the
// gateway connected with the password the check says it never takes, and
// beacongate report printed it. Such an item is refused, without its value.
func TestNATSURLListInOneItemRefused(t *testing.T) {
	for _, u := range []string{
		"nats://bus-1:4222,nats://user:hunter2@bus-2:4222",
		"nats://bus-1,nats://user:hunter2@bus-2",
		"tls://bus-1:4222,tls://hunter2@bus-2:4222",
	} {
		errs := strings.Join(parseErrs(t, `
destinations:
  - name: bus
    type: nats
    nats:
      urls: ["`+u+`"]
      subject: beacongate.events
`), "\n")
		if !strings.Contains(errs, "destinations[0].nats.urls[0]: ") {
			t.Errorf("%s: not refused:\n%s", u, errs)
		}
		if strings.Contains(errs, "hunter2") {
			t.Errorf("%s: an error shows the password:\n%s", u, errs)
		}
	}
}
