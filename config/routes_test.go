package config

import (
	"strings"
	"testing"
)

// TestSiteRoutes (issue 18): sites[].routes and the path-shape bounds
// parse, and bad values get errors naming the field.
func TestSiteRoutes(t *testing.T) {
	c, err := Parse("t.yaml", []byte("sites:\n  - id: shop\n    origins: [https://shop.example]\n    routes: [\"/products/{sku}\", \"/user/{id}/orders\", \"/o/{order:uuid}\"]\nscan:\n  path_max_length: 40\n  path_max_digit_percent: 50\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Sites[0].Routes, " "); got != "/products/{sku} /user/{id}/orders /o/{order:uuid}" {
		t.Fatalf("routes %q", got)
	}
	if c.Scan.PathMaxLength != 40 || c.Scan.PathMaxDigitPercent != 50 {
		t.Fatalf("scan %+v", c.Scan)
	}
	for in, want := range map[string]string{
		"sites:\n  - id: shop\n    routes: [products]\n":       "sites[0].routes[0]: a route is a path starting with '/'",
		"sites:\n  - id: shop\n    routes: [\"/p/{color}\"]\n": `sites[0].routes[0]: unknown placeholder type "color"`,
		"sites:\n  - id: shop\n    routes: [\"/p/x{sku}\"]\n":  "sites[0].routes[0]: a placeholder is a whole segment",
		"sites:\n  - id: shop\n    routes: [\"/p?x=1\"]\n":     "sites[0].routes[0]: a route is a path only",
		"scan:\n  path_max_digit_percent: 101\n":               "scan.path_max_digit_percent: 101 is out of range 0..100",
		"scan:\n  path_max_length: -1\n":                       "scan.path_max_length: -1 is out of range 0..1024",
	} {
		_, err := Parse("t.yaml", []byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v; want one containing %q", in, err, want)
		}
	}
}
