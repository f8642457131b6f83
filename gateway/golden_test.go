package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/anonymize/geo"
	"github.com/beacongate/beacongate/anonymize/geo/geotest"
	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/delivery"
	"github.com/beacongate/beacongate/plan"
	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/wiring"
	"github.com/prometheus/client_golang/prometheus"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden from the current output")

// memorySpool collects appended records, as the spool would store them.
type memorySpool struct {
	mu      sync.Mutex
	records []string
	routes  []upstream.Route
}

func (s *memorySpool) Append(rec []byte, route upstream.Route) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = append(s.records, string(rec))
	s.routes = append(s.routes, route)
	return nil
}

// goldenConfig enables every purpose and two destinations: "all" receives
// every event (our own, so also where GDPR applies), "retargeting" only
// those with analytics and ads and, where GDPR applies, vendor 14's consent
// (which the real TC string of the goldens gives).
const goldenConfig = `
properties:
  allow: [plan, cart_value, note]
consent:
  purposes: [analytics, ads]
destinations:
  - name: all
    type: file
    tcf: {without_vendor: true}
  - name: retargeting
    type: file
    requires: [analytics, ads]
    tcf: {vendor_id: 14, purposes: [1, 3, 4], legitimate_interest: [7]}
`

// pipeline is a gateway whose Deliverer runs the real engine with
// deterministic pseudonym keys, a GeoIP database built for the test and a
// clock that moves only when the test says.
type pipeline struct {
	names   []string // destination names, in config order
	g       *Gateway
	sp      *memorySpool
	keys    *pseudonym.Keyring
	clock   *clock.Manual
	engine  *anonymize.Engine
	reg     *prometheus.Registry // the delivery metrics, fresh per pipeline
	metrics *delivery.Metrics
}

// newPipelineGateway builds a pipeline whose clock reads now.
func newPipelineGateway(t testing.TB, yaml string, geoPath string, now time.Time) *pipeline {
	t.Helper()
	cfg, err := config.Parse("golden.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(now)
	secret, _ := pseudonym.NewSecret([]byte("golden-secret-golden-secret-0123"))
	keys, err := pseudonym.New(pseudonym.Options{Mode: pseudonym.Derived, Secret: secret, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if geoPath == "" {
		geoPath = filepath.Join(t.TempDir(), "city.mmdb")
		err := geotest.WriteCityDB(geoPath, []geotest.Network{
			{CIDR: "81.2.69.0/24", Continent: "EU", Country: "GB", Region: "ENG", City: "London", Lat: 51.5142, Lon: -0.0931, HasCoordinates: true},
			{CIDR: "2a02:1234::/32", Continent: "EU", Country: "SE", Region: "E", City: "Linköping"},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	g, err := geo.NewReloadable(geoPath)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := wiring.Compile(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	en, err := anonymize.New(pl, anonymize.Deps{Keys: keys, Geo: g, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	sp := &memorySpool{}
	reg := prometheus.NewRegistry()
	metrics := delivery.NewMetrics(reg)
	gw := New(Settings{Handler: delivery.NewDeliverer(en, sp, metrics), Clock: clk}, nil)
	p := &pipeline{g: gw, sp: sp, keys: keys, clock: clk, engine: en, reg: reg, metrics: metrics}
	for _, d := range cfg.Destinations {
		p.names = append(p.names, d.Name)
	}
	return p
}

// withSpool swaps the pipeline's record store, keeping engine and clock.
func (p *pipeline) withSpool(s delivery.Spool) {
	p.g.Update(Settings{Handler: delivery.NewDeliverer(p.engine, s, p.metrics), Clock: p.g.settings.Load().clock})
}

// openFilePipeline opens the real record pipeline (spool and shippers) in a
// temporary directory, with p's destinations as files, on p's clock, metrics
// in reg (nil for none); it is closed when the test ends.
func (p *pipeline) openFilePipeline(t testing.TB, reg prometheus.Registerer) *upstream.Pipeline {
	t.Helper()
	dir := t.TempDir()
	var dests []upstream.DestinationOptions
	for _, name := range p.names {
		dests = append(dests, upstream.DestinationOptions{Name: name, File: &upstream.FileOptions{Dir: dir + "/out/" + name}})
	}
	up, err := upstream.Open(upstream.Options{DataDir: dir, Registerer: reg, Clock: p.clock, Destinations: dests})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close(context.Background()) })
	return up
}

// counter returns the value of the delivery counter name with the given
// label pairs (0 when it has not been counted yet).
func (p *pipeline) counter(t testing.TB, name string, labels ...string) float64 {
	t.Helper()
	families, err := p.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
				}
				if !found {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// The event id is random; everything else in a record is fixed by the
// request and the pinned clock.
var volatileID = regexp.MustCompile(`"id":"[A-Za-z0-9_-]{22}"`)

func normalize(rec string) string {
	return volatileID.ReplaceAllString(rec, `"id":"<id>"`)
}

const (
	recordMarkerPrefix = "--- records at "
	recordMarkerSuffix = " (route: destinations) ---"
)

func recordMarker(in clocktest.Instant) string {
	return recordMarkerPrefix + in.Name + " " + in.Time.Format(time.RFC3339) + recordMarkerSuffix
}

// goldenCase is one file of testdata/golden: a request, the directives that
// place it in time, and the expected records at each clock-shift instant.
type goldenCase struct {
	request  string            // the request part, comments and directives included
	received string            // "@received": when the request arrives, relative to the instant
	keysAt   string            // "@keys-at": an instant the keyring saw before the request
	config   string            // "@config": an example config (examples/NAME.yaml) instead of goldenConfig
	want     map[string]string // instant name → expected records
}

func readGoldenCase(file string) (*goldenCase, error) {
	content, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	text := string(content)
	c := &goldenCase{want: map[string]string{}}
	i := strings.Index(text, recordMarkerPrefix)
	if i < 0 {
		i = len(text)
	}
	c.request, text = text[:i], text[i:]
	for _, l := range strings.Split(c.request, "\n") {
		if v, ok := strings.CutPrefix(l, "@received "); ok {
			c.received = strings.TrimSpace(v)
		} else if v, ok := strings.CutPrefix(l, "@keys-at "); ok {
			c.keysAt = strings.TrimSpace(v)
		} else if v, ok := strings.CutPrefix(l, "@config "); ok {
			c.config = strings.TrimSpace(v)
		}
	}
	for text != "" {
		header, rest, _ := strings.Cut(text, "\n")
		name, _, _ := strings.Cut(strings.TrimPrefix(header, recordMarkerPrefix), " ")
		j := strings.Index(rest, recordMarkerPrefix)
		if j < 0 {
			j = len(rest)
		}
		c.want[name], text = rest[:j], rest[j:]
	}
	return c, nil
}

// resolveAt turns a directive's time ("midnight", "midnight-100ms",
// "midnight+5s": the first UTC midnight after the instant's day began,
// plus or minus a duration) into an instant; "" is the instant itself.
func resolveAt(spec string, instant time.Time) (time.Time, error) {
	if spec == "" {
		return instant, nil
	}
	rest, ok := strings.CutPrefix(spec, "midnight")
	if !ok {
		return time.Time{}, fmt.Errorf("time %q: want midnight, midnight+DURATION or midnight-DURATION", spec)
	}
	midnight := instant.Truncate(24 * time.Hour).Add(24 * time.Hour)
	if rest == "" {
		return midnight, nil
	}
	d, err := time.ParseDuration(rest)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %v", spec, err)
	}
	return midnight.Add(d), nil
}

// TestGolden runs each request in testdata/golden through the gateway and
// the real privacy engine at every clock-shift instant, and compares the
// records (one per line, each prefixed with its route) with the file's
// section for that instant. Receive times, pseudonyms and visitor hashes are
// compared as they are: with the clock pinned they are deterministic, and
// they prove that keys and scoping are right. Run with -update to rewrite the
// files.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/*.txt")
	if len(files) < 8 {
		t.Fatalf("found %d golden files; want one per consent state and endpoint, and the period boundary cases", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			c, err := readGoldenCase(file)
			if err != nil {
				t.Fatal(err)
			}
			var updated strings.Builder
			updated.WriteString(c.request)
			for _, in := range clocktest.Instants {
				got := runGolden(t, c, in.Time)
				updated.WriteString(recordMarker(in) + "\n" + got)
				if *update {
					continue
				}
				want, ok := c.want[in.Name]
				if !ok {
					t.Errorf("%s: no section for instant %s; run go test -run TestGolden -update", file, in.Name)
				} else if got != want {
					t.Errorf("%s at %s (%v): records differ\n--- got\n%s--- want\n%s", file, in.Name, in.Time, got, want)
				}
			}
			if *update {
				if err := os.WriteFile(file, []byte(updated.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// runGolden sends c's request through a new pipeline whose clock reads
// instant, and returns the records it made.
func runGolden(t *testing.T, c *goldenCase, instant time.Time) string {
	t.Helper()
	yaml := goldenConfig
	if c.config != "" {
		b, err := os.ReadFile(filepath.Join("..", "examples", c.config+".yaml"))
		if err != nil {
			t.Fatalf("@config: %v", err)
		}
		yaml = string(b)
	}
	p := newPipelineGateway(t, yaml, "", instant)
	if c.keysAt != "" {
		at, err := resolveAt(c.keysAt, instant)
		if err != nil {
			t.Fatalf("@keys-at: %v", err)
		}
		p.keys.Rotate(at)
	}
	received, err := resolveAt(c.received, instant)
	if err != nil {
		t.Fatalf("@received: %v", err)
	}
	p.clock.Set(received)
	status := newDriver(p.g, "81.2.69.142").do(goldenRequest(t, c.request, received)).StatusCode()
	var got strings.Builder
	for i, rec := range p.sp.records {
		if !json.Valid([]byte(rec)) {
			t.Fatalf("record %d is not valid JSON: %s", i, rec)
		}
		got.WriteString(routeNames(p.names, p.sp.routes[i]) + " " + normalize(rec) + "\n")
	}
	if status >= 300 {
		got.WriteString("status " + strconv.Itoa(status) + "\n")
	}
	return got.String()
}

// receivedRef is a time in a golden request relative to its receive time,
// e.g. ${received-2h:ms}: Unix milliseconds (ms), seconds (s) or RFC 3339.
// BLE sighting times must lie near the receive time, which differs at each
// clock-shift instant.
var receivedRef = regexp.MustCompile(`\$\{received([+-][0-9a-zµ.]+)?:(ms|s|rfc3339)\}`)

// goldenRequest turns the file's request part (comment lines start with #,
// directive lines with @) into raw HTTP/1.1 bytes with CRLF line ends and a
// Content-Length, with ${received...} references resolved against received.
func goldenRequest(t *testing.T, text string, received time.Time) []byte {
	t.Helper()
	text = receivedRef.ReplaceAllStringFunc(text, func(ref string) string {
		m := receivedRef.FindStringSubmatch(ref)
		at := received
		if m[1] != "" {
			d, err := time.ParseDuration(m[1])
			if err != nil {
				t.Fatalf("%s: %v", ref, err)
			}
			at = at.Add(d)
		}
		switch m[2] {
		case "ms":
			return strconv.FormatInt(at.UnixMilli(), 10)
		case "s":
			return strconv.FormatInt(at.Unix(), 10)
		}
		return at.UTC().Format(time.RFC3339Nano)
	})
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "@") {
			lines = append(lines, l)
		}
	}
	text = strings.Join(lines, "\n")
	head, body, _ := strings.Cut(strings.TrimLeft(text, "\n"), "\n\n")
	body = strings.TrimRight(body, "\n")
	var b bytes.Buffer
	for _, l := range strings.Split(head, "\n") {
		b.WriteString(l + "\r\n")
	}
	if body != "" {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n" + body)
	return b.Bytes()
}

func routeNames(dests []string, r upstream.Route) string {
	var names []string
	for i, n := range dests {
		if r&upstream.RouteTo(i) != 0 {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "[]"
	}
	return "[" + strings.Join(names, ",") + "]"
}

// TestMaxMindKnownAnswers runs pixel hits from the addresses MaxMind's own
// test database knows through the whole pipeline. It needs
// ../shared/testdata/maxmind, which is not part of the project.
func TestMaxMindKnownAnswers(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "testdata", "maxmind", "GeoIP2-City-Test.mmdb")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("MaxMind test database not available (%v); the mmdbwriter-built databases cover the same path", err)
	}
	p := newPipelineGateway(t, goldenConfig, path, clocktest.Golden)
	sp := p.sp
	f := func(addr, country, region, city string) {
		t.Helper()
		sp.records = sp.records[:0]
		newDriver(p.g, addr).do(rawRequest("GET", "/p.gif?site=s&consent=analytics", nil))
		if len(sp.records) != 1 {
			t.Fatalf("%s: %d records", addr, len(sp.records))
		}
		var rec struct {
			IP  string
			Geo map[string]any
		}
		if err := json.Unmarshal([]byte(sp.records[0]), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Geo["country"] != country || rec.Geo["region"] != region || rec.Geo["city"] != city {
			t.Errorf("%s: geo %v; want %s %s %s", addr, rec.Geo, country, region, city)
		}
		if rec.IP == addr {
			t.Errorf("%s: full address in the record", addr)
		}
	}
	f("81.2.69.142", "GB", "ENG", "London")
	f("2.125.160.216", "GB", "ENG", "Boxford")
	f("216.160.83.56", "US", "WA", "Milton")
	f("89.160.20.112", "SE", "E", "Linköping")
	f("175.16.199.1", "CN", "22", "Changchun")
	f("2001:480:10::1", "US", "CA", "San Diego")
}

// compilePlan compiles cfg as the server does.
func compilePlan(t testing.TB, cfg *config.Config) *plan.Plan {
	t.Helper()
	p, err := wiring.Compile(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
