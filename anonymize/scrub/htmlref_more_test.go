package scrub

import (
	"net/url"
	"testing"
)

// TestHTMLReferencesForSpacesAndDoubleEscaping checks two ways markup
// writes what the scanner already reads as characters: a phone number
// whose groups are set off by no-break spaces written as references
// ("+49&nbsp;151&nbsp;2345&nbsp;6789", as pages keep a number on one line
// and a tag reading innerHTML sends it; the characters themselves were
// read), and a reference escaped twice ("jane.doe&amp;#64;example.org", a
// template escaping the markup of an address hidden from harvesters once
// more), plus numeric references to the full-width at sign and full stop,
// which the scanner reads as characters. Until 2026-12-07 each reached
// every destination whole, in properties, event names, URLs and
// referrers (found by planting them through the real binary).
func TestHTMLReferencesForSpacesAndDoubleEscaping(t *testing.T) {
	for _, c := range []struct{ in, kind, leak string }{
		{"+49&nbsp;151&nbsp;2345&nbsp;6789", "phone", "2345"},
		{"Tel. 0151&nbsp;2345&nbsp;6789", "phone", "2345"},
		{"+49&#160;151&#160;2345&#160;6789", "phone", "2345"},
		{"+49&#xA0;151&#xa0;2345&#x00A0;6789", "phone", "2345"},
		{"+33&#8239;6&#8239;12&#8239;34&#8239;56&#8239;78", "phone", "34"},
		{"+33&thinsp;6&thinsp;12&thinsp;34&thinsp;56&thinsp;78", "phone", "34"},
		{"4111&nbsp;1111&nbsp;1111&nbsp;1111", "card", "1111"},
		{"jane.doe&amp;#64;example.org", "email", "jane"},
		{"jane.doe&amp;#x40;example&amp;#46;org", "email", "jane"},
		{"jane.doe&amp;commat;example.org", "email", "jane"},
		{"jane.doe&#65312;example.org", "email", "jane"},
		{"jane.doe&#xFF20;example&#xFF0E;org", "email", "jane"},
		{"jane.doe&#65131;example&#12290;org", "email", "jane"},
	} {
		for _, s := range []string{c.in, "Kontakt: " + c.in + " (Verkauf)"} {
			out, found := defaultCleaner.AppendText(nil, []byte(s))
			if !bytesContain([]byte(found.String()), c.kind) || leaks(string(out), c.leak) {
				t.Errorf("AppendText(%q) = %q %s; want the %s replaced", s, out, found, c.kind)
			}
		}
		u := "https://shop.example/s?q=" + url.QueryEscape(c.in) + "&page=2"
		if out, _ := defaultCleaner.AppendURL(nil, []byte(u), URLClean); string(out) != "https://shop.example/s?page=2" {
			t.Errorf("AppendURL(%q) = %q; want q removed", u, out)
		}
	}
	// Spaces written so between words, and other escaped references, stay.
	for _, s := range []string{"Tom&nbsp;&amp;&nbsp;Jerry", "10&nbsp;€", "AT&amp;T &amp;amp; more", "Mo&nbsp;-&nbsp;Fr 9&nbsp;-&nbsp;18&nbsp;Uhr", "&amp;#169; 2026", "price &amp;#64; 10"} {
		if out, found := defaultCleaner.AppendText(nil, []byte(s)); string(out) != s || found != 0 {
			t.Errorf("AppendText(%q) = %q %s; want it unchanged", s, out, found)
		}
	}
}
