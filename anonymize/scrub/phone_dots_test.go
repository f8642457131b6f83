package scrub

import (
	"net/url"
	"testing"
)

// TestNorthAmericanPhoneWithDots checks a US or Canadian number written
// with dots, as many people there write it ("555.867.5309"). Until
// 2026-12-06 a dotted number counted only with a leading trunk '0', so it
// reached every destination whole, in a property, an event name or a URL.
func TestNorthAmericanPhoneWithDots(t *testing.T) {
	for _, in := range []string{"555.867.5309", "Call 212.555.0199 today", "(cell: 415.555.2671)"} {
		out, found := defaultCleaner.AppendText(nil, []byte(in))
		if !found.Has(KindPhone) || leaks(string(out), "5309") && in == "555.867.5309" {
			t.Errorf("AppendText(%q) = %q %s; want the number replaced by [phone]", in, out, found)
		}
		u := "https://shop.example/s?q=" + url.QueryEscape(in) + "&page=2"
		if out, found := defaultCleaner.AppendURL(nil, []byte(u), URLClean); string(out) != "https://shop.example/s?page=2" || !found.Has(KindPhone) {
			t.Errorf("AppendURL(%q) = %q %s; want q removed (phone)", u, out, found)
		}
	}
	// Versions, decimals, thousands and other dotted numbers stay.
	for _, in := range []string{"Chrome/120.0.6099.109", "v120.0.6099", "1.234.567", "155.123.4567", "555.023.4567", "12.345.6789", "555.123.45678", "2024.01.15"} {
		if out, found := defaultCleaner.AppendText(nil, []byte(in)); string(out) != in || found != 0 {
			t.Errorf("AppendText(%q) = %q %s; want it unchanged", in, out, found)
		}
	}
}
