package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// parseErrs parses src and returns its problems, one string per line.
func parseErrs(t *testing.T, src string) []string {
	t.Helper()
	c, err := Parse("t.yaml", []byte(src))
	if err == nil {
		if c == nil {
			t.Fatalf("Parse returned nil config and nil error")
		}
		return nil
	}
	if c != nil {
		t.Fatalf("Parse returned a config and an error")
	}
	var l ErrorList
	if !errors.As(err, &l) {
		t.Fatalf("error is %T, not ErrorList: %v", err, err)
	}
	return strings.Split(err.Error(), "\n")
}

func TestParseErrors(t *testing.T) {
	f := func(src string, want ...string) {
		t.Helper()
		got := parseErrs(t, src)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("errors for\n%s\ngot:\n%s\nwant:\n%s", src, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}

	// The example from the issue, with its exact position.
	f("# policy for the shop\n"+strings.Repeat("\n", 9)+"policies:\n  analytics:\n   ip:\n     v4_prefix: 33\n",
		"t.yaml:14:17: policies.analytics.ip.v4_prefix: 33 is out of range 0..32")

	// Unknown keys, with suggestions.
	f("server:\n  lisen: \":80\"\n",
		`t.yaml:2:3: server.lisen: unknown key; did you mean "listen"?`)
	f("server:\n  readTimeout: 1s\n",
		`t.yaml:2:3: server.readTimeout: unknown key; did you mean "read_timeout"?`)
	f("servers: {}\n",
		`t.yaml:1:1: servers: unknown key; did you mean "server"?`)
	f("colour: blue\n",
		"t.yaml:1:1: colour: unknown key; allowed at the top level: server, sites, properties, scan, consent, pseudonym, geoip, policies, destinations, spool, ble, privacy")
	f("policies:\n  ads:\n    v6_prefix: 40\n",
		"t.yaml:3:5: policies.ads.v6_prefix: unknown key here; did you mean ip.v6_prefix?")
	f("policies:\n  marketing: {}\n",
		"t.yaml:2:3: policies.marketing: unknown key; allowed under policies: none, analytics, ads")

	// Wrong types.
	f("server: [a]\n",
		"t.yaml:1:9: server: a list is not allowed here; write a mapping with keys: listen, admin, read_timeout, write_timeout, idle_timeout, max_header_bytes, max_body_bytes, max_conns_per_ip, max_events_per_request, max_sightings_per_request, max_sighting_age, max_sighting_ahead, trusted_proxies, client_ip_header, max_requests_per_client, data_dir, admin_token_file, max_conns, drain_delay, shutdown_timeout")
	f("sites: {id: a}\n",
		`t.yaml:1:8: sites: a mapping is not allowed here; write a list, e.g. [a, b], or one "- item" per line`)
	f("consent:\n  honour_opt_out_signals: yes\n",
		`t.yaml:2:27: consent.honour_opt_out_signals: "yes" is not a boolean; write true or false`)
	f("server:\n  listen: true\n",
		`t.yaml:2:11: server.listen: true is a boolean; write text, and quote it ("true") if you mean the word`)
	f("server:\n  max_conns_per_ip: 2.5\n",
		`t.yaml:2:21: server.max_conns_per_ip: "2.5" is not a whole number 1..1000000`)
	// A quoted number was "not a whole number", which it reads as.
	f("server:\n  max_conns_per_ip: \"100\"\n",
		`t.yaml:2:21: server.max_conns_per_ip: "100" is quoted, which makes it text; write 100 without quotes`)
	f("policies:\n  none:\n    geo: {grid: '0.5'}\n",
		`t.yaml:3:17: policies.none.geo.grid: "0.5" is quoted, which makes it text; write 0.5 without quotes`)
	f("server:\n  client_ip_header: \"X-Forwarded-For, Forwarded\"\n",
		`t.yaml:2:21: server.client_ip_header: is not a header name; write one name of letters, digits and '-', e.g. X-Forwarded-For`)
	f("server:\n  max_requests_per_client: 0\n",
		`t.yaml:2:28: server.max_requests_per_client: 0 is out of range 1..1000000`)
	f("server:\n  listen:\n",
		"t.yaml:2:10: server.listen: has no value; write text, or remove the key to use the default")
	f("policies:\n  none:\n    geo: {grid: fine}\n",
		`t.yaml:3:17: policies.none.geo.grid: "fine" is not a number 0..10`)

	// Scalar types say what they accept.
	f("policies:\n  none:\n    ip: {action: trunc}\n",
		`t.yaml:3:18: policies.none.ip.action: "trunc" is not one of: drop, truncate, keep; did you mean "truncate"?`)
	f("policies:\n  none:\n    url: Path\n",
		`t.yaml:3:10: policies.none.url: "Path" is not one of: drop, path, clean, keep; did you mean "path"?`)
	f("server:\n  read_timeout: 5\n",
		"t.yaml:2:17: server.read_timeout: 5 has no unit; write e.g. 5s or 5ms")
	f("server:\n  read_timeout: soon\n",
		`t.yaml:2:17: server.read_timeout: "soon" is not a duration such as 250ms, 5s, 1m or 24h`)
	f("server:\n  max_body_bytes: 1.5MiB\n",
		`t.yaml:2:19: server.max_body_bytes: "1.5MiB" is not a size such as 65536, 64KiB, 1MiB or 1GiB (whole numbers only)`)
	f("server:\n  trusted_proxies: [10.1.2.3/8]\n",
		`t.yaml:2:21: server.trusted_proxies[0]: "10.1.2.3/8" has bits set after the prefix; did you mean 10.0.0.0/8?`)
	f("consent:\n  tcf:\n    mapping:\n      ads: {purposes: [1, 12]}\n",
		"t.yaml:4:27: consent.tcf.mapping.ads.purposes[1]: 12 is out of range 1..11")
	f("destinations:\n  - name: api\n    type: http\n    http:\n      url: https://collect.example/in\n      retry: {redirect_dead_letter_after: 100ms, auth_dead_letter_after: 200h}\n",
		"t.yaml:6:43: destinations[0].http.retry.redirect_dead_letter_after: 100ms is out of range 1s..168h",
		"t.yaml:6:74: destinations[0].http.retry.auth_dead_letter_after: 200h is out of range 1s..168h")

	// Structure.
	f("server:\n  listen: \":1\"\n  listen: \":2\"\n",
		"t.yaml:3:3: server.listen: is set twice; the first is on line 2, remove one")
	f("destinations:\n  - type: file\n",
		`t.yaml:2:5: destinations[0]: missing key "name"`)
	f("destinations:\n  - name: a\n",
		`t.yaml:2:5: destinations[0]: missing key "type"; set it to one of: file, http, kafka, nats, meta_capi, ga4, tiktok`)
	f("destinations: []\n",
		"t.yaml:1:15: destinations: is empty, so accepted events would go nowhere; add one, e.g. {name: local, type: file}")
	f("server:\n  listen: [\n",
		"t.yaml:3: syntax error: did not find expected node content")
	// Syntax errors name the line they are on: yaml.v3 numbers its
	// parser's lines from 0 (so they pointed at the line before) and gives
	// no line at all on the first one.
	f("x: 1\na: [b\n",
		"t.yaml:2: syntax error: did not find expected ',' or ']'")
	f("destinations:\n  - {name: local, type: file}\n  name: b\n",
		"t.yaml:2: syntax error: did not find expected '-' indicator")
	f("server: {trusted_proxies: [::ffff:1.2.3.4/120]}\n",
		"t.yaml:1: syntax error: did not find expected node content")
	f("server: {listen: ':80}",
		"t.yaml:1: syntax error: found unexpected end of stream")
	f("server:\n  listen: ':80'\n  admin: a: b\n",
		"t.yaml:3: syntax error: mapping values are not allowed in this context")
	// A tab in the indentation (an editor's) was a bare "found character
	// that cannot start any token": the tab is named, with its column.
	f("server:\n\tlisten: \":8081\"\n",
		"t.yaml:2:1: syntax error: found character that cannot start any token; this line is indented with a tab: YAML indents with spaces only")
	f("sites:\n  - id: a\n    origins:\n  \t\t- \"https://a.example\"\n",
		"t.yaml:4:3: syntax error: found character that cannot start any token; this line is indented with a tab: YAML indents with spaces only")
	f("server: *nowhere\n",
		"t.yaml: syntax error: unknown anchor 'nowhere' referenced")
	f("server: {}\n---\nserver: {}\n",
		"t.yaml:2:1: a second YAML document starts here; a config file holds one (remove the --- line)")
	f("server:\n  listen: !secret x\n",
		"t.yaml:2:11: server.listen: tag !secret is not supported; remove it")

	// Values that make no sense.
	f("server:\n  listen: \"8080\"\n",
		`t.yaml:2:11: server.listen: "8080" is not host:port; write e.g. ":8080" or "127.0.0.1:9100"`)
	f("server:\n  listen: \":9100\"\n  admin: \":9100\"\n",
		`t.yaml:3:10: server.admin: ":9100" is also server.listen; the admin listener needs its own address`)
	f("sites:\n  - id: app\n    origins: [https://app.example.com]\n    server_to_server: true\n",
		`t.yaml:4:23: sites[0].server_to_server: a server-to-server site takes no browser origins; remove origins or server_to_server`)
	f("policies:\n  ads:\n    http_clients: block\n",
		`t.yaml:3:19: policies.ads.http_clients: "block" is not one of: drop, flag, keep`)
	f("sites:\n  - id: shop\n    origins: [https://Shop.example.com/]\n",
		`t.yaml:3:15: sites[0].origins[0]: "https://Shop.example.com/" ends with /; browsers send origins without it: "https://Shop.example.com"`)
	// A file destination writes zstd frames only: the gateway refused to
	// start on another codec, after config check said ok.
	f("destinations:\n  - {name: local, type: file, compression: gzip, tcf: {without_vendor: true}}\n  - {name: raw, type: file, compression: none, tcf: {without_vendor: true}}\n",
		`t.yaml:2:44: destinations[0].compression: gzip is not available for a file destination, which writes zstd files (.ndjson.zst); remove it, or write zstd`,
		`t.yaml:3:42: destinations[1].compression: none is not available for a file destination, which writes zstd files (.ndjson.zst); remove it, or write zstd`)
	// A purpose this deployment does not use may not map to nothing either:
	// the engine refuses such a rule, so it passed config check and then
	// the gateway did not start ("TCF rule for personalization requires
	// nothing").
	f("consent:\n  purposes: [analytics]\n  tcf:\n    mapping:\n      personalization: {purposes: []}\n",
		`t.yaml:5:24: consent.tcf.mapping.personalization: maps to no TCF purpose or special feature, which the gateway refuses (any TC string would grant personalization); list what it needs, or remove the key to keep its default`)
	// Never the value when it holds credentials: config check prints it, a
	// refused reload logs and audits it.
	f("sites:\n  - id: shop\n    origins: [\"https://shop:hunter2@shop.example.com\", \"https://u:hunter2@*.example.com\"]\n",
		`t.yaml:3:15: sites[0].origins[0]: holds a user name or password (an '@'), which no origin has; an origin is scheme://host[:port], e.g. "https://shop.example.com"`,
		`t.yaml:3:56: sites[0].origins[1]: holds a user name or password (an '@'), which no origin has; an origin is scheme://host[:port], e.g. "https://shop.example.com"`)
	f("sites:\n  - id: shop\n    origins: [\"https://shop.example.com:443\", \"https://*.example.com\", \"https://shop.example.com/cart\"]\n",
		`t.yaml:3:15: sites[0].origins[0]: "https://shop.example.com:443" names the default port; browsers send the origin without it: "https://shop.example.com"`,
		`t.yaml:3:47: sites[0].origins[1]: "https://*.example.com": wildcards are not supported; list each origin; an origin is scheme://host[:port], e.g. "https://shop.example.com"`,
		`t.yaml:3:72: sites[0].origins[2]: "https://shop.example.com/cart" has a path; an origin is scheme://host[:port], e.g. "https://shop.example.com"`)
	f("sites:\n  - id: a\n  - id: a\n",
		`t.yaml:3:9: sites[1].id: "a" is also the id of sites[0]; ids must be unique`)
	f("spool:\n  max_bytes: 100MiB\n  segment_bytes: 64MiB\n",
		"t.yaml:3:18: spool.segment_bytes: 64MiB is more than half of max_bytes (100MiB); the spool needs room for at least two segments")

	// Contradictions.
	f("destinations:\n  - name: ads\n    type: file\n    requires: [analytics, ads]\n",
		"t.yaml:4:27: destinations[0].requires[1]: ads is not in consent.purposes (analytics), so it is never granted and this destination would get nothing; add it there or remove it here")
	f("consent:\n  default: [ads]\n",
		"t.yaml:2:13: consent.default[0]: ads is not in consent.purposes (analytics); add it there or remove it here")
	f("consent:\n  priority: [tcf]\n",
		"t.yaml:2:13: consent.priority: has no effect with merge: most_restrictive; remove it, or set merge: priority")
	// A priority list of opt-outs only: no signal could grant a purpose,
	// so every visitor got consent.default, whatever they chose.
	f("consent:\n  merge: priority\n  priority: [gpc, dnt, us_privacy]\n",
		"t.yaml:3:13: consent.priority: lists no signal that grants purposes (explicit, tcf, gpp, consent_mode), so with merge: priority every request would get consent.default, whatever its signals say; list the signals that decide, most trusted first")
	f("pseudonym:\n  mode: derived\n",
		"t.yaml:2:9: pseudonym.mode: derived needs a secret; set secret_file or secret_env, or use mode: ephemeral")
	f("pseudonym:\n  secret_env: X\n",
		"t.yaml:2:15: pseudonym.secret_env: has no effect with mode: ephemeral; remove it, or set mode: derived")
	f("destinations:\n  - {name: a, type: file}\n  - {name: a, type: file}\n",
		`t.yaml:3:12: destinations[1].name: "a" is also the name of destinations[0]; names must be unique`)
	f("destinations:\n  - name: a\n    type: file\n    http: {url: \"https://x.example\"}\n",
		"t.yaml:4:11: destinations[0].http: is set but type is file; remove it, or set type: http")
	f("destinations:\n  - name: k\n    type: kafka\n    kafka:\n      brokers: [\"k:9092\"]\n      topic: t\n      sasl: {mechanism: plain, username: u, password_file: /nonexistent/p}\n",
		"t.yaml:7:25: destinations[0].kafka.sasl.mechanism: plain sends the password in clear text; set tls.enabled: true, or use scram-sha-512")
	f("destinations:\n  - name: h\n    type: http\n    http:\n      url: \"https://x.example\"\n      headers: {Authorization: \"Bearer x\"}\n",
		"t.yaml:6:32: destinations[0].http.headers.Authorization: Authorization is set by the gateway; remove it (for a token use bearer_token_file)")
	f("policies:\n  none:\n    ip: {action: drop, v4_prefix: 16}\n",
		"t.yaml:3:35: policies.none.ip.v4_prefix: has no effect unless ip.action is truncate; remove it")
	f("policies:\n  ads:\n    geo: {level: country, grid: 0.5}\n",
		"t.yaml:3:33: policies.ads.geo.grid: coordinates need geo.level: city (it is country); set grid: 0 or level: city")
	f("spool:\n  fsync_max_delay: 1ms\n",
		"t.yaml:2:20: spool.fsync_max_delay: has no effect with durability: process; remove it, or set durability: fsync")
	f("spool:\n  durability: fsync\n  gather_window: 100us\n",
		"t.yaml:3:18: spool.gather_window: has no effect with durability: fsync (writes gather for fsync_max_delay); remove it, or set durability: process")
	f("spool:\n  gather_window: 2ms\n",
		"t.yaml:2:18: spool.gather_window: 2ms is out of range 0s..1ms")
	f("destinations:\n  - name: a\n    type: http\n    compression: none\n    level: 3\n    http: {url: \"https://collector.example/i\"}\n",
		"t.yaml:5:12: destinations[0].level: has no effect with compression: none; remove it")
}

// TestAllErrorsAtOnce checks that one file with several problems reports
// all of them, in file order, structural and semantic ones together.
func TestAllErrorsAtOnce(t *testing.T) {
	src := `server:
  lisen: ":8080"
  max_body_bytes: 10MiB
policies:
  analytics:
    ip:
      action: truncate
      v4_prefix: 33
destinations:
  - name: ads
    type: http
    requires: [ads]
    http: {url: "https://ads.example"}
spool:
  durability: fsnc
`
	got := parseErrs(t, src)
	want := []string{
		`t.yaml:2:3: server.lisen: unknown key; did you mean "listen"?`,
		"t.yaml:3:19: server.max_body_bytes: 10MiB is out of range 64KiB..1MiB",
		"t.yaml:8:18: policies.analytics.ip.v4_prefix: 33 is out of range 0..32",
		"t.yaml:12:16: destinations[0].requires[0]: ads is not in consent.purposes (analytics), so it is never granted and this destination would get nothing; add it there or remove it here",
		`t.yaml:15:15: spool.durability: "fsnc" is not one of: process, fsync; did you mean "fsync"?`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestFieldErrorFormat(t *testing.T) {
	f := func(e FieldError, want string) {
		t.Helper()
		if got := e.Error(); got != want {
			t.Fatalf("got %q; want %q", got, want)
		}
	}
	f(FieldError{File: "a.yaml", Line: 3, Column: 7, Path: "server.listen", Msg: "bad"}, "a.yaml:3:7: server.listen: bad")
	f(FieldError{File: "a.yaml", Line: 3, Msg: "syntax error: x"}, "a.yaml:3: syntax error: x")
	f(FieldError{File: "a.yaml", Path: "destinations", Msg: "is empty"}, "a.yaml: destinations: is empty")
}

// TestDefaultIsBuiltin checks that default.yaml spells out the built-in
// defaults exactly: an empty file and the embedded default parse the same.
func TestDefaultIsBuiltin(t *testing.T) {
	empty, err := Parse("empty.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	empty.source, d.source = "", ""
	if !empty.Empty() {
		t.Error("an empty file: Empty is false")
	}
	empty.empty = false // bookkeeping, as source
	if !reflect.DeepEqual(empty, d) {
		t.Fatalf("default.yaml and builtin() differ:\nempty file: %+v\ndefault.yaml: %+v", empty, d)
	}
	for _, src := range []string{"", "# only a comment\n", "~\n", "{}\n", "---\n"} {
		c, err := Parse("x.yaml", []byte(src))
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if c.Empty() != (src != "{}\n") {
			t.Errorf("%q: Empty is %v", src, c.Empty())
		}
		c.source, c.empty = "", false
		if !reflect.DeepEqual(c, d) {
			t.Fatalf("%q does not give the defaults", src)
		}
	}
}

// TestDefaultIsStrict pins the privacy promises of the default config.
func TestDefaultIsStrict(t *testing.T) {
	c := Default()
	n := c.Policies.None
	if n.IP.Action != IPDrop || n.UserID != IDDrop || n.ClientID != IDDrop || n.DeviceID != IDDrop ||
		n.URL != URLPath || n.Referrer != ReferrerOrigin || n.Properties != PropertiesDrop ||
		n.UserAgent.Action != UAReduce || n.Geo.Level > GeoCountry || n.Geo.Grid != 0 {
		t.Fatalf("none policy keeps personal data: %+v", n)
	}
	if len(c.Consent.Default) != 0 {
		t.Fatalf("default grants %v without a signal", c.Consent.Default)
	}
	if got := NewPurposeSet(c.Consent.Purposes...); got != NewPurposeSet(PurposeAnalytics) {
		t.Fatalf("purposes = %v; want analytics only", got)
	}
	if len(c.Destinations) != 1 || c.Destinations[0].Name != "local" || c.Destinations[0].Type != DestinationFile {
		t.Fatalf("destinations = %+v; want one local file destination", c.Destinations)
	}
	if want := filepath.Join("beacongate-data", "out", "local"); c.Destinations[0].File.Dir != want {
		t.Fatalf("local dir = %q; want %q", c.Destinations[0].File.Dir, want)
	}
	if c.Pseudonym.Mode != PseudonymEphemeral || !c.Consent.HonourOptOutSignals || !c.Consent.TCF.RequireValid {
		t.Fatalf("pseudonym/consent defaults not strict: %+v %+v", c.Pseudonym, c.Consent)
	}
	// Each call gives a private copy.
	c.Consent.Purposes[0] = PurposeAds
	c.Destinations[0].HTTP.Headers["x"] = "y"
	if d := Default(); d.Consent.Purposes[0] != PurposeAnalytics || len(d.Destinations[0].HTTP.Headers) != 0 {
		t.Fatal("Default shares memory between calls")
	}
}

// TestPresenceDefaults checks that absent keys get defaults and present keys
// are taken as written, also when they are zero or false.
func TestPresenceDefaults(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`
server:
consent:
  honour_opt_out_signals: false
  purposes: [analytics, ads]
policies:
  analytics:
    ip: {v4_prefix: 0}
    visitor_hash: false
destinations:
  - name: a
    type: http
    requires:
    http: {url: "https://x.example/in"}
  - name: b
    type: file
    file: {dir: /tmp/b}
`))
	if err != nil {
		t.Fatal(err)
	}
	def := builtin()
	if !reflect.DeepEqual(c.Server, def.Server) {
		t.Fatalf("empty server section: %+v", c.Server)
	}
	if c.Consent.HonourOptOutSignals {
		t.Fatal("honour_opt_out_signals: false was replaced by the default")
	}
	if c.Consent.Merge != MergeMostRestrictive || !c.Consent.TCF.RequireValid {
		t.Fatalf("absent consent keys lost their defaults: %+v", c.Consent)
	}
	a := c.Policies.Analytics
	if a.IP.V4Prefix != 0 || a.IP.V6Prefix != 48 || a.IP.Action != IPTruncate || a.VisitorHash || a.UserID != IDPseudonymize {
		t.Fatalf("analytics policy = %+v", a)
	}
	if c.Policies.None != def.Policies.None || c.Policies.Ads != def.Policies.Ads {
		t.Fatal("untouched policies changed")
	}
	d := c.Destinations[0]
	if d.Requires == nil || len(d.Requires) != 0 {
		t.Fatalf("requires with no value = %#v; want empty, non-nil", d.Requires)
	}
	if d.Batch.MaxEvents != 1000 || d.HTTP.Timeout.D() != 10*time.Second || d.HTTP.Retry.MaxBackoff.D() != 30*time.Second ||
		d.Compression != CompressionZstd || d.HTTP.Headers == nil || d.File.Dir != "" {
		t.Fatalf("destination defaults not filled: %+v", d)
	}
	if c.Destinations[1].File.Dir != "/tmp/b" || c.Destinations[1].File.MaxFileBytes != 64<<20 {
		t.Fatalf("file destination = %+v", c.Destinations[1].File)
	}
}

func TestSetDataDir(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`
server: {data_dir: /srv/a}
destinations:
  - {name: derived, type: file}
  - {name: fixed, type: file, file: {dir: /fixed}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Spool.Dir != "/srv/a/spool" || c.Destinations[0].File.Dir != "/srv/a/out/derived" {
		t.Fatalf("derived dirs: %q %q", c.Spool.Dir, c.Destinations[0].File.Dir)
	}
	c.Apply(Overrides{DataDir: "/data"})
	if c.Server.DataDir != "/data" || c.Spool.Dir != "/data/spool" || c.Destinations[0].File.Dir != "/data/out/derived" || c.Destinations[1].File.Dir != "/fixed" {
		t.Fatalf("after override: %q %q %q %q", c.Server.DataDir, c.Spool.Dir, c.Destinations[0].File.Dir, c.Destinations[1].File.Dir)
	}
}

func TestMergeKeysAndAliases(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`
consent:
  purposes: [analytics, ads]
policies:
  analytics: &base
    ip: {action: truncate, v4_prefix: 16}
    url: path
  ads:
    <<: *base
    url: keep
destinations:
  - &dest {name: a, type: file}
  - <<: *dest
    name: b
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Policies.Ads.IP.V4Prefix != 16 || c.Policies.Ads.URL != URLKeep || c.Policies.Analytics.URL != URLPath {
		t.Fatalf("merge: %+v", c.Policies.Ads)
	}
	// Keys neither policy mentions keep the defaults of their own policy.
	if c.Policies.Ads.UserAgent.Action != UAKeep || c.Policies.Analytics.UserAgent.Action != UAReduce {
		t.Fatal("merged policy lost its own defaults")
	}
	if c.Destinations[1].Name != "b" || c.Destinations[1].Type != DestinationFile {
		t.Fatalf("merged destination: %+v", c.Destinations[1])
	}
	// An error inside an anchor is reported where the anchor is.
	got := parseErrs(t, "policies:\n  analytics: &b\n    url: paht\n  ads: *b\n")
	if len(got) != 1 || !strings.HasPrefix(got[0], "t.yaml:3:10: policies.analytics.url:") {
		t.Fatalf("alias error: %q", got)
	}
}

// TestAliasBomb checks that a small file whose aliases expand to a huge
// tree is refused instead of being walked: 1000 aliases of a destination
// with 1000 brokers would be a million values.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("destinations:\n  - &d {name: k, type: kafka, kafka: {topic: t, brokers: [&h \"k:9092\"")
	b.WriteString(strings.Repeat(", *h", 999))
	b.WriteString("]}}\n")
	b.WriteString(strings.Repeat("  - *d\n", 999))
	got := parseErrs(t, b.String())
	want := "the file is too complex (more than 100000 values after expanding aliases)"
	if len(got) != 1 || !strings.HasSuffix(got[0], want) {
		t.Fatalf("got %q; want one error ending in %q", got, want)
	}
}

func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // umask may have changed it
			t.Fatal(err)
		}
		return p
	}
	good := write("good", strings.Repeat("k", 40)+"\n", 0o600)
	open := write("open", strings.Repeat("k", 40), 0o644)
	short := write("short", "tooshort\n", 0o600)
	writable := write("writable", strings.Repeat("k", 40), 0o602)
	f := func(path string, want string) {
		t.Helper()
		got := parseErrs(t, "pseudonym:\n  mode: derived\n  secret_file: "+path+"\n")
		if strings.Join(got, "\n") != want {
			t.Fatalf("%s: got %q; want %q", path, got, want)
		}
	}
	f(good, "")
	f(filepath.Join(dir, "missing"), "") // checked where the gateway runs
	f(open, "t.yaml:3:16: pseudonym.secret_file: "+open+" is readable by every user (mode 0644); run chmod o-rwx "+open)
	f(short, "t.yaml:3:16: pseudonym.secret_file: "+short+" holds 8 bytes; a secret needs at least 32 (e.g. head -c 48 /dev/urandom | base64 > "+short+")")
	// The gateway refuses it at start (pseudonym.LoadSecretFile): config
	// check said ok.
	f(writable, "t.yaml:3:16: pseudonym.secret_file: "+writable+" is writable by every user (mode 0602); run chmod o-rwx "+writable)

	// Every secret file, not the pseudonyms' only: whoever replaces the
	// opt-out list's key ends every device's opt-out without a word.
	got := parseErrs(t, "ble:\n  optout_file: "+filepath.Join(dir, "optouts")+"\n  optout_key_file: "+writable+"\n")
	if want := "t.yaml:3:20: ble.optout_key_file: " + writable + " is writable by every user (mode 0602); run chmod o-rwx " + writable; strings.Join(got, "\n") != want {
		t.Fatalf("optout_key_file: got %q; want %q", got, want)
	}
}

func TestLoad(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "nope.yaml")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	p := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(p, make([]byte, MaxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("big file: %v", err)
	}
}

// TestBotsBackwardCompatible: a file written before http_clients existed
// keeps its bots setting, now for crawlers, and HTTP clients are kept.
func TestBotsBackwardCompatible(t *testing.T) {
	c, err := Parse("t.yaml", []byte("sites:\n  - id: app\n    server_to_server: true\n  - id: web\npolicies:\n  ads: {bots: drop}\n  none: {bots: keep}\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Policies
	if p.Ads.Bots != BotsDrop || p.None.Bots != BotsKeep || p.Analytics.Bots != BotsFlag {
		t.Fatalf("bots: %v %v %v; want keep flag drop as written and by default", p.None.Bots, p.Analytics.Bots, p.Ads.Bots)
	}
	if p.None.HTTPClients != BotsKeep || p.Analytics.HTTPClients != BotsKeep || p.Ads.HTTPClients != BotsKeep {
		t.Fatalf("http_clients: %v %v %v; want keep everywhere", p.None.HTTPClients, p.Analytics.HTTPClients, p.Ads.HTTPClients)
	}
	if !c.Sites[0].ServerToServer || c.Sites[1].ServerToServer {
		t.Fatalf("server_to_server: %v %v; want true false", c.Sites[0].ServerToServer, c.Sites[1].ServerToServer)
	}
}

// TestSightingWindow: the BLE time window is configurable and checked with
// field-named errors.
func TestSightingWindow(t *testing.T) {
	c, err := Parse("t.yaml", []byte("server:\n  max_sighting_age: 2d\n  max_sighting_ahead: 30s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.MaxSightingAge.D() != 48*time.Hour || c.Server.MaxSightingAhead.D() != 30*time.Second {
		t.Fatalf("window %v..%v", c.Server.MaxSightingAge, c.Server.MaxSightingAhead)
	}
	got := parseErrs(t, "server:\n  max_sighting_age: 1s\n  max_sighting_ahead: 2h\n")
	want := []string{
		"t.yaml:2:21: server.max_sighting_age: 1s is out of range 1m..2160h",
		"t.yaml:3:23: server.max_sighting_ahead: 2h is out of range 1s..1h",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCompressionLevel checks that destinations[].level takes what its
// documentation says: the zstd command's levels 1..9 for zstd (which the
// encoder maps onto its speeds), 1..9 for gzip, 0 for the codec's default,
// and nothing above 9 for either.
func TestCompressionLevel(t *testing.T) {
	for _, comp := range []string{"zstd", "gzip"} {
		for level := range 10 {
			src := fmt.Sprintf("destinations:\n  - name: a\n    type: http\n    compression: %s\n    level: %d\n    http: {url: \"https://collector.example/i\"}\n", comp, level)
			c, err := Parse("t.yaml", []byte(src))
			if err != nil {
				t.Errorf("%s level %d: %v", comp, level, err)
				continue
			}
			if got := c.Destinations[0].Level; got != level {
				t.Errorf("%s level %d: parsed as %d", comp, level, got)
			}
		}
		src := fmt.Sprintf("destinations:\n  - name: a\n    type: http\n    compression: %s\n    level: 10\n    http: {url: \"https://collector.example/i\"}\n", comp)
		got := strings.Join(parseErrs(t, src), "\n")
		if want := "t.yaml:5:12: destinations[0].level: 10 is out of range 0..9"; got != want {
			t.Errorf("%s level 10: got %q, want %q", comp, got, want)
		}
	}
}

// TestFileDirOutsideSpoolAndDataDir: a file destination's dir that holds
// the spool or the data dir, or lies inside the spool, is refused: its
// retention sweep would walk the spool, and its files would mix with it.
func TestFileDirOutsideSpoolAndDataDir(t *testing.T) {
	base := "server:\n  data_dir: /srv/bg\ndestinations:\n  - name: local\n    type: file\n    file: {dir: %s}\n"
	for _, c := range []struct{ dir, want string }{
		{"/srv/bg", `holds server.data_dir "/srv/bg"`},
		{"/srv/bg/", `holds server.data_dir "/srv/bg"`},
		{"/srv", `holds server.data_dir "/srv/bg"`},
		{"/srv/bg/spool/../spool", `and spool.dir "/srv/bg/spool" are one inside the other`},
		{"/srv/bg/spool/out", `and spool.dir "/srv/bg/spool" are one inside the other`},
		{"/", `holds server.data_dir "/srv/bg"`},
		{"/srv/bg/spool", `is also spool.dir`},
	} {
		got := strings.Join(parseErrs(t, fmt.Sprintf(base, c.dir)), "\n")
		if !strings.Contains(got, "destinations[0].file.dir: ") || !strings.Contains(got, c.want) {
			t.Errorf("file.dir %s: errors %q; want one with %q", c.dir, got, c.want)
		}
	}
	// Two file destinations one inside the other, or one in the dead
	// letters' folder: a retention rule sweeps its folder and those below.
	two := "server:\n  data_dir: /srv/bg\ndestinations:\n  - name: a\n    type: file\n    file: {dir: /var/out}\n  - name: b\n    type: file\n    file: {dir: %s}\n"
	for _, c := range []struct{ dir, want string }{
		{"/var/out/b", `"/var/out/b" and the dir of destinations[0], "/var/out", are one inside the other`},
		{"/var", `"/var" and the dir of destinations[0], "/var/out", are one inside the other`},
		{"/srv/bg/deadletter/b", `and the dead letters' folder "/srv/bg/deadletter" are one inside the other`},
	} {
		got := strings.Join(parseErrs(t, fmt.Sprintf(two, c.dir)), "\n")
		if !strings.Contains(got, "destinations[1].file.dir: ") || !strings.Contains(got, c.want) {
			t.Errorf("second file.dir %s: errors %q; want one with %q", c.dir, got, c.want)
		}
	}
	if got := parseErrs(t, fmt.Sprintf(two, "/var/out-b")); got != nil {
		t.Errorf("file dirs /var/out and /var/out-b: refused: %q", got)
	}
	for _, dir := range []string{"/srv/bg/out/local", "/srv/bg-out", "/srv/bg/spool-archive", "/var/lib/events"} {
		if got := parseErrs(t, fmt.Sprintf(base, dir)); got != nil {
			t.Errorf("file.dir %s: refused: %q", dir, got)
		}
	}
}

// TestApplyChecksFileDirs: -data moves data_dir after the file's checks
// ran, so Apply checks the file destinations' dirs again.
func TestApplyChecksFileDirs(t *testing.T) {
	c, err := Parse("t.yaml", []byte("destinations:\n  - name: local\n    type: file\n    file: {dir: /srv/out}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(Overrides{DataDir: "/srv/data"}); err != nil {
		t.Fatalf("-data /srv/data: %v", err)
	}
	err = c.Apply(Overrides{DataDir: "/srv/out/bg"})
	if err == nil || !strings.Contains(err.Error(), `with -data /srv/out/bg: destinations[0].file.dir: "/srv/out" holds server.data_dir "/srv/out/bg"`) {
		t.Fatalf("-data inside the file dir: %v", err)
	}
}

// TestAdminTokenFileCheckedLikeServe: config check refuses an admin token
// file the server would refuse to start with (too short, white space in
// the token), naming the key and never quoting the token, and one readable
// by every user, like every other secret file; a file that does not exist
// here is left to the note of config check.
func TestAdminTokenFileCheckedLikeServe(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", "  0123456789abcdefghij\n")
	short := write("short", "s3cr3t-tok\n")
	spaced := write("spaced", "s3cr3t-tok s3cr3t-tok\n")
	f := func(path string, want string) {
		t.Helper()
		got := strings.Join(parseErrs(t, "server:\n  admin_token_file: "+path+"\n"), "\n")
		if got != want {
			t.Fatalf("%s: got %q; want %q", path, got, want)
		}
		if strings.Contains(got, "s3cr3t") {
			t.Fatalf("%s: the error quotes the token: %q", path, got)
		}
	}
	f(good, "")
	f(filepath.Join(dir, "missing"), "")
	f(short, "t.yaml:2:21: server.admin_token_file: "+short+": the admin token is shorter than 16 characters; write a long random one, e.g. head -c 32 /dev/urandom | base64")
	f(spaced, "t.yaml:2:21: server.admin_token_file: "+spaced+": the admin token contains white space; write it on one line without spaces")
	open := write("open", "0123456789abcdefghij\n")
	if err := os.Chmod(open, 0o644); err != nil {
		t.Fatal(err)
	}
	f(open, "t.yaml:2:21: server.admin_token_file: "+open+" is readable by every user (mode 0644); run chmod o-rwx "+open)
	// Whoever may write the token knows it from then on: the next start
	// takes the token they wrote, as for every other secret file.
	writable := write("writable", "0123456789abcdefghij\n")
	if err := os.Chmod(writable, 0o602); err != nil {
		t.Fatal(err)
	}
	f(writable, "t.yaml:2:21: server.admin_token_file: "+writable+" is writable by every user (mode 0602); run chmod o-rwx "+writable)
	// A path that names some other file (a 64 MiB file, sparse here) was
	// read whole and, its zero bytes being no white space, taken for a
	// token; a binary token, too.
	big := filepath.Join(dir, "big")
	if fh, err := os.OpenFile(big, os.O_CREATE|os.O_WRONLY, 0o600); err != nil {
		t.Fatal(err)
	} else if err := fh.Truncate(64 << 20); err != nil {
		t.Fatal(err)
	} else {
		fh.Close()
	}
	f(big, "t.yaml:2:21: server.admin_token_file: cannot read "+big+": larger than 4 KiB: not an admin token file (one line with the token)")
	binary := write("binary", "0123456789\x00\x01abcdefghij\n")
	f(binary, "t.yaml:2:21: server.admin_token_file: "+binary+": the admin token contains a byte that is not printable ASCII; write it as text, e.g. head -c 32 /dev/urandom | base64")
	// A directory (a volume mounted where the file was meant to be): the
	// start fails reading it, so config check says so, as for every
	// other secret file, instead of ok.
	f(dir, "t.yaml:2:21: server.admin_token_file: "+dir+" is a directory, not a file; name the file that holds the token")
	if tok, err := AdminToken([]byte("  0123456789abcdefghij\n")); err != nil || string(tok) != "0123456789abcdefghij" {
		t.Fatalf("AdminToken: %q, %v", tok, err)
	}
}

// TestListenersClash: config check refuses an admin address that cannot be
// bound beside server.listen although it is spelt differently (the same
// port on a wildcard host, or on localhost and 127.0.0.1): serve used to
// fail on it with "bind: address already in use", as if another process
// held the port. Addresses that can be bound together stay accepted.
func TestListenersClash(t *testing.T) {
	for _, c := range []struct{ listen, admin, want string }{
		{":8080", "127.0.0.1:8080", "shares the port of"},
		{"0.0.0.0:8080", "127.0.0.1:8080", "shares the port of"},
		{"[::]:8080", "[::1]:8080", "shares the port of"},
		{"127.0.0.1:8080", "localhost:8080", "shares the port of"},
		{"127.0.0.1:8080", "[::ffff:127.0.0.1]:8080", "shares the port of"},
		{"127.0.0.1:8080", "127.0.0.1:8080", "is also"},
		{":8080", "127.0.0.1:9100", ""},
		{"127.0.0.1:8080", "127.0.0.2:8080", ""},
		{"0.0.0.0:8080", "[::1]:8080", ""},
		{":0", "127.0.0.1:0", ""},
	} {
		if got := ListenersClash(c.listen, c.admin); got != c.want {
			t.Errorf("ListenersClash(%q, %q) = %q, want %q", c.listen, c.admin, got, c.want)
		}
	}
	got := parseErrs(t, "server:\n  listen: \":8080\"\n  admin: \"127.0.0.1:8080\"\n")
	want := `t.yaml:3:10: server.admin: "127.0.0.1:8080" shares the port of server.listen ":8080", so one of them cannot listen; give the admin listener its own port`
	if strings.Join(got, "\n") != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestAtMostMaxDestinations: the spool routes each event by one bit per
// destination, and the engine plans for 64 at most; a file with more
// passed Parse (and config check) and then failed at start, without a
// position. Parse refuses it at the first destination too many.
func TestAtMostMaxDestinations(t *testing.T) {
	list := func(n int) string {
		var b strings.Builder
		b.WriteString("destinations:\n")
		for i := range n {
			fmt.Fprintf(&b, "  - {name: d%d, type: file, tcf: {without_vendor: true}}\n", i)
		}
		return b.String()
	}
	if errs := parseErrs(t, list(MaxDestinations)); errs != nil {
		t.Fatalf("%d destinations: %v", MaxDestinations, errs)
	}
	errs := parseErrs(t, list(MaxDestinations+1))
	want := fmt.Sprintf("t.yaml:%d:5: destinations[%d]: ", MaxDestinations+2, MaxDestinations)
	if len(errs) != 1 || !strings.HasPrefix(errs[0], want) || !strings.Contains(errs[0], "at most 64") {
		t.Errorf("%d destinations: %q; want one error starting %q and saying at most 64", MaxDestinations+1, errs, want)
	}
}

// TestSecretEnvNeverQuoted: a secret written where its variable's name
// belongs (secret_env: the secret itself, an easy slip) is not a variable
// name, and the error said so by quoting it: into config check's output,
// and on reload into the log, the HTTP answer and the hash-chained audit
// log, which cannot drop it again. The error names the key only.
func TestSecretEnvNeverQuoted(t *testing.T) {
	const secret = "9f8Xq2+LmV0aZ/7bT4kR1wYc6NsPe3Hj5Ud8Go="
	errs := parseErrs(t, "pseudonym: {mode: derived, secret_env: \""+secret+"\"}\n")
	if len(errs) != 1 || !strings.Contains(errs[0], "pseudonym.secret_env: ") {
		t.Fatalf("errors %q; want one naming pseudonym.secret_env", errs)
	}
	if strings.Contains(errs[0], secret) || strings.Contains(errs[0], secret[:8]) {
		t.Errorf("the error quotes the value: %s", errs[0])
	}
}

// TestScanParamNames: scan.drop_params and scan.extra_click_ids names the
// scanner cannot match (a blank, '=', '&', '%', longer than 64 bytes) were
// accepted by Parse and config check, and the gateway then refused to
// start, or a reload was refused, with "scan: scrub: DropParams[0]: ...",
// naming neither the key nor the line. Parse refuses them, naming the key.
func TestScanParamNames(t *testing.T) {
	errs := parseErrs(t, "scan:\n  drop_params: [session_id, \"session id\", \"a=b\"]\n  extra_click_ids: [\"\", \"x%20y\", "+strings.Repeat("k", 65)+"]\n")
	want := []string{
		"t.yaml:2:29: scan.drop_params[1]: ",
		"t.yaml:2:43: scan.drop_params[2]: ",
		"t.yaml:3:21: scan.extra_click_ids[0]: ",
		"t.yaml:3:25: scan.extra_click_ids[1]: ",
		"t.yaml:3:34: scan.extra_click_ids[2]: ",
	}
	if len(errs) != len(want) {
		t.Fatalf("errors:\n%s\nwant %d, starting %q", strings.Join(errs, "\n"), len(want), want)
	}
	for i, w := range want {
		if !strings.HasPrefix(errs[i], w) {
			t.Errorf("error %d: %s; want it to start %q", i, errs[i], w)
		}
	}
}

// TestEmptyCredentialFile: an empty file named for a credential the
// operator is given (a bearer token, an ad platform's token, a Kafka
// password, a TLS key) was answered "holds 0 bytes; a secret needs at
// least 1 (e.g. head -c 48 /dev/urandom | base64 > FILE)": random bytes
// are no token Meta or a collector accepts, nor a PEM key. It now says the
// file is empty and what belongs in it; the secrets the gateway's own
// (pseudonym.secret_file) keep their advice to generate one.
func TestEmptyCredentialFile(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ src, want string }{
		{"destinations:\n  - name: h\n    type: http\n    http: {url: \"https://c.example\", bearer_token_file: " + empty + "}\n",
			"t.yaml:4:57: destinations[0].http.bearer_token_file: " + empty + " is empty; write the token, password or key you were given into it"},
		{"consent: {purposes: [analytics, ads]}\ndestinations:\n  - name: m\n    type: meta_capi\n    requires: [ads]\n    meta_capi: {pixel_id: \"1\", access_token_file: " + empty + "}\n",
			"t.yaml:6:51: destinations[0].meta_capi.access_token_file: " + empty + " is empty; write the token, password or key you were given into it"},
	} {
		if got := strings.Join(parseErrs(t, tc.src), "\n"); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
	got := strings.Join(parseErrs(t, "pseudonym: {mode: derived, secret_file: "+empty+"}\n"), "\n")
	if !strings.Contains(got, "head -c 48 /dev/urandom") {
		t.Errorf("pseudonym.secret_file: %q; want the advice to generate a secret", got)
	}
}

// TestTooLargeNamesKeyAndMaximum: a duration or size beyond what the type
// holds (99999999999h, about 11 million years) read "is not a duration
// such as 250ms, ...", as if it were misspelt: it now says it is too
// large, names the key and the key's own maximum where the key has one.
func TestTooLargeNamesKeyAndMaximum(t *testing.T) {
	f := func(src string, want ...string) {
		t.Helper()
		got := parseErrs(t, src)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("errors for\n%s\ngot:\n%s\nwant:\n%s", src, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	f("server:\n  read_timeout: 99999999999h\n",
		"t.yaml:2:17: server.read_timeout: 99999999999h is too large; at most 5m")
	f("server:\n  max_sighting_age: 99999999d\n",
		"t.yaml:2:21: server.max_sighting_age: 99999999d is too large; at most 2160h")
	f("server:\n  max_body_bytes: 9999999TiB\n",
		"t.yaml:2:19: server.max_body_bytes: 9999999TiB is too large; at most 1MiB")
	f("privacy:\n  dead_letter_retention: 99999999999h\n",
		"t.yaml:2:26: privacy.dead_letter_retention: 99999999999h is too large; at most 87840h")
	f("ble:\n  lateness: 99999999999h\n",
		"t.yaml:2:13: ble.lateness: 99999999999h is too large; it must be less than twice ble.interval (15m)")
	f("destinations:\n  - name: local\n    type: file\n    batch: {max_age: 99999999999h}\n",
		"t.yaml:4:22: destinations[0].batch.max_age: 99999999999h is too large; at most 1h")
	// A key whose range no check names still gets the type's own maximum.
	f("destinations:\n  - name: local\n    type: file\nprivacy:\n  retention: {local: 99999999999h}\n",
		"t.yaml:5:22: privacy.retention.local: 99999999999h is too large; at most 87840h")
	// Along with other problems, each reported once.
	f("server:\n  read_timeout: 99999999999h\n  lisen: x\n",
		"t.yaml:2:17: server.read_timeout: 99999999999h is too large; at most 5m",
		`t.yaml:3:3: server.lisen: unknown key; did you mean "listen"?`)
}

// TestNotesForKeysWithoutEffect: keys that the default file spells out,
// set to another value where they change nothing, were accepted without a
// word: geoip.lookup_from without geoip.database (no database, no
// location), the aggregation's keys with ble.output: sightings, and
// server.client_ip_header with no trusted_proxies (the header is read
// from trusted proxies only). Notes (not errors: the default file writes
// them all) now name each, only when its value is not the default.
func TestNotesForKeysWithoutEffect(t *testing.T) {
	notes := func(src string) []string {
		t.Helper()
		c, err := Parse("t.yaml", []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		return c.Notes()
	}
	f := func(src string, want ...string) {
		t.Helper()
		if got := notes(src); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("notes for\n%s\ngot:\n%s\nwant:\n%s", src, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	f("geoip: {lookup_from: truncated}\n",
		"geoip.lookup_from: truncated has no effect without geoip.database (no database, no location); set geoip.database, or remove it")
	f("geoip: {lookup_from: truncated, database: /x/GeoLite2-City.mmdb}\n")
	f("geoip: {lookup_from: full}\n") // the default, as the default file writes it
	f("ble: {k: 10, interval: 1h, absence: 5m, enter_rssi: -80}\n",
		"ble.interval: 1h has no effect with ble.output: sightings (it applies to aggregates only); remove it, or set output: aggregates",
		"ble.enter_rssi: -80 has no effect with ble.output: sightings (it applies to aggregates only); remove it, or set output: aggregates",
		"ble.k: 10 has no effect with ble.output: sightings (it applies to aggregates only); remove it, or set output: aggregates")
	f("ble: {output: aggregates, k: 10, interval: 1h, lateness: 30m}\n")
	f("ble: {max_cells: 20}\n",
		"ble.max_cells: 20 has no effect with ble.output: sightings (it applies to aggregates only); remove it, or set output: aggregates")
	f("ble: {lateness: 3m, enter_after: 3, max_devices: 500}\n",
		"ble.lateness: 3m has no effect with ble.output: sightings (it applies to aggregates only); remove it, or set output: aggregates",
		"ble.enter_after: 3 has no effect with ble.output: sightings (it applies to aggregates only); remove it, or set output: aggregates",
		"ble.max_devices: 500 has no effect with ble.output: sightings (it applies to aggregates only); remove it, or set output: aggregates")
	f("server: {client_ip_header: X-Real-IP}\n",
		"server.client_ip_header: X-Real-IP has no effect without server.trusted_proxies (the header is read only from them); list your proxies there, or remove it")
	f("server: {client_ip_header: X-Real-IP, trusted_proxies: [10.0.0.0/8]}\n")
	// The default file sets every one of them to its default: no note.
	f(string(DefaultYAML()))
}

// TestOneProblemOneError: a value out of its range was reported, and
// then again through a check that compares another key with it, under
// that other key: ble.interval: 0s also read "ble.lateness: 2m must be at
// least 1s and less than twice ble.interval (0s)" at the top of the file
// (lateness unwritten), and a retry.max_backoff too large, left at its
// default, "30s is shorter than initial_backoff", a value never written.
// Each now reads once, under its own key.
func TestOneProblemOneError(t *testing.T) {
	f := func(src string, want ...string) {
		t.Helper()
		got := parseErrs(t, src)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("errors for\n%s\ngot:\n%s\nwant:\n%s", src, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	f("ble: {interval: 0s}\n", "t.yaml:1:17: ble.interval: 0s is out of range 1s..24h")
	f("ble: {interval: 48h}\n", "t.yaml:1:17: ble.interval: 48h is out of range 1s..24h")
	// Within its range, lateness is still held to it.
	f("ble: {interval: 1m}\n", "t.yaml:1:1: ble.lateness: 2m must be at least 1s and less than twice ble.interval (1m)")
	f("destinations:\n  - name: x\n    type: http\n    http: {url: \"https://a.example/x\", retry: {initial_backoff: 1m, max_backoff: 99999999999h}}\n",
		"t.yaml:4:82: destinations[0].http.retry.max_backoff: 99999999999h is too large; at most 1h")
	f("consent: {purposes: [analytics, ads]}\ndestinations:\n  - name: g\n    type: ga4\n    requires: [ads]\n    ga4: {measurement_id: G-ABC123XYZ, api_secret_file: /nonexistent, retry: {initial_backoff: 1m, max_backoff: 99999999999h}}\n",
		"t.yaml:6:113: destinations[0].ga4.retry.max_backoff: 99999999999h is too large; at most 1h")
}

// TestAdminTokenFileNotRegular: the server refuses an admin token file
// every user may read or write whatever it is (readAdminToken applies
// SecretMode to what it stats), so /dev/null (mode 0666) kept it from
// starting, but config check looked only at regular files and said ok.
// It applies the same rule to any file that is no directory now.
func TestAdminTokenFileNotRegular(t *testing.T) {
	fi, err := os.Stat(os.DevNull)
	if err != nil || fi.Mode().Perm()&0o006 == 0 || fi.Mode().IsRegular() {
		t.Skipf("%s is not a device every user may read here (%v, %v)", os.DevNull, fi, err)
	}
	got := strings.Join(parseErrs(t, "server:\n  admin_token_file: "+os.DevNull+"\n"), "\n")
	want := fmt.Sprintf("t.yaml:2:21: server.admin_token_file: %s is readable by every user (mode %04o); run chmod o-rwx %s", os.DevNull, fi.Mode().Perm(), os.DevNull)
	if got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

// TestHeaderKeyNeverQuoted: an http destination's headers carry keys
// ("X-Api-Key: ..."), and a key written into the header's name (the name
// and the key quoted as one, "X-Api-Key: KEY": "", a space or '=' for the
// colon, a flow mapping's {X-Api-Key KEY}) made a name that is no header
// name, which the error quoted, and named in its path: into config check's
// output and, on a refused reload, into the log, the HTTP answer and the
// hash-chained audit log, which cannot drop it again (found by the review
// rev-echo). The error names the headers and the line only. So does one
// for a key of any mapping that no name there can be.
func TestHeaderKeyNeverQuoted(t *testing.T) {
	const secret = "hk9Xq2LmV0aZ7bT4kR1wYc6N"
	head := "destinations:\n  - name: p\n    type: http\n    http:\n      url: https://c.example/in\n      headers:\n"
	for _, tc := range []struct{ name, yaml string }{
		{"quoted with its colon", head + "        \"X-Api-Key: " + secret + "\": \"\"\n"},
		{"a space for the colon", head + "        \"Authorization Bearer " + secret + "\": x\n"},
		{"= for the colon, no value", head + "        X-Api-Key=" + secret + ":\n"},
		{"flow mapping without the colon", "destinations: [{name: p, type: http, http: {url: \"https://c.example/in\", headers: {X-Api-Key " + secret + "}}}]\n"},
		{"set twice", head + "        \"X-Api-Key " + secret + "\": a\n        \"X-Api-Key " + secret + "\": b\n"},
		{"retention", "privacy: {retention: {\"local " + secret + "\": 30d}}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := parseErrs(t, tc.yaml)
			if len(errs) == 0 {
				t.Fatal("no error")
			}
			for _, e := range errs {
				if strings.Contains(e, secret[:8]) {
					t.Errorf("the error quotes the key: %s", e)
				}
			}
		})
	}
}
