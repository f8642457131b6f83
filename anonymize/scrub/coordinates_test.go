package scrub

import (
	"net/url"
	"strings"
	"testing"
)

// TestCoordinatesReplaced: a latitude and longitude to 4 decimals or more
// (0.0001 degree is about 11 m) in free text, a query value or a map
// link's path locate a visitor finer than the record's own city-level
// geo: they become [geo]. Until 2026-12-06 "52.520008,13.404954" in a
// property or a referrer reached every destination whole.
func TestCoordinatesReplaced(t *testing.T) {
	for _, in := range []string{
		"52.520008,13.404954",
		"at -33.868820, 151.209296 now",
		"(40.7128,-74.0060)",
		"pos=48.85837,2.294481;",
		"-90.0000,180.0000",
		"lat/lng 35.6761919,139.6503106 from the app",
		// Separated by a space or a semicolon, and in GeoJSON's and WKT's
		// order, longitude first, where it is beyond 90 degrees (until
		// 2026-12-07 they reached every destination whole: found by
		// planting them in the real binary).
		"52.520008 13.404954",
		"52.520008;13.404954",
		"POINT(13.404954 52.520008)",
		"[151.209296, -33.868820]",
		"POINT(-118.243683 34.052235)",
		"[139.6503106,35.6761919]",
	} {
		out, found := defaultCleaner.AppendText(nil, []byte(in))
		if !found.Has(KindCoordinates) || !strings.Contains(string(out), "[geo]") {
			t.Errorf("AppendText(%q) = %q %s; want the pair replaced by [geo]", in, out, found)
		}
		for _, leak := range []string{"520008", "404954", "868820", "209296", "7128", "0060", "85837", "294481", "6761919", "6503106", "243683", "052235"} {
			if strings.Contains(in, leak) && strings.Contains(string(out), leak) {
				t.Errorf("AppendText(%q) = %q: keeps %q", in, out, leak)
			}
		}
		u := "https://shop.example/s?q=" + url.QueryEscape(in) + "&page=2"
		if out, found := defaultCleaner.AppendURL(nil, []byte(u), URLClean); string(out) != "https://shop.example/s?page=2" || !found.Has(KindCoordinates) {
			t.Errorf("AppendURL(%q) = %q %s; want q removed (coordinates)", u, out, found)
		}
	}
	// A map link puts them in the path.
	u := "https://maps.example/maps/place/Brandenburger+Tor/@52.5162746,13.3755154,17z/data=x"
	out, found := defaultCleaner.AppendURL(nil, []byte(u), URLClean)
	if !found.Has(KindCoordinates) || strings.Contains(string(out), "5162746") || strings.Contains(string(out), "3755154") {
		t.Errorf("AppendURL(%q) = %q %s; want the coordinates gone", u, out, found)
	}
	// Coarse positions, decimals, prices, versions and ranges stay.
	for _, in := range []string{
		"52.52,13.40", "52.520,13.405", "19.99,29.99", "1.2345", "0.5,0.25",
		"Chrome/120.0.6099.109", "91.12345,91.12345", "52.12345,181.12345", "181.12345 52.12345",
		"2024.1234 5.6789", "ratio 1.23456 x", "52.12345  13.12345", "52.12345 13.12345.6",
		"52.12345,13.12345.6", "52.12345,13.12345abc", "v1.23456,2.34567",
		"ratio 1.23456", "12345.67890,1.23456",
	} {
		if out, found := defaultCleaner.AppendText(nil, []byte(in)); string(out) != in || found.Has(KindCoordinates) {
			t.Errorf("AppendText(%q) = %q %s; want it unchanged", in, out, found)
		}
	}
}
