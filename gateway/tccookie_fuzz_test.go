package gateway

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/event"
)

// FuzzTCCookieHeaders compares the gateway's reading of the euconsent-v2
// cookies from the raw header lines (tcCookies) with fasthttp's own: for
// header lines fasthttp reads, Cookie lines folded or not, the copies
// tcCookies takes are the non-empty euconsent-v2 cookies fasthttp parses,
// in order, so a TC string is seen, conflicting, refused or stored exactly
// as those copies say. Input with '"' or '\' is left out: fasthttp drops
// such a cookie, which the gateway reads on purpose (tcCookies).
// The usprivacy cookies are compared by what the engine makes of them
// (uspReading): a folded value is unreadable to both readings, the
// gateway's marks it so rather than rebuilding it.
func FuzzTCCookieHeaders(f *testing.F) {
	for _, s := range []string{
		"Cookie: a=1; euconsent-v2=AAA",
		"Cookie: euconsent-v2=AAA\r\n x",
		"Cookie:\r\n euconsent-v2=BBB\r\nCookie: euconsent-v2=AAA",
		"Cookie: a=1; euconsent-v2\r\n =BBB",
		"Cookie: euconsent-v2=AAA; a=1\r\n euconsent-v2=BBB",
		"cookie: xeuconsent-v2=A; euconsent-v2x=B; EUCONSENT-V2=C;euconsent-v2=D=E",
		"X-Other: a\r\n euconsent-v2=B\r\nCOOKIE: euconsent-v2= ;euconsent-v2=\t\r\n\tA \r\n",
		"Cookie: euconsent-v2=A\nCookie: euconsent-v2=A\n",
		"Cookie: usprivacy=1YNN; a=1\r\nCookie: usprivacy=1YNN\r\n x",
		"Cookie: usprivacy= 1YYN ;usprivacy=1YYN; USPRIVACY=1NNN",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, lines string) {
		if strings.ContainsAny(lines, "\"\\") {
			return
		}
		var h fasthttp.RequestHeader
		req := "GET /p.gif HTTP/1.1\r\nHost: collect.example\r\n" + lines + "\r\n\r\n"
		br := bufio.NewReader(strings.NewReader(req))
		if err := h.Read(br); err != nil || br.Buffered() != 0 {
			return // not a header fasthttp reads, or not all of the input
		}
		var want event.Consent
		wantBad := false
		for k, v := range h.Cookies() {
			if string(k) == cookieUSP && len(v) > 0 {
				if want.Seen&event.ConflictUSPrivacy != 0 && !bytes.Equal(want.USPrivacy, v) {
					want.Conflicts |= event.ConflictUSPrivacy
				}
				want.Seen |= event.ConflictUSPrivacy
				want.USPrivacy = append(want.USPrivacy[:0], v...)
				continue
			}
			if string(k) != cookieTC || len(v) == 0 {
				continue
			}
			if want.Seen != 0 && !bytes.Equal(want.TCString, v) {
				want.Conflicts |= event.ConflictTCString
			}
			want.Seen |= event.ConflictTCString
			if len(v) > maxConsentLen || !utf8.Valid(v) {
				wantBad = true
				break
			}
			want.TCString = append(want.TCString[:0], v...)
		}
		var e event.Event
		p := tcCookies(&e, h.RawHeaders())
		if p.bad() != wantBad {
			t.Fatalf("refused %v (%+v); fasthttp's cookies say %v\n%q", p.bad(), p, wantBad, h.RawHeaders())
		}
		if wantBad {
			return
		}
		c := &e.Consent
		const tcBits = event.ConflictTCString
		if c.Seen&tcBits != want.Seen&tcBits || c.Conflicts&tcBits != want.Conflicts&tcBits || !bytes.Equal(c.TCString, want.TCString) {
			t.Fatalf("read seen %b conflicts %b %q; fasthttp's cookies say seen %b conflicts %b %q\n%q",
				c.Seen, c.Conflicts, c.TCString, want.Seen, want.Conflicts, want.TCString, h.RawHeaders())
		}
		if got, w := uspReading(c), uspReading(&want); got != w {
			t.Fatalf("usprivacy read as %s (%q); fasthttp's cookies say %s (%q)\n%q", got, c.USPrivacy, w, want.USPrivacy, h.RawHeaders())
		}
	})
}

// uspReading is what the engine makes of c's US Privacy signal: absent,
// malformed (unreadable, or copies that differ) or the decoded flags.
func uspReading(c *event.Consent) string {
	switch {
	case c.Seen&event.ConflictUSPrivacy == 0:
		return "absent"
	case c.Conflicts&event.ConflictUSPrivacy != 0:
		return "malformed"
	}
	u, err := consent.ParseUSPrivacy(c.USPrivacy)
	if err != nil {
		return "malformed"
	}
	return u.Notice.String() + u.OptOutSale.String() + u.LSPACovered.String()
}
