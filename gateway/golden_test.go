package gateway

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/anonymize/geo"
	"github.com/beacongate/beacongate/anonymize/geo/geotest"
	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/upstream"
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
// every event, "retargeting" only those with analytics and ads.
const goldenConfig = `
properties:
  allow: [plan, cart_value, note]
consent:
  purposes: [analytics, ads]
destinations:
  - name: all
    type: file
  - name: retargeting
    type: file
    requires: [analytics, ads]
`

// newPipelineGateway builds a gateway whose Deliverer runs the real engine
// with deterministic pseudonym keys and a GeoIP database built for the test.
func newPipelineGateway(t testing.TB, yaml string, geoPath string) (*Gateway, *memorySpool) {
	t.Helper()
	cfg, err := config.Parse("golden.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := pseudonym.NewSecret([]byte("golden-secret-golden-secret-0123"))
	keys, err := pseudonym.New(pseudonym.Options{Mode: pseudonym.Derived, Secret: secret})
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
	en, err := anonymize.New(cfg, anonymize.Deps{Keys: keys, Geo: g})
	if err != nil {
		t.Fatal(err)
	}
	sp := &memorySpool{}
	var requires []consent.Purposes
	for _, d := range cfg.Destinations {
		var r consent.Purposes
		for _, p := range d.Requires {
			cp, _ := consent.ParsePurpose(p.String())
			r = r.With(cp)
		}
		requires = append(requires, r)
	}
	return New(Settings{Handler: NewDeliverer(en, sp, requires, NewDeliveryMetrics(nil))}, nil), sp
}

var (
	volatileID       = regexp.MustCompile(`"id":"[A-Za-z0-9_-]{22}"`)
	volatileReceived = regexp.MustCompile(`"received":"[^"]+"`)
)

// normalize replaces the fields that change on every run.
func normalize(rec string) string {
	rec = volatileID.ReplaceAllString(rec, `"id":"<id>"`)
	return volatileReceived.ReplaceAllString(rec, `"received":"<received>"`)
}

const recordMarker = "--- records (route: destinations) ---"

// TestGolden runs each request in testdata/golden through the gateway and
// the real privacy engine, and compares the records (one per line, each
// prefixed with its route) with the file. Run with -update to rewrite them.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/*.txt")
	if len(files) < 6 {
		t.Fatalf("found %d golden files; want one per consent state and endpoint", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			g, sp := newPipelineGateway(t, goldenConfig, "")
			content, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			reqText, wantText, ok := strings.Cut(string(content), recordMarker+"\n")
			if !ok {
				t.Fatalf("%s: no %q line", file, recordMarker)
			}
			raw := goldenRequest(reqText)
			d := newDriver(g, "81.2.69.142")
			status := d.do(raw).StatusCode()
			var got strings.Builder
			for i, rec := range sp.records {
				if !json.Valid([]byte(rec)) {
					t.Fatalf("record %d is not valid JSON: %s", i, rec)
				}
				got.WriteString(routeNames(sp.routes[i]) + " " + normalize(rec) + "\n")
			}
			if status >= 300 {
				got.WriteString("status " + strconv.Itoa(status) + "\n")
			}
			if *update {
				if err := os.WriteFile(file, []byte(reqText+recordMarker+"\n"+got.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got.String() != wantText {
				t.Errorf("%s: records differ\n--- got\n%s--- want\n%s", file, got.String(), wantText)
			}
		})
	}
}

// goldenRequest turns the file's request part (comment lines start with #)
// into raw HTTP/1.1 bytes with CRLF line ends and a Content-Length.
func goldenRequest(text string) []byte {
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(l, "#") {
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

func routeNames(r upstream.Route) string {
	var names []string
	for i, n := range []string{"all", "retargeting"} {
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
	g, sp := newPipelineGateway(t, goldenConfig, path)
	f := func(addr, country, region, city string) {
		t.Helper()
		sp.records = sp.records[:0]
		newDriver(g, addr).do(rawRequest("GET", "/p.gif?site=s&consent=analytics", nil))
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
