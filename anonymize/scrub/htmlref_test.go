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

// TestHTMLCharacterReferencesInRawURL checks the same addresses written
// into a URL as they are, as a tag that reads a link from the page's
// markup sends it ("/u/jane.doe&#64;example.org/orders"): the reference's
// '#' starts a fragment and its '&' a parameter, so the address is split
// over a path and a fragment, or two parameters, and neither part read as
// one; until 2026-12-07 the URL reached every destination whole (also in
// a referrer and as a link in a property). Such a URL keeps its origin
// only where the query and fragment are kept (URLPath drops them, and the
// path-shape rule takes the segment); a reference that writes no address
// is treated as before.
func TestHTMLCharacterReferencesInRawURL(t *testing.T) {
	for _, in := range []string{
		"https://shop.example/u/jane.doe&#64;example.org/orders",
		"https://shop.example/u/jane.doe&#x40;example.org",
		"https://shop.example/u/jane.doe&commat;example&period;org/orders",
		"https://shop.example/s?to=jane.doe&commat;example.org&page=2",
		"https://shop.example/s?page=2&to=jane.doe&#64;example.org",
		"https://shop.example/s?a=1&amp;to=jane&#46;doe&#64;example&#46;co&#46;uk",
		"https://shop.example/#/u/jane.doe&commat;example.org",
		"//shop.example/u/jane.doe&#64example.org",
	} {
		if out, found := defaultCleaner.AppendURL(nil, []byte(in), URLClean); leaks(string(out), "jane") || !found.Has(KindEmail) {
			t.Errorf("AppendURL(%q) = %q %s; want the origin only (email)", in, out, found)
		}
		if out, _ := defaultCleaner.AppendURL(nil, []byte(in), URLPath); leaks(string(out), "jane") {
			t.Errorf("AppendURL(%q, path) = %q; want no part of the address", in, out)
		}
		s := "see " + in + " today"
		if out, found := defaultCleaner.AppendText(nil, []byte(s)); leaks(string(out), "jane") || !found.Has(KindEmail) {
			t.Errorf("AppendText(%q) = %q %s; want the address gone (email)", s, out, found)
		}
	}
	for _, in := range []string{
		"https://shop.example/s?q=Tom&amp;Jerry&page=2",
		"https://shop.example/p/price&#64;10#details",
	} {
		if out, found := defaultCleaner.AppendURL(nil, []byte(in), URLClean); string(out) != in || found != 0 {
			t.Errorf("AppendURL(%q) = %q %s; want it unchanged", in, out, found)
		}
	}
}
