package gateway

import (
	"net/netip"
	"testing"
)

// The forging cases: the peer is a trusted proxy (10.1.1.1) that appends the
// real client's address to X-Forwarded-For, either at the end of the
// client's header or as a header line of its own after the client's. The
// client controls every other header and everything left of the proxy's
// entry; the record must never carry an address it chose.
const (
	proxyPeer   = "10.1.1.1"
	realClient  = "198.51.100.7"
	realClient6 = "2001:db8::7"
)

// attackerIPs are the addresses a forger puts in its headers.
var attackerIPs = []string{"6.6.6.6", "7.7.7.7", "2001:db8::6", "10.0.0.5"}

func TestClientIPForging(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	cases := []struct {
		name    string
		headers []string
		want    string
	}{
		{"appended", []string{"X-Forwarded-For", "6.6.6.6, " + realClient}, realClient},
		{"appended-no-space", []string{"X-Forwarded-For", "6.6.6.6," + realClient}, realClient},
		{"duplicate-header", []string{"X-Forwarded-For", "6.6.6.6", "X-Forwarded-For", realClient}, realClient},
		{"duplicate-lower-case", []string{"x-forwarded-for", "6.6.6.6", "X-Forwarded-For", realClient}, realClient},
		{"duplicate-three", []string{"X-Forwarded-For", "6.6.6.6", "X-Forwarded-For", "7.7.7.7", "X-Forwarded-For", realClient}, realClient},
		{"duplicate-trusted-tail", []string{"X-Forwarded-For", "6.6.6.6, 10.0.0.5", "X-Forwarded-For", realClient}, realClient},
		{"forwarded-beats-xff", []string{"Forwarded", "for=6.6.6.6", "X-Forwarded-For", realClient}, realClient},
		{"forwarded-quoted-port", []string{"Forwarded", `for="6.6.6.6:80"`, "X-Forwarded-For", realClient}, realClient},
		{"forwarded-list", []string{"Forwarded", "for=6.6.6.6, for=7.7.7.7;proto=https", "X-Forwarded-For", realClient}, realClient},
		{"forwarded-ipv6", []string{"Forwarded", `for="[2001:db8::6]:443"`, "X-Forwarded-For", realClient}, realClient},
		{"forwarded-after-xff", []string{"X-Forwarded-For", realClient, "Forwarded", "for=6.6.6.6"}, realClient},
		{"spaces-tabs", []string{"X-Forwarded-For", " \t6.6.6.6 ,\t " + realClient + " "}, realClient},
		{"attacker-trusted-entries", []string{"X-Forwarded-For", "6.6.6.6, 10.0.0.5, " + realClient}, realClient},
		{"garbage-first", []string{"X-Forwarded-For", "garbage", "X-Forwarded-For", realClient}, realClient},
		{"garbage-in-list", []string{"X-Forwarded-For", "6.6.6.6, garbage, " + realClient}, realClient},
		{"empty-elements", []string{"X-Forwarded-For", ",,6.6.6.6,,", "X-Forwarded-For", realClient}, realClient},
		{"attacker-port", []string{"X-Forwarded-For", "6.6.6.6:1234", "X-Forwarded-For", realClient}, realClient},
		{"attacker-ipv6-brackets", []string{"X-Forwarded-For", "[2001:db8::6]:443", "X-Forwarded-For", realClient6}, realClient6},
		{"client-ipv6", []string{"X-Forwarded-For", "6.6.6.6, " + realClient6}, realClient6},
		{"attacker-zone", []string{"X-Forwarded-For", "fe80::1%eth0", "X-Forwarded-For", realClient}, realClient},
		{"attacker-mapped", []string{"X-Forwarded-For", "::ffff:6.6.6.6", "X-Forwarded-For", realClient}, realClient},
		{"other-headers-ignored", []string{"X-Real-IP", "6.6.6.6", "True-Client-IP", "6.6.6.6", "CF-Connecting-IP", "6.6.6.6", "X-Forwarded-For", realClient}, realClient},
		{"attacker-after-garbage-proxy-entry", []string{"X-Forwarded-For", "6.6.6.6, " + realClient + ", 10.9.9.9"}, realClient},
	}
	rec := &recorder{}
	g := New(Settings{Handler: rec, TrustedProxies: trusted}, nil)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec.events = rec.events[:0]
			newDriver(g, proxyPeer).do(rawRequest("GET", "/p.gif?site=s", nil, c.headers...))
			if len(rec.events) != 1 {
				t.Fatalf("%d events; want 1", len(rec.events))
			}
			got := rec.events[0].ClientIP
			for _, a := range attackerIPs {
				if got == netip.MustParseAddr(a) {
					t.Fatalf("record address %s is the attacker's choice", got)
				}
			}
			if got.String() != c.want {
				t.Fatalf("record address %s; want %s", got, c.want)
			}
		})
	}
}

// TestClientIPForwardedHeader configures Forwarded as the one header: then
// X-Forwarded-For is the client's to forge, and is ignored.
func TestClientIPForwardedHeader(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	rec := &recorder{}
	g := New(Settings{Handler: rec, TrustedProxies: trusted, ClientIPHeader: "forwarded"}, nil)
	f := func(want string, headers ...string) {
		t.Helper()
		rec.events = rec.events[:0]
		newDriver(g, proxyPeer).do(rawRequest("GET", "/p.gif?site=s", nil, headers...))
		if got := rec.events[0].ClientIP.String(); got != want {
			t.Fatalf("%q: got %s; want %s", headers, got, want)
		}
	}
	f(realClient, "X-Forwarded-For", "6.6.6.6", "Forwarded", "for="+realClient)
	f(realClient, "Forwarded", "for=6.6.6.6", "Forwarded", "for="+realClient+";proto=https")
	f(realClient6, "Forwarded", `for="[2001:db8::6]:1"`, "Forwarded", `for="[`+realClient6+`]:4711";proto=https, for=10.2.2.2`)
	f(realClient, "Forwarded", `for="`+realClient+`:4711"`)
	f(realClient, "Forwarded", "for=_hidden", "Forwarded", "for="+realClient)
	f(proxyPeer, "Forwarded", "for=unknown")                  // nothing believable: the proxy
	f(proxyPeer, "X-Forwarded-For", "6.6.6.6")                // the other header is ignored
	f("10.2.2.2", "Forwarded", "for=garbage, for=10.2.2.2")   // garbage left of our proxies: the last proxy
	f(realClient, "Forwarded", "by=10.0.0.1;for="+realClient) // for= in any position
}

// TestClientIPForwardedQuoted: RFC 7239 values may be quoted-strings holding
// commas and semicolons. A proxy that forwards the Host the client sent
// quotes it inside its own element, so splitting on every comma or
// semicolon let a Host such as `a,for=6.6.6.6;x=` become an element of its
// own, right of the client's, and its address the record's.
func TestClientIPForwardedQuoted(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	rec := &recorder{}
	g := New(Settings{Handler: rec, TrustedProxies: trusted, ClientIPHeader: "Forwarded"}, nil)
	f := func(want string, headers ...string) {
		t.Helper()
		rec.events = rec.events[:0]
		newDriver(g, proxyPeer).do(rawRequest("GET", "/p.gif?site=s", nil, headers...))
		if got := rec.events[0].ClientIP.String(); got != want {
			t.Fatalf("%q: got %s; want %s", headers, got, want)
		}
	}
	f(realClient, "Forwarded", `for=`+realClient+`;host="a,for=6.6.6.6;x="`)
	f(realClient, "Forwarded", `for=`+realClient+`;host="a,for=6.6.6.6;x=";proto=https`)
	f(realClient, "Forwarded", `host="a;for=6.6.6.6";for=`+realClient)
	f(realClient, "Forwarded", `for=`+realClient+`;host="a, b"`)
	f(realClient, "Forwarded", `for=`+realClient+`;host="a\",for=6.6.6.6;x=\""`)
	f(realClient, "Forwarded", `for="6.6.6.6, for=`+realClient)                            // the client's open quote, then our proxy's element
	f(realClient, "Forwarded", `for=6.6.6.6;host="x,y", for=`+realClient+`, for=10.2.2.2`) // a quoted comma left of trusted hops
	f(proxyPeer, "Forwarded", `for=`+realClient+`;host="a`)                                // unbalanced in our proxy's element: malformed
}

// TestClientIPForwardedObfuscatedPort: RFC 7239 lets a proxy hide the
// client's port (node-port = port / obfport, "_" and letters, digits, '.',
// '_', '-'). Such an element was malformed, so the walk stopped at the
// proxy: every client behind it got the proxy's address in its record and
// geo, and they all shared one per-client limit.
func TestClientIPForwardedObfuscatedPort(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	rec := &recorder{}
	g := New(Settings{Handler: rec, TrustedProxies: trusted, ClientIPHeader: "Forwarded"}, nil)
	f := func(want string, headers ...string) {
		t.Helper()
		rec.events = rec.events[:0]
		newDriver(g, proxyPeer).do(rawRequest("GET", "/p.gif?site=s", nil, headers...))
		if got := rec.events[0].ClientIP.String(); got != want {
			t.Fatalf("%q: got %s; want %s", headers, got, want)
		}
	}
	f(realClient, "Forwarded", `for="`+realClient+`:_abc"`)
	f(realClient, "Forwarded", `for="`+realClient+`:_a.b-c_9";proto=https`)
	f(realClient6, "Forwarded", `for="[`+realClient6+`]:_x"`)
	f(realClient, "Forwarded", `for="6.6.6.6:_p", for="`+realClient+`:_q", for="10.2.2.2:_r"`)
	f(proxyPeer, "Forwarded", `for="`+realClient+`:_"`)    // "_" alone is no obfport
	f(proxyPeer, "Forwarded", `for="`+realClient+`:_a/b"`) // nor with other bytes
	f(proxyPeer, "Forwarded", `for="2001:db8::7:_ab"`)     // an IPv6 address takes brackets for a port
}

func TestParseNodeAddr(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		a, ok := parseNodeAddr([]byte(in))
		got := "invalid"
		if ok {
			got = a.String()
		}
		if got != want {
			t.Fatalf("%q: got %s; want %s", in, got, want)
		}
	}
	f("192.0.2.1", "192.0.2.1")
	f("192.0.2.1:4711", "192.0.2.1")
	f("2001:db8::1", "2001:db8::1")
	f("[2001:db8::1]", "2001:db8::1")
	f("[2001:db8::1]:4711", "2001:db8::1")
	f("::ffff:192.0.2.1", "192.0.2.1")
	f("192.0.2.1:", "invalid")
	f("192.0.2.1:http", "invalid")
	f("192.0.2.1:1234567", "invalid")
	f("[2001:db8::1", "invalid")
	f("[2001:db8::1]x", "invalid")
	f("[192.0.2.1]:80", "invalid") // brackets are for IPv6
	f("fe80::1%eth0", "invalid")
	f("[fe80::1%eth0]:80", "invalid")
	f("unknown", "invalid")
	f("", "invalid")
}
