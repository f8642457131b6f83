package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestHTTPHeaderValueControlBytes: a header value holding a control byte
// other than a tab (here \x01 or DEL, pasted with a key) is one the HTTP
// client refuses to send: every POST would fail and be retried until the
// spool filled. config check must refuse it, without quoting the value
// (it may be a key), as it refuses a line break; and a header the gateway
// sets itself (Idempotency-Key) would be silently replaced.
func TestHTTPHeaderValueControlBytes(t *testing.T) {
	for _, v := range []string{`a\x01b`, `k\x7f`, `x\ny`} {
		src := "destinations:\n  - name: h\n    type: http\n    http:\n      url: \"https://x.example\"\n      headers: {X-Api-Key: \"" + v + "\"}\n"
		got := strings.Join(parseErrs(t, src), "\n")
		if !strings.Contains(got, "destinations[0].http.headers.X-Api-Key: value holds a control character") {
			t.Errorf("value %s: errors %q", v, got)
		}
	}
	src := "destinations:\n  - name: h\n    type: http\n    http:\n      url: \"https://x.example\"\n      headers: {X-Api-Key: \"a\\tb é\"}\n"
	if got := parseErrs(t, src); got != nil {
		t.Errorf("a tab and non-ASCII text are valid in a header value: %q", got)
	}
	src = "destinations:\n  - name: h\n    type: http\n    http:\n      url: \"https://x.example\"\n      headers: {Idempotency-Key: \"x\"}\n"
	if got := strings.Join(parseErrs(t, src), "\n"); !strings.Contains(got, "Idempotency-Key is set by the gateway") {
		t.Errorf("Idempotency-Key: errors %q", got)
	}
}

// TestHTTPDestinationTLSKeys: an http destination's tls block is refused
// with an http url (it would send nothing over TLS), a client certificate
// needs its key and the key must be private, each error naming the key.
func TestHTTPDestinationTLSKeys(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open.key")
	os.WriteFile(open, []byte("k"), 0o644)
	dest := func(url, tls string) string {
		return "destinations:\n  - name: h\n    type: http\n    http:\n      url: \"" + url + "\"\n      tls: {" + tls + "}\n"
	}
	for _, tc := range []struct{ src, want string }{
		{dest("http://x.example", "ca_file: /etc/ca.pem"), "destinations[0].http.tls: is set but url is http://"},
		{dest("http://x.example", "server_name: x.internal"), "destinations[0].http.tls: is set but url is http://"},
		{dest("https://x.example", "cert_file: /etc/c.pem"), "destinations[0].http.tls: cert_file and key_file go together"},
		{dest("https://x.example", "cert_file: /etc/c.pem, key_file: "+open), "destinations[0].http.tls.key_file"},
	} {
		if got := strings.Join(parseErrs(t, tc.src), "\n"); !strings.Contains(got, tc.want) {
			t.Errorf("%q: errors %q, want %q", tc.src, got, tc.want)
		}
	}
	if got := parseErrs(t, dest("https://x.example", "ca_file: /etc/ca.pem, server_name: x.internal")); got != nil {
		t.Errorf("a CA and a server name with an https url: %q", got)
	}
}

// TestFilesListsEveryFileKey: Files, which config check uses to say that a
// named file does not exist here, lists every key of the config that
// names a file (found by walking the config's types for string keys ending
// in _file, and geoip.database), but those the gateway creates when
// missing.
func TestFilesListsEveryFileKey(t *testing.T) {
	created := map[string]bool{ // the gateway or a command makes these
		"privacy.suppression_file": true, "ble.optout_file": true, "ble.optout_key_file": true,
	}
	want := map[string]bool{}
	var walk func(tp reflect.Type, path string)
	walk = func(tp reflect.Type, path string) {
		switch tp.Kind() {
		case reflect.Pointer, reflect.Slice:
			walk(tp.Elem(), path+"[*]")
			return
		case reflect.Struct:
		default:
			return
		}
		for i := range tp.NumField() {
			f := tp.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if tag == "" || tag == "-" || !f.IsExported() {
				continue
			}
			p := tag
			if path != "" {
				p = path + "." + tag
			}
			if f.Type.Kind() == reflect.String && (strings.HasSuffix(tag, "_file") || p == "geoip.database") && !created[p] {
				want[p] = true
			}
			walk(f.Type, p)
		}
	}
	walk(reflect.TypeFor[Config](), "")

	dir := t.TempDir()
	secret := filepath.Join(dir, "s")
	os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef"), 0o600)
	gvl := filepath.Join(dir, "vendor-list.json")
	c, err := Parse("t.yaml", []byte(`
server: {admin_token_file: `+secret+`}
pseudonym: {mode: derived, secret_file: `+secret+`}
geoip: {database: /nonexistent/City.mmdb}
consent: {purposes: [analytics, ads], tcf: {gvl_file: `+gvl+`}}
destinations:
  - {name: h, type: http, http: {url: "https://x.example", bearer_token_file: `+secret+`, tls: {ca_file: /ca, cert_file: /c, key_file: `+secret+`}}}
  - {name: k, type: kafka, kafka: {brokers: ["127.0.0.1:9092"], topic: t, tls: {enabled: true, ca_file: /ca, cert_file: /c, key_file: `+secret+`}, sasl: {mechanism: scram-sha-512, username: u, password_file: `+secret+`}}}
  - {name: n, type: nats, nats: {urls: ["tls://127.0.0.1:4222"], subject: s, stream: S, credentials_file: `+secret+`, tls: {enabled: true, ca_file: /ca, cert_file: /c, key_file: `+secret+`}}}
  - {name: m, type: meta_capi, requires: [ads], meta_capi: {pixel_id: "1234", access_token_file: `+secret+`}}
  - {name: g, type: ga4, requires: [ads], ga4: {measurement_id: G-ABC123, api_secret_file: `+secret+`}}
  - {name: tt, type: tiktok, requires: [ads], tiktok: {event_source_id: C4ABC123DEF, access_token_file: `+secret+`}}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range c.Files() {
		got[regexp.MustCompile(`\[\d+\]`).ReplaceAllString(f.Key, "[*]")] = true
	}
	for k := range want {
		if !got[k] {
			t.Errorf("Files does not list %s", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("Files lists %s, which is no file key", k)
		}
	}
}

// TestDestinationURLPort: an http or nats destination's URL whose port is
// no TCP port (99999, 0: a digit too many, a placeholder left in) parsed,
// config check said ok, and every delivery failed to dial and was retried
// until the spool filled. It is refused, naming the key, never the URL
// (it may carry a token).
func TestDestinationURLPort(t *testing.T) {
	for _, port := range []string{"99999", "0", "65536"} {
		for _, tc := range []struct{ src, want string }{
			{"destinations:\n  - name: h\n    type: http\n    http: {url: \"https://c.example:" + port + "/in?token=s3cret\"}\n",
				"t.yaml:4:17: destinations[0].http.url: has no valid port; the port is a number 1..65535, or leave it out for the scheme's default"},
			{"destinations:\n  - name: n\n    type: nats\n    nats: {urls: [\"nats://bus.example:" + port + "\"], subject: a.b}\n",
				"t.yaml:4:19: destinations[0].nats.urls[0]: has no valid port; the port is a number 1..65535, or leave it out for 4222"},
		} {
			got := strings.Join(parseErrs(t, tc.src), "\n")
			if got != tc.want {
				t.Errorf("port %s:\ngot  %q\nwant %q", port, got, tc.want)
			}
		}
	}
	for _, u := range []string{"https://c.example:65535/in", "https://c.example/in", "http://127.0.0.1:8081"} {
		if got := parseErrs(t, "destinations:\n  - name: h\n    type: http\n    http: {url: \""+u+"\"}\n"); got != nil {
			t.Errorf("%s: %q", u, got)
		}
	}
}

// TestKafkaBrokerHint: a Kafka broker written as a URL (kafka://b:9092,
// the form other clients take) or without its port was answered with the
// listener's hint, "write e.g. \":8080\" or \"127.0.0.1:9100\"", and
// ":8080" is refused for a broker in turn (no host). The hint is now a
// broker's, and says to drop the scheme; the entry (which may carry
// sasl://user:password@) is still never quoted.
func TestKafkaBrokerHint(t *testing.T) {
	for _, b := range []string{"kafka://user:pw@broker.example:9092", "broker.example"} {
		src := "destinations:\n  - name: k\n    type: kafka\n    kafka: {brokers: [\"" + b + "\"], topic: t}\n"
		want := "t.yaml:4:23: destinations[0].kafka.brokers[0]: is not host:port; write e.g. kafka-1.example.net:9092, without a scheme such as kafka://"
		if got := strings.Join(parseErrs(t, src), "\n"); got != want {
			t.Errorf("%s:\ngot  %q\nwant %q", b, got, want)
		}
	}
}
