package scrub

import (
	"net/url"
	"strings"
	"testing"
)

// TestCoordinatesWithLabelsOrDecimalCommas: a precise latitude and
// longitude with the longitude's name between ("lat 52.520008 lon
// 13.404954"), with decimal commas ("52,520008 13,404954"), or with degree
// signs and hemisphere letters, locates a visitor as the plain pair does:
// [geo]. Until 2026-12-07 these reached every destination whole.
func TestCoordinatesWithLabelsOrDecimalCommas(t *testing.T) {
	for _, in := range []string{
		"lat 52.520008 lon 13.404954",
		"latitude: 52.520008, longitude: 13.404954",
		"Latitude 52.520008 Longitude 13.404954 (GPS)",
		"lat=52.520008&lng=13.404954",
		"lat: 52.520008; lng: 13.404954",
		`{"lat":52.520008,"lng":13.404954}`,
		"lon 13.404954 lat 52.520008",
		"at lat -33.868820 long 151.209296 now",
		"52,520008 13,404954",
		"52,520008; 13,404954",
		"52,520008, 13,404954",
		"52.520008° N, 13.404954° E",
		"52.520008°N 13.404954°E",
		"33.868820 S 151.209296 E",
	} {
		out, found := defaultCleaner.AppendText(nil, []byte(in))
		if !found.Has(KindCoordinates) || !strings.Contains(string(out), "[geo]") {
			t.Errorf("AppendText(%q) = %q %s; want the pair replaced by [geo]", in, out, found)
		}
		for _, leak := range []string{"520008", "404954", "868820", "209296"} {
			if strings.Contains(string(out), leak) {
				t.Errorf("AppendText(%q) = %q: keeps %q", in, out, leak)
			}
		}
		// Spaces as %20, and as '+' (which also reads literally, so that
		// "+52.520008" may be found a phone first: removed all the same).
		for _, q := range []string{strings.ReplaceAll(url.QueryEscape(in), "+", "%20"), url.QueryEscape(in)} {
			u := "https://shop.example/s?q=" + q + "&page=2"
			out, found := defaultCleaner.AppendURL(nil, []byte(u), URLClean)
			if string(out) != "https://shop.example/s?page=2" || !strings.Contains(q, "+") && !found.Has(KindCoordinates) {
				t.Errorf("AppendURL(%q) = %q %s; want q removed (coordinates)", u, out, found)
			}
		}
	}
	// Prices, versions, sizes, amounts with decimal commas or thousands
	// separators, and two numbers with a word between that names no
	// coordinate, stay.
	for _, in := range []string{
		"19,99 29,99", "1,234 5,678", "1.234,5678 2.345,6789", "EUR 1.299,00 / 2.499,00",
		"12,50 € 3,2500 kg", "v1,23456 2,34567", "1920,0000 1080,0000", "52,520008,13,404954",
		"version 1.23456 and 2.34567", "price 12.34567 total 45.67890", "52.520008 lon", "lat 52.520008",
		"size 52.12345 lengthy 13.12345", "lat 91.12345 lon 181.12345", "52.520008 lon 13.404954.5",
		"52,520008 13.404954", "52.520008 13,404954", "1.23456&2.34567", "52.520008 Nord 13.404954",
		"Chrome/120.0.6099.109 lon 1.2", "3,14159 rad", "ratio 1,23456 x",
	} {
		if out, found := defaultCleaner.AppendText(nil, []byte(in)); found.Has(KindCoordinates) {
			t.Errorf("AppendText(%q) = %q %s; want no coordinates", in, out, found)
		}
	}
}
