package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplainURLSegments (issue 18): explain shows, for each path segment
// of the page URL, which rule kept or replaced it: a site route, the
// scanner, or the path-shape rule.
func TestExplainURLSegments(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte("sites:\n  - id: shop\n    origins: [https://shop.example.com]\n    routes: [\"/user/{id}/orders\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const pixel = "https://collect.example/p.gif?site=shop&url=https%3A%2F%2Fshop.example.com%2Fuser%2Fjane-doe%2Forders"
	o := explainJSON(t, pixel, "-config", cfg)
	var rows []string
	for _, row := range stateCase(t, o, "none").Fields {
		if row.Field == "url segment" {
			rows = append(rows, row.Arrived+" -> "+jsonText(row.Result)+": "+row.Action)
		}
	}
	want := "user -> user: route /user/{opaque}/orders: literal, kept\n" +
		"jane-doe -> {id}: route /user/{opaque}/orders: {opaque}, always replaced\n" +
		"orders -> orders: route /user/{opaque}/orders: literal, kept"
	if got := strings.Join(rows, "\n"); got != want {
		t.Fatalf("url segment rows:\n%s\nwant:\n%s", got, want)
	}
}
