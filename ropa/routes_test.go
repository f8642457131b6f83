package ropa

import (
	"strings"
	"testing"
)

// TestReportRoutes (issue 18): the report describes route declarations and
// the path-shape rule, and lists each site's routes and its bounds.
func TestReportRoutes(t *testing.T) {
	_, _, base := render(t, build(t, parse(t, "")))
	_, _, text := render(t, build(t, parse(t, "sites:\n  - id: shop\n    origins: [https://shop.example]\n    routes: [\"/products/{sku}\", \"/user/{id}/orders\"]\nscan:\n  path_max_length: 40\n")))
	for _, want := range []string{"sites[].routes", "shape of a path word", "No site declares routes."} {
		if !strings.Contains(base, want) {
			t.Errorf("default report lacks %q", want)
		}
	}
	for _, want := range []string{"/products/{sku}", "/user/{id}/orders", "at most 40 bytes", "national ids with a check"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}
