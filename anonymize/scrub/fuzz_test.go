package scrub

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

const plantedEmail = "jane.doe@example.org"

// plantedForms are the forms of the planted e-mail that plant inserts:
// as written, percent-encoded, and obfuscated (those with blanks in them
// between blanks, as words: planted inside a word of free text, such as a
// URL, they would be words of it).
var plantedForms = [...]string{plantedEmail, "jane.doe%40example.org", "jane.doe%2540example.org",
	"jane.doe(at)example.org", " jane.doe [at] example [dot] org ", " jane dot doe at example dot org "}

// obfuscatedForms are the obfuscated forms of plantedForms, which
// emailSurvives looks for too.
var obfuscatedForms = [...]string{"jane.doe(at)example.org", "jane.doe [at] example [dot] org", "jane dot doe at example dot org"}

// plant inserts a form of the planted e-mail into data at a position
// chosen by where.
func plant(data []byte, where uint16) []byte {
	form := plantedForms[int(where)%len(plantedForms)]
	at := 0
	if len(data) > 0 {
		at = int(where>>2) % (len(data) + 1)
	}
	out := make([]byte, 0, len(data)+len(form))
	out = append(out, data[:at]...)
	out = append(out, form...)
	return append(out, data[at:]...)
}

// emailSurvives reports whether out, decoded as a reader would, holds the
// planted address, as written or obfuscated.
func emailSurvives(out []byte) bool {
	s := string(out)
	holds := func(s string) bool {
		if strings.Contains(s, plantedEmail) {
			return true
		}
		for _, f := range obfuscatedForms {
			if strings.Contains(f, " at ") && containsWhole(s, f) || !strings.Contains(f, " at ") && strings.Contains(s, f) {
				return true
			}
		}
		return false
	}
	for i := 0; i <= maxDecodeRounds; i++ {
		if holds(s) {
			return true
		}
		if d, err := url.PathUnescape(s); err == nil {
			s = d
		}
	}
	return holds(s)
}

// containsWhole reports whether s holds f not followed by a letter: the
// address's top-level domain is a whole word there. It is for the form
// written out in words (the bracketed ones are caught whatever follows). "jane dot doe at
// example dot orgA00" holds no address ("orgA" is no TLD, and written-out
// forms take known TLDs only, so that "home dot community" stays prose),
// though "jane dot doe at example dot org00" does.
func containsWhole(s, f string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], f)
		if j < 0 {
			return false
		}
		end := i + j + len(f)
		if end == len(s) || !(s[end]|0x20 >= 'a' && s[end]|0x20 <= 'z' || s[end] >= 0x80) {
			return true
		}
		i += j + 1
	}
}

func fuzzSeeds(f *testing.F) {
	for _, s := range []string{
		"", "/", "//", "https://", "https://a.example/", "http://[::1]:80/x?y#z",
		"https://User:pw@A.example:8080/users/jane@example.org/x?gclid=1&q=2#frag",
		"https://a.example/?q=jane.doe%2540example.org&utm_source=x#/r/0151%2012345678?token=abc&z",
		"https://a.example/pay/4111-1111-1111-1111?i=DE89+3704+0044+0532+0130+00",
		"https://a.example/#?x?gclid=1", "https://a.example/#a=b?c", "https://a.example/#?a&b=1",
		"mailto:x@y.z", "javascript:alert(1)", "/rel/a\tb", "https://a.example/%zz%", "android-app://com.x/y",
		"Call +49 151 12345678, mail jane@example.org, IBAN GB82 WEST 1234 5698 7654 32.",
		"2024-01-15 0151 1234567 (4111 1111 1111 1111) 550e8400-e29b-41d4-a716-446655440000",
		"see (https://a.example/?gclid=1) and a%40b.com, 100% sure",
		"Grüße – jörg@müller.de ☎ 030 12345678",
		// Issue 18 detectors.
		"http://10.1.2.3:8080/p/2001:db8::1/x;jsessionid=AB12?mac=00:1A:2B:3C:4D:5E&m=001a.2b3c.4d5e",
		"https://a.example/u/12345678Z/X1234567L/AB 12 34 56 C/RSSMRA85T10A562S/86095742719/111222333",
		"Jane's iPhone, Jörg’s MacBook Pro, 1 85 05 78 006 084 91, 4915112345678, +1 555.123.4567",
		"amFuZS5kb2VAZXhhbXBsZS5vcmc= eyJhbGciOiJIUzI1NiJ9 QmVyLkFqZXRaWFlCUGdVFR Chrome/120.0.0.0",
		"https://a.example/?utm_campaign=5f2b8a1c9d3e4f6a&passwort=x&r=a%2525252540b.com",
		"4111.1111.1111.1111 4111  1111  1111  1111 DE89-3704-0044-0532-0130-00",
		// Spaced slashes and grouped tax ids (2026-12-07).
		"Tel. 0151 / 1234 5678, 030 /  12 34, 1 / 2, IdNr 65 929 970 489 / 65 929 970 488",
		"https://a.example/?first-name=Z&Date-Of-Birth=1990-04-01&n=0151+%2F+1234+5678",
		// Prefixed field names, AWS key ids, dotted DNIs (2026-12-07).
		"https://a.example/k/AKIA2E3Q7MNPL4RSTUVW?billing-first-name=Z&confirmPassword=x&user[first_name]=Z&dni=12.345.678-Z",
		"ASIA5T7K3Z2QJXWY6ABC X-1.234.567-L 12.345.678 m 12.345.678.901Z AKIA2E3Q7MNPL4RSTUV",
		// Full-width forms and dashes the scanner folds.
		"電話：０９０－１２３４－５６７８ ｊａｎｅ＠ｅｘａｍｐｌｅ．ｊｐ ４１１１　１１１１　１１１１　１１１１ 090ー1234‐5678",
		"https://a.example/u/jane＠example.org/%EF%BC%90%EF%BC%99%EF%BC%90?q=＋８１ ９０ １２３４ ５６７８",
		"اتصل ٠٥٠ ١٢٣ ٤٥٦٧ ۰۹۱۲ ۳۴۵ ۶۷۸۹ फ़ोन +९१ ९८७६५ ४३२१०",
		// Addresses written to dodge harvesters, and prose that is not one.
		"jane.doe(at)example.org, jane.doe [at] example [dot] org, jane.doe{at}example.org, j<at>x<dot>de",
		"jane dot doe at example dot org; jane (at) example (dot) co (dot) uk; jane.doe @ example.org",
		"meet me at the station, look at example.com, at home dot matrix, visit us at example dot com",
		"https://a.example/u/jane.doe(at)example.org?q=jane.doe+%5Bat%5D+example+%5Bdot%5D+org#c=jane%20at%20x%20(dot)%20de",
		"jane.doe（at）example．org a dot b dot c at d [dot] com (at) [at] x(at)y.z",
		// Percent-encoded UTF-8: an address with non-ASCII parts, one
		// with every byte escaped, one in full-width forms.
		"https://a.example/u/j%C3%B6rg%40m%C3%BCller.de?e=j%C3%B6rg%40m%C3%BCller.de#e=j%C3%B6rg%40m%C3%BCller.de",
		"https://a.example/?e=%6A%61%6E%65%40%65%78%61%6D%70%6C%65%2E%6F%72%67&f=jane%2Edoe%40example%2Eorg",
		"https://a.example/?e=%EF%BD%8A%EF%BD%81%EF%BD%8E%EF%BD%85%EF%BC%A0%EF%BD%85%EF%BD%98%EF%BD%81%EF%BD%8D%EF%BD%90%EF%BD%8C%EF%BD%85%EF%BC%8E%EF%BD%8A%EF%BD%90",
		// An address escaped as often as the scrubber decodes, and once more.
		"https://a.example/u/jane.doe%" + strings.Repeat("25", maxDecodeRounds-1) + "40example.org?e=jane.doe%" + strings.Repeat("25", maxDecodeRounds) + "40example.org",
		// An address with its at sign as an HTML character reference in a
		// URL as sent (2026-12-07).
		"https://a.example/u/jane.doe&#64;example.org/o?gclid=1&to=j&commat;x.org&amp;p=2#k=a&#x40;b.de",
		// References for spaces between a number's groups, escaped twice,
		// and localised dot words between brackets (2026-12-07).
		"+49&nbsp;151&#160;2345&thinsp;6789 jane.doe&amp;#64;example.org Tom&nbsp;&amp;&nbsp;Jerry &amp;amp;#64; a&#xFF20;b&#12290;jp",
		"https://a.example/u/jane.doe&amp;#64;example.org?q=info+%5Bat%5D+firma+%5Bpunkt%5D+de&r=j(at)x(point)fr&s=Treffpunkt (at) 10",
		// Empty parts everywhere.
		"https://a.example/?=&&=x&e=#", "https://:@a.example:/", "?", "#",
	} {
		f.Add([]byte(s), uint16(len(s)*7))
	}
}

func FuzzAppendURL(f *testing.F) {
	fuzzSeeds(f)
	c := MustNew(Options{ExtraClickIDs: []string{"ref"}})
	f.Fuzz(func(t *testing.T, data []byte, where uint16) {
		for _, mode := range []URLMode{URLOrigin, URLPath, URLClean} {
			out, _ := c.AppendURL(nil, data, mode)
			if utf8.Valid(data) && !utf8.Valid(out) {
				t.Fatalf("%s: invalid UTF-8 out of valid input %q: %q", mode, data, out)
			}
			again, _ := c.AppendURL(nil, out, mode)
			if !bytes.Equal(again, out) {
				t.Fatalf("%s: not idempotent:\n in   %q\n once %q\n twice %q", mode, data, out, again)
			}
			in := plant(data, where)
			if out, _ := c.AppendURL(nil, in, mode); emailSurvives(out) {
				t.Fatalf("%s: planted e-mail survived: %q -> %q", mode, in, out)
			}
		}
		if !raceEnabled {
			dst := make([]byte, 0, 4*len(data)+64)
			if n := testing.AllocsPerRun(5, func() { dst, _ = c.AppendURL(dst[:0], data, URLClean) }); n != 0 {
				t.Fatalf("%q: %v allocs per AppendURL with a large enough dst; want 0", data, n)
			}
		}
	})
}

func FuzzAppendText(f *testing.F) {
	fuzzSeeds(f)
	c := MustNew(Options{})
	f.Fuzz(func(t *testing.T, data []byte, where uint16) {
		out, _ := c.AppendText(nil, data)
		if utf8.Valid(data) && !utf8.Valid(out) {
			t.Fatalf("invalid UTF-8 out of valid input %q: %q", data, out)
		}
		again, _ := c.AppendText(nil, out)
		if !bytes.Equal(again, out) {
			t.Fatalf("not idempotent:\n in   %q\n once %q\n twice %q", data, out, again)
		}
		in := plant(data, where)
		if out, _ := c.AppendText(nil, in); emailSurvives(out) {
			t.Fatalf("planted e-mail survived: %q -> %q", in, out)
		}
		// indexAtToken finds what reading byte by byte would, and
		// nextObfuscated what trying every local part would.
		for _, b := range [][]byte{data, in} {
			want := -1
			for i := 1; i < len(b); i++ {
				if atTokenAt(b, i) {
					want = i
					break
				}
			}
			if got := indexAtToken(b, 0); got != want {
				t.Fatalf("indexAtToken(%q) = %d; want %d", b, got, want)
			}
			// nextSpan calls nextObfuscated only without an '@' (features
			// gives featObf alone): with one, matchObfuscated also reads a
			// real at sign glued to the local part, which only nextSpan's
			// loop tries.
			for from := 0; from < len(b) && bytes.IndexByte(b, '@') < 0; {
				s, e := nextObfuscated(b, from)
				ws, we := -1, -1
				for i := from; i < len(b); i++ {
					if class[b[i]]&cLocal != 0 && (i == from || class[b[i-1]]&cLocal == 0 || afterGluedAt(b, from, i)) {
						if end := matchObfuscated(b, i); end > 0 {
							ws, we = i, end
							break
						}
					}
				}
				if s != ws || e != we {
					t.Fatalf("nextObfuscated(%q, %d) = %d, %d; trying every local part gives %d, %d", b, from, s, e, ws, we)
				}
				if s < 0 {
					break
				}
				from = e
			}
		}
		// The same as a User-Agent header.
		ua, _ := c.AppendUserAgent(nil, data)
		if again, _ := c.AppendUserAgent(nil, ua); !bytes.Equal(again, ua) {
			t.Fatalf("user agent: not idempotent:\n in   %q\n once %q\n twice %q", data, ua, again)
		}
		if out, _ := c.AppendUserAgent(nil, in); emailSurvives(out) {
			t.Fatalf("user agent: planted e-mail survived: %q -> %q", in, out)
		}
		if !raceEnabled {
			dst := make([]byte, 0, 4*len(data)+64)
			if n := testing.AllocsPerRun(5, func() { dst, _ = c.AppendText(dst[:0], data) }); n != 0 {
				t.Fatalf("%q: %v allocs per AppendText with a large enough dst; want 0", data, n)
			}
		}
	})
}

// FuzzAppendPageURL checks page URLs of a site with declared hosts and
// routes: idempotent, valid UTF-8, the planted e-mail never survives, no
// allocation with a large enough dst.
func FuzzAppendPageURL(f *testing.F) {
	fuzzSeeds(f)
	for _, s := range []string{
		"https://shop.example/products/555-1234", "https://jane.shop.example/user/jane/orders",
		"https://shop.example/orders/550e8400-e29b-41d4-a716-446655440000?x=1", "https://evil.example/",
		"https://shop.example/blog/top-10-x/extra", "https://shop.example/customers/K1234567#/r",
		"https://shop.example:8443/archive/2024", "//shop.example/reset/aBcDeFgHiJkL",
	} {
		f.Add([]byte(s), uint16(len(s)*5))
	}
	site := []byte(shopSite.ID)
	f.Fuzz(func(t *testing.T, data []byte, where uint16) {
		for _, mode := range []URLMode{URLOrigin, URLPath, URLClean} {
			out, _ := siteCleaner.AppendPageURL(nil, data, mode, site)
			if utf8.Valid(data) && !utf8.Valid(out) {
				t.Fatalf("%s: invalid UTF-8 out of valid input %q: %q", mode, data, out)
			}
			again, _ := siteCleaner.AppendPageURL(nil, out, mode, site)
			if !bytes.Equal(again, out) {
				t.Fatalf("%s: not idempotent:\n in   %q\n once %q\n twice %q", mode, data, out, again)
			}
			in := plant(data, where)
			if out, _ := siteCleaner.AppendPageURL(nil, in, mode, site); emailSurvives(out) {
				t.Fatalf("%s: planted e-mail survived: %q -> %q", mode, in, out)
			}
		}
		if !raceEnabled {
			dst := make([]byte, 0, 4*len(data)+64)
			if n := testing.AllocsPerRun(5, func() { dst, _ = siteCleaner.AppendPageURL(dst[:0], data, URLPath, site) }); n != 0 {
				t.Fatalf("%q: %v allocs per AppendPageURL with a large enough dst; want 0", data, n)
			}
		}
	})
}

// FuzzParseRoute: any route text gives a route or a reason, never a panic,
// and a route accepted by ParseRoute compiles.
func FuzzParseRoute(f *testing.F) {
	for _, s := range []string{"/products/{sku}", "/user/{id}/orders", "/o/{order:uuid}", "/p/{x", "p", "/{}", "//", "/a/{slug}/{number}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, r string) {
		if ParseRoute(r) != "" {
			return
		}
		if _, err := New(Options{Sites: []Site{{ID: "s", Routes: []string{r}}}}); err != nil {
			t.Fatalf("ParseRoute accepted %q but New failed: %v", r, err)
		}
	})
}

// FuzzIDFindings: any identifier is judged without a panic, with numbers
// only, and a planted card number is found wherever it stands.
func FuzzIDFindings(f *testing.F) {
	for _, s := range []string{"Qm9vbXNoYWthbGFrYTEyMw", "card-4111111111111111", "iban_DE89370400440532013000", "INV-2024-0815", "4111_1111_1111_1111", "1733412345678"} {
		f.Add([]byte(s))
	}
	c := MustNew(Options{})
	f.Fuzz(func(t *testing.T, id []byte) {
		scratch, found := c.IDFindings(nil, id)
		if found&^numberKinds != 0 {
			t.Fatalf("%q: %s; want numbers only", id, found)
		}
		planted := append(append(append([]byte{}, id...), 'x'), "4111111111111111"...)
		if _, found := c.IDFindings(scratch, planted); !found.Has(KindCard) {
			t.Fatalf("%q: the card after it not found (%s)", planted, found)
		}
		planted = append(append(append([]byte{}, id...), 'x'), "DE89370400440532013000"...)
		if _, found := c.IDFindings(scratch, planted); !found.Has(KindIBAN) {
			t.Fatalf("%q: the IBAN after it not found (%s)", planted, found)
		}
	})
}
