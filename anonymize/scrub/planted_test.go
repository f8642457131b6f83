package scrub

import (
	"net/url"
	"strings"
	"testing"
)

// planted are personal data of every kind, as people write them.
var planted = []struct {
	kind  Kind
	value string
}{
	{KindEmail, "jane.doe@example.org"},
	{KindEmail, "j.smith+tag@mail.example.co.uk"},
	{KindEmail, "jörg@müller.de"},
	{KindEmail, "sean.o'connor@example.ie"},
	{KindEmail, `"jane doe"@example.org`},
	{KindEmail, "jane.doe@[192.0.2.1]"},
	// Written to dodge harvesters.
	{KindEmail, "jane.doe(at)mailbox.org"},
	{KindEmail, "jane.doe [at] posteo [dot] de"},
	{KindEmail, "j.smith (at) mailbox (dot) co (dot) uk"},
	{KindEmail, "jane.doe{at}mailbox.org"},
	{KindEmail, "jane dot doe at posteo dot de"},
	{KindEmail, "jane.doe AT posteo DOT de"},
	{KindPhone, "+49 151 12345678"},
	{KindPhone, "+1 (555) 123-4567"},
	{KindPhone, "030 12345678"},
	{KindPhone, "0044 20 7946 0958"},
	{KindPhone, "555-123-4567"},
	// Spanish numbers have no trunk prefix: written nationally as 3-2-2-2
	// (mobiles) or 2-3-2-2 (Madrid, Barcelona) digits.
	{KindPhone, "612 34 56 78"},
	{KindPhone, "91 123 45 67"},
	// German forms: the area code set off by " / " (DIN 5008, old).
	{KindPhone, "0151 / 1234 5678"},
	{KindPhone, "030 / 12 34 56 78"},
	// The German tax id (Steuer-ID) grouped as printed on payslips.
	{KindNationalID, "65 929 970 489"},
	// The UK National Insurance number as printed, in pairs.
	{KindNationalID, "AB 12 34 56 C"},
	{KindCard, "4111 1111 1111 1111"},
	{KindCard, "5500-0000-0000-0004"},
	{KindCard, "378282246310005"},
	// Groups set off by a dash between spaces, as people type them.
	{KindCard, "4111 - 1111 - 1111 - 1111"},
	{KindCard, "5500 – 0000 – 0000 – 0004"},
	// Underscores between groups, as some form fields join them.
	{KindCard, "4111_1111_1111_1111"},
	{KindCard, "5500_0000_0000_0004"},
	{KindPhone, "0151 - 1234 5678"},
	{KindPhone, "+49 30 - 1234567"},
	{KindIBAN, "DE89 3704 0044 0532 0130 00"},
	{KindIBAN, "GB82WEST12345698765432"},
	{KindIBAN, "FR1420041010050500013M02606"},
	{KindToken, "5f2b8a1c9d3e4f6a7b8c9d0e1f2a3b4c"},
	{KindToken, "550e8400-e29b-41d4-a716-446655440000"},
	{KindToken, "sk_live_51HqLyjWDarjtT1zdp7dcXYZabc123"},
	// As Japanese, Chinese and Korean input methods type them.
	{KindEmail, "ｊａｎｅ．ｄｏｅ＠ｅｘａｍｐｌｅ．ｊｐ"},
	{KindEmail, "yamada＠example.co.jp"},
	{KindPhone, "０９０－１２３４－５６７８"},
	{KindPhone, "０３ー１２３４ー５６７８"},
	{KindPhone, "＋８１ ９０ １２３４ ５６７８"},
	{KindCard, "４１１１　１１１１　１１１１　１１１１"},
	// Arabic-Indic, Persian and Devanagari digits.
	{KindPhone, "٠٥٠ ١٢٣ ٤٥٦٧"},
	{KindPhone, "۰۹۱۲ ۳۴۵ ۶۷۸۹"},
	{KindPhone, "+९१ ९८७६५ ४३२१०"},
}

// encodings are the ways a value reaches a URL.
var encodings = []struct {
	name string
	enc  func(string) string
}{
	{"path", url.PathEscape},
	{"query", url.QueryEscape}, // spaces become '+'
	{"all", escapeAll},
	{"double", func(s string) string { return url.QueryEscape(url.QueryEscape(s)) }},
}

func escapeAll(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte('%')
		b.WriteByte(hex[s[i]>>4])
		b.WriteByte(hex[s[i]&15])
	}
	return b.String()
}

var urlTemplates = []string{
	"https://shop.example/a/{v}/b",
	"https://shop.example/a/{v}",
	"https://shop.example/?x=1&q={v}&y=2",
	"https://shop.example/?{v}",
	"https://shop.example/?utm_content={v}",
	"https://shop.example/#k={v}&z=1",
	"https://shop.example/#/r/{v}?z=1",
	"https://shop.example/#/r?z=1&k={v}",
	"https://shop.example/#{v}",
	"//shop.example/p?ref={v}",
	"/relative/{v}?a={v}",
}

var textTemplates = []string{
	"{v}",
	"Hello, {v}!",
	"contact ({v}) or not",
	"name: Jane\nvalue: {v}\n",
	"x=1&q={v}",
	"Grüße – {v} – ☺",
}

// leaks reports whether out, decoded as far as a reader could, still holds
// v, or v without its separators.
func leaks(out, v string) bool {
	s := out
	for i := 0; i < maxDecodeRounds+1; i++ {
		if d, err := url.QueryUnescape(s); err == nil {
			s = d
		}
		if d, err := url.PathUnescape(s); err == nil {
			s = d
		}
	}
	compact := func(x string) string {
		return strings.NewReplacer(" ", "", "-", "", "(", "", ")", "", "+", "", "/", "").Replace(x)
	}
	if strings.Contains(out, v) || strings.Contains(s, v) || strings.Contains(compact(s), compact(v)) {
		return true
	}
	// No part of it either: every group of 4 or more characters between
	// separators must be gone ("DE89+[phone]+0130" leaks "DE89" and "0130").
	for _, g := range strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(" -()+/", r) }) {
		if len(g) >= 4 && strings.Contains(s, g) {
			return true
		}
	}
	return false
}

func TestPlantedURLs(t *testing.T) {
	n := 0
	for _, p := range planted {
		for _, e := range encodings {
			for _, tmpl := range urlTemplates {
				in := strings.ReplaceAll(tmpl, "{v}", e.enc(p.value))
				for _, mode := range []URLMode{URLOrigin, URLPath, URLClean} {
					out, found := defaultCleaner.AppendURL(nil, []byte(in), mode)
					n++
					if leaks(string(out), p.value) {
						t.Errorf("%s %q (%s, %s): leaked in %q", p.kind, p.value, e.name, mode, out)
					}
					if mode == URLClean && !found.Has(p.kind) && !found.Has(KindMalformed) {
						t.Errorf("%s %q (%s): found %s, want %s in %q -> %q", p.kind, p.value, e.name, found, p.kind, in, out)
					}
				}
			}
		}
	}
	t.Logf("%d planted URLs, none leaked", n)
}

func TestPlantedText(t *testing.T) {
	n := 0
	for _, p := range planted {
		for _, enc := range []func(string) string{
			func(s string) string { return s },
			url.QueryEscape,
			// Escaped twice, as a form that posts a URL-escaped value ("%2540").
			func(s string) string { return url.QueryEscape(url.QueryEscape(s)) },
			func(s string) string { return "https://shop.example/?q=" + url.QueryEscape(s) },
			func(s string) string { return "https://shop.example/u/" + url.PathEscape(s) + "/x" },
		} {
			for _, tmpl := range textTemplates {
				in := strings.ReplaceAll(tmpl, "{v}", enc(p.value))
				out, found := defaultCleaner.AppendText(nil, []byte(in))
				n++
				if leaks(string(out), p.value) {
					t.Errorf("%s %q: leaked: %q -> %q", p.kind, p.value, in, out)
				}
				if !found.Has(p.kind) {
					t.Errorf("%s %q: found %s: %q -> %q", p.kind, p.value, found, in, out)
				}
			}
		}
	}
	t.Logf("%d planted texts, none leaked", n)
}

// TestPlantedKeepsTheRest checks that cleaning removes only what it must.
func TestPlantedKeepsTheRest(t *testing.T) {
	in := "https://shop.example/a/" + url.PathEscape("jane.doe@example.org") + "/b?x=1&q=" + url.QueryEscape("4111 1111 1111 1111") + "&y=2#/r/" + url.PathEscape("+49 151 12345678") + "?z=1"
	out, found := defaultCleaner.AppendURL(nil, []byte(in), URLClean)
	if want := "https://shop.example/a/[email]/b?x=1&y=2#/r/[phone]?z=1"; string(out) != want {
		t.Fatalf("got %q\nwant %q", out, want)
	}
	if found.String() != "email|phone|card" {
		t.Fatalf("found %s", found)
	}
}
