package anonymize

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/anonymize/geo/geotest"
	"github.com/beacongate/beacongate/event"
)

// contextMemoConfig is cacheConfig with a server-to-server site, so that
// every input of a record's context (consent, policy, address, location,
// user agent, the server flag) can change from one event to the next.
var contextMemoConfig = strings.Replace(cacheConfig, "sites:\n", "sites:\n  - id: backend-example\n    server_to_server: true\n", 1)

// TestContextMemo: each record's context members (consent to user agent)
// equal the uncached engine's when the event before differed from it in any
// one input, the memo stands in when nothing changed, and it keeps neither
// the client address nor a header the scanner changed.
func TestContextMemo(t *testing.T) {
	en := newTestEngine(t, contextMemoConfig)
	ref := uncached(en)
	buf := make([]byte, 0, 16<<10)
	base := func() *event.Event {
		e := plantedEvent("analytics")
		e.Site = []byte("shop-example")
		return e
	}
	same := func(name string, e *event.Event) string {
		t.Helper()
		want, wres := recordsOf(t, ref, e, buf)
		got, gres := recordsOf(t, en, e, buf)
		if got != want || gres != wres {
			t.Fatalf("%s: cached engine differs\ncached:   %+v\n%s\nuncached: %+v\n%s", name, gres, got, wres, want)
		}
		return got
	}

	// The memo stands in for an event whose context did not change: a
	// forged one shows through (nothing else tells it from writing the
	// members again).
	same("base", base())
	sc := getScratch()
	used := 0
	for i := range sc.context.slots {
		s := &sc.context.slots[i]
		if len(s.out) == 0 {
			continue
		}
		used++
		if k := fmt.Sprintf("%+v", s.key); strings.Contains(k, "81.2.69") || strings.Contains(string(s.in)+string(s.out), "81.2.69.142") {
			putScratch(sc)
			t.Fatalf("the memo keeps the client address: %s", k)
		}
		s.out = append(s.out[:0], `,"forged":true`...)
	}
	putScratch(sc)
	// analytics goes to two destinations with different policies: two
	// contexts.
	if used != 2 || sc.context.engine != en.id {
		t.Fatalf("%d contexts remembered for engine %d after a record with two policies; want 2 for %d", used, sc.context.engine, en.id)
	}
	if got, _ := recordsOf(t, en, base(), buf); strings.Count(got, `"forged":true`) != 2 {
		t.Fatalf("the memo was not used for an unchanged context:\n%s", got)
	}
	sc = getScratch()
	sc.context.forget(0)
	putScratch(sc)

	change := []struct {
		name string
		edit func(e *event.Event)
	}{
		{"no consent", func(e *event.Event) { e.Consent.Explicit = nil }},
		{"analytics and ads (more policies)", func(e *event.Event) { e.Consent.Explicit = []byte("analytics,ads") }},
		{"ads only", func(e *event.Event) { e.Consent.Explicit = []byte("ads") }},
		{"GPC", func(e *event.Event) { e.Consent.GPC = true }},
		{"address in the same /24", func(e *event.Event) { e.ClientIP = netip.MustParseAddr("81.2.69.143") }},
		{"address in another network", func(e *event.Event) { e.ClientIP = netip.MustParseAddr("2001:db8::1") }},
		{"address unknown to the database", func(e *event.Event) { e.ClientIP = netip.MustParseAddr("192.0.2.7") }},
		{"no address", func(e *event.Event) { e.ClientIP = netip.Addr{} }},
		{"another browser", func(e *event.Event) {
			e.UserAgent = []byte("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
		}},
		{"a crawler", func(e *event.Event) {
			e.UserAgent = []byte("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
		}},
		{"an HTTP client", func(e *event.Event) { e.UserAgent = []byte("curl/8.5.0") }},
		{"no user agent", func(e *event.Event) { e.UserAgent = nil }},
		{"a server's site", func(e *event.Event) { e.Site = []byte("backend-example") }},
		{"a BLE sighting", func(e *event.Event) { e.Kind = event.KindBLE }},
	}
	for _, c := range change {
		for _, consent := range []string{"analytics", "analytics,ads"} {
			// base, the change, base again: each follows a memo filled
			// by the other.
			b := base()
			b.Consent.Explicit = []byte(consent)
			e := base()
			e.Consent.Explicit = []byte(consent)
			c.edit(e)
			same(c.name+" after "+consent, b)
			same(c.name+" ("+consent+")", e)
			same(c.name+" ("+consent+"), repeated", e)
			same("base after "+c.name+" ("+consent+")", b)
		}
	}

	// Without an address, a server's site differs from a browser's only by
	// being one.
	noAddr := base()
	noAddr.ClientIP = netip.Addr{}
	s2s := base()
	s2s.ClientIP, s2s.Site = netip.Addr{}, []byte("backend-example")
	same("no address", noAddr)
	if got := same("a server's site, no address", s2s); !strings.Contains(got, `"server_to_server":true`) {
		t.Fatalf("a server's site without the flag:\n%s", got)
	}
	same("no address again", noAddr)

	// A header the scanner changes is not remembered, and the record after
	// it is still right.
	withEmail := base()
	withEmail.Consent.Explicit = []byte("analytics,ads") // the ads policy keeps the header
	withEmail.UserAgent = []byte("MyApp/1.0 (contact " + plantedEmail + ")")
	if got := same("a header with an e-mail", withEmail); strings.Contains(got, plantedEmail) {
		t.Fatalf("the e-mail reached a record:\n%s", got)
	}
	same("the same header again", withEmail)
	sc = getScratch()
	kept := ""
	for _, s := range sc.context.slots {
		kept += string(s.in) + string(s.out)
	}
	putScratch(sc)
	if strings.Contains(kept, plantedEmail) {
		t.Fatal("the memo keeps a header the scanner changed")
	}
	same("base after the header with an e-mail", base())

	// A reloaded location database, and another engine sharing the
	// scratch, write their own location.
	path := filepath.Join(t.TempDir(), "fr.mmdb")
	if err := geotest.WriteCityDB(path, []geotest.Network{{CIDR: "81.2.69.0/24", Continent: "EU", Country: "FR", Region: "IDF", City: "Paris"}}); err != nil {
		t.Fatal(err)
	}
	same("before the reload", base())
	if err := en.geo.Reload(path); err != nil {
		t.Fatal(err)
	}
	if got := same("after the reload", base()); !strings.Contains(got, `"country":"FR"`) {
		t.Fatalf("after a database reload: %s; want the new database's FR", got)
	}
	other := newTestEngine(t, contextMemoConfig)
	if got, _ := recordsOf(t, other, base(), buf); !strings.Contains(got, `"country":"GB"`) {
		t.Fatalf("another engine after the first: %s; want its own database's GB", got)
	}
	if got := same("first engine again", base()); !strings.Contains(got, `"country":"FR"`) {
		t.Fatalf("first engine again: %s; want FR", got)
	}
}

// TestContextMemoKeepsNoAddress: under a policy that writes the client
// address as sent, the records are still right and the memo keeps no
// record context (it would hold the address); an address with a zone,
// which the memo's hash leaves out, is not remembered either. The HTTP
// client flag is checked on the way.
func TestContextMemoKeepsNoAddress(t *testing.T) {
	en := newTestEngine(t, `
consent:
  purposes: [analytics, ads]
policies:
  analytics:
    ip: {action: keep}
    http_clients: flag
`)
	ref := uncached(en)
	buf := make([]byte, 0, 16<<10)
	sc := getScratch()
	sc.context.forget(0) // what earlier tests left
	putScratch(sc)
	held := func() string {
		sc := getScratch()
		defer putScratch(sc)
		var b strings.Builder
		for _, s := range sc.context.slots {
			b.Write(s.out)
		}
		return b.String()
	}
	for _, c := range []struct {
		name, ip, ua string
	}{
		{"an IPv4 address", "81.2.69.142", chromeUA},
		{"an IPv6 address", "2001:db8::1", chromeUA},
		{"an HTTP client", "81.2.69.142", "curl/8.5.0"},
		{"a zone", "fe80::1%eth0", chromeUA},
		{"another zone", "fe80::1%eth1", chromeUA},
	} {
		e := plantedEvent("analytics")
		e.ClientIP = netip.MustParseAddr(c.ip)
		e.UserAgent = []byte(c.ua)
		for round := range 2 {
			want, wres := recordsOf(t, ref, e, buf)
			got, gres := recordsOf(t, en, e, buf)
			if got != want || gres != wres {
				t.Fatalf("%s, round %d: cached engine differs\ncached:   %+v\n%s\nuncached: %+v\n%s", c.name, round, gres, got, wres, want)
			}
			if !strings.Contains(got, `"ip":"`+c.ip+`"`) {
				t.Fatalf("%s: the policy keeps the address, the record does not:\n%s", c.name, got)
			}
			if c.ua == "curl/8.5.0" && !strings.Contains(got, `"http_client":true`) {
				t.Fatalf("%s: no http_client flag:\n%s", c.name, got)
			}
			if h := held(); strings.Contains(h, c.ip) {
				t.Fatalf("%s: the memo holds the address: %s", c.name, h)
			}
		}
	}
}
