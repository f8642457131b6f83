package gateway

import (
	"fmt"
	"strings"
	"testing"
)

// TestUSPrivacyCookie: the usprivacy cookie, where CCPA CMPs (the IAB US
// Privacy API) store the string, is read as the us_privacy parameter is, as
// the euconsent-v2 cookie is read for gdpr_consent: a page whose banner
// speaks only US Privacy reaches the gateway with its opt-out of sale in
// every same-site pixel and sendBeacon request, which bg.js cannot read
// for it. A value no US Privacy string can be (too long for the field,
// not UTF-8, folded) is an unreadable signal, never a refused request: the
// cookie is the CMP's, and a 400 would lose the site's events.
func TestUSPrivacyCookie(t *testing.T) {
	p, dr, _, _ := newTCCookieRig(t)
	route := func(query, cookies string) string {
		t.Helper()
		raw := "GET /p.gif?site=shop.example&consent=analytics,ads" + query + " HTTP/1.1\r\nHost: collect.example\r\n" + cookies + "\r\n\r\n"
		out := sendHTTP(t, p, dr, []byte(raw))
		var dests []string
		var consent any
		for _, name := range p.names {
			if m, ok := out.events["pageview"][name]; ok {
				dests = append(dests, name)
				consent = m["consent"]
			}
		}
		return fmt.Sprintf("[%s] %v", strings.Join(dests, ","), consent)
	}
	for v, want := range map[string]string{"1YYN": "[all]", "1YNN": "[all,retargeting]", "1---": "[all,retargeting]"} {
		got := route("", "Cookie: a=1; usprivacy="+v)
		if !strings.HasPrefix(got, want+" ") {
			t.Errorf("usprivacy=%s: %s; want %s", v, got, want)
		}
		if byParam := route("&us_privacy="+v, ""); got != byParam {
			t.Errorf("usprivacy=%s: cookie %s, parameter %s", v, got, byParam)
		}
	}
	for _, c := range []struct{ name, query, cookies, same string }{
		{"lower case", "", "Cookie: usprivacy=1ynn", "&us_privacy=1ynn"},
		{"quoted", "", `Cookie: usprivacy="1YYN"`, "&us_privacy=1YYN"},
		{"on a second line", "", "Cookie: a=1\r\nCookie: usprivacy=1YYN", "&us_privacy=1YYN"},
		{"equal to the parameter", "&us_privacy=1YYN", "Cookie: usprivacy=1YYN", "&us_privacy=1YYN"},
		{"unlike the parameter", "&us_privacy=1YNN", "Cookie: usprivacy=1YYN", "&us_privacy=1YNN&us_privacy=1YYN"},
		{"two copies unlike", "", "Cookie: usprivacy=1YNN; usprivacy=1YYN", "&us_privacy=1YNN&us_privacy=1YYN"},
		{"empty", "", "Cookie: usprivacy=", ""},
		{"a cookie named like it", "", "Cookie: xusprivacy=1YYN; usprivacyx=1YYN", ""},
		{"too long", "", "Cookie: usprivacy=" + strings.Repeat("1YYN", 100), "&us_privacy=bad"},
		{"not UTF-8", "", "Cookie: usprivacy=1Y\xffN", "&us_privacy=bad"},
		{"folded", "", "Cookie: usprivacy=1YNN\r\n x", "&us_privacy=bad"},
	} {
		if got, want := route(c.query, c.cookies), route(c.same, ""); got != want {
			t.Errorf("%s: %s; want %s", c.name, got, want)
		}
	}
}
