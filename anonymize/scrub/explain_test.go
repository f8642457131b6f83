package scrub

import (
	"strings"
	"testing"
)

func TestExplainPath(t *testing.T) {
	f := func(in string, mode URLMode, want ...string) {
		t.Helper()
		rules := siteCleaner.ExplainPath([]byte(in), mode, []byte("shop"))
		var got []string
		for _, r := range rules {
			got = append(got, r.Segment+" -> "+r.Result+" ("+r.Rule+")")
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("ExplainPath(%q)\n got %q\nwant %q", in, got, want)
		}
	}
	f("https://shop.example/user/jane-doe/orders?x=1", URLClean,
		"user -> user (route /user/{opaque}/orders: literal, kept)",
		"jane-doe -> {id} (route /user/{opaque}/orders: {opaque}, always replaced)",
		"orders -> orders (route /user/{opaque}/orders: literal, kept)")
	f("https://shop.example/products/555-1234", URLPath,
		"products -> products (route /products/{sku}: literal, kept)",
		"555-1234 -> 555-1234 (route /products/{sku}: {sku}, kept)")
	f("https://shop.example/c/Jane_Doe/a@b.example/shoes;jsessionid=1", URLPath,
		"c -> c (no route; scanned: nothing found, kept; path shape: word, kept)",
		"Jane_Doe -> {id} (no route; scanned: nothing found, kept; path shape: not a word, replaced)",
		"a@b.example -> [email] (no route; scanned: email, replaced)",
		"shoes;jsessionid=1 -> shoes (no route; parameters removed: param; path shape: word, kept)")
	f("https://evil.example/x", URLClean)
	f("https://shop.example/x", URLOrigin)
}
