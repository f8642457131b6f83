package scrub

import (
	"net/url"
	"testing"
)

// TestHTMLCharacterReferencesInEmail checks addresses whose at sign or dots
// are HTML character references, the oldest way pages hide an address from
// harvesters ("jane.doe&#64;example.org"), which a tag reading a page's
// markup sends as it is. Until 2026-12-06 they reached every destination
// whole: the scanner read "&#64;" as text.
func TestHTMLCharacterReferencesInEmail(t *testing.T) {
	for _, in := range []string{
		"jane.doe&#64;example.org",
		"jane.doe&#064;example.org",
		"jane.doe&#x40;example.org",
		"jane.doe&#X40;example&#x2E;org",
		"jane.doe&commat;example&period;org",
		"jane&#46;doe&#64;example&#46;co&#46;uk",
		"jane.doe&#64example.org", // no ';': browsers read it all the same
	} {
		for _, s := range []string{in, "Contact: " + in + " (sales)"} {
			out, found := defaultCleaner.AppendText(nil, []byte(s))
			if !found.Has(KindEmail) || leaks(string(out), "jane") || leaks(string(out), "example") {
				t.Errorf("AppendText(%q) = %q %s; want the address replaced by [email]", s, out, found)
			}
		}
		u := "https://shop.example/s?q=" + url.QueryEscape(in) + "&page=2"
		if out, found := defaultCleaner.AppendURL(nil, []byte(u), URLClean); string(out) != "https://shop.example/s?page=2" || !found.Has(KindEmail) {
			t.Errorf("AppendURL(%q) = %q %s; want q removed (email)", u, out, found)
		}
	}
	// Other references, and an at sign that is no address, stay as they are.
	for _, s := range []string{"Tom &amp; Jerry", "AT&T &#169; 2026", "price &#64; 10 &euro;", "a&#x40e;b.org", "R&D@home"} {
		if out, found := defaultCleaner.AppendText(nil, []byte(s)); string(out) != s || found != 0 {
			t.Errorf("AppendText(%q) = %q %s; want it unchanged", s, out, found)
		}
	}
}
