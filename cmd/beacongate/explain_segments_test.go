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

// TestExplainURLSegmentOwnID: a page URL holding the event's own user id
// as a path segment ("/account/uid-4471/orders") is written with {id} in
// its place, but explain's "url segment" row said "scanned: nothing
// found, kept" and showed the raw id as the result, contradicting the
// url row and the record beside it.
func TestExplainURLSegmentOwnID(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte("sites:\n  - id: shop\n    origins: [https://shop.example.com]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const pixel = "https://collect.example/p.gif?site=shop&consent=analytics&uid=uid-owned-4471&cid=cid-owned-8812" +
		"&url=https%3A%2F%2Fshop.example.com%2Faccount%2Fuid-owned-4471%2Forders%2FCID-OWNED-8812"
	o := explainJSON(t, pixel, "-config", cfg)
	for _, st := range []string{"none", "analytics", "ads"} {
		var rows []string
		for _, row := range stateCase(t, o, st).Fields {
			if row.Field == "url" && !strings.Contains(jsonText(row.Result), "/account/{id}/orders/{id}") {
				t.Errorf("%s: url %s; want the own ids replaced", st, jsonText(row.Result))
			}
			if row.Field == "url segment" {
				rows = append(rows, row.Arrived+" -> "+jsonText(row.Result)+": "+row.Action)
			}
		}
		got := strings.Join(rows, "\n")
		if strings.Contains(got, "-> uid-owned-4471") || strings.Contains(strings.ToLower(got), "-> cid-owned-8812") ||
			!strings.Contains(got, "uid-owned-4471 -> {id}: the event's own user or client id") ||
			!strings.Contains(got, "CID-OWNED-8812 -> {id}: the event's own user or client id") {
			t.Errorf("%s: url segment rows:\n%s\nwant the own ids shown as {id}, by that rule", st, got)
		}
	}
}
