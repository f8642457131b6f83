package scrub

import (
	"strings"
	"testing"
)

var shopSite = Site{
	ID:    "shop",
	Hosts: []string{"shop.example"},
	Routes: []string{
		"/products/{sku}",
		"/user/{id}/orders",
		"/customers/{opaque}",
		"/orders/{order:uuid}",
		"/blog/{slug}",
		"/archive/{number}",
	},
}

var siteCleaner = MustNew(Options{Sites: []Site{shopSite}})

func TestRoutesAndHosts(t *testing.T) {
	f := func(in string, mode URLMode, want, wantFound string) {
		t.Helper()
		got, found := siteCleaner.AppendPageURL(nil, []byte(in), mode, []byte("shop"))
		if string(got) != want || found.String() != wantFound {
			t.Fatalf("AppendPageURL(%q, %s)\n got %q %s\nwant %q %s", in, mode, got, found, want, wantFound)
		}
		again, _ := siteCleaner.AppendPageURL(nil, got, mode, []byte("shop"))
		if string(again) != string(got) {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, got, again)
		}
	}
	// Routes: product codes survive, user ids do not.
	f("https://shop.example/products/555-1234", URLClean, "https://shop.example/products/555-1234", "none")
	f("https://shop.example/products/1473020387504479?x=1", URLPath, "https://shop.example/products/1473020387504479", "none")
	f("https://shop.example/products/a@b.example", URLClean, "https://shop.example/products/{id}", "segment")
	f("https://shop.example/user/jane-doe/orders", URLClean, "https://shop.example/user/{id}/orders", "segment")
	f("https://shop.example/customers/4711", URLPath, "https://shop.example/customers/{id}", "segment")
	f("https://shop.example/orders/550e8400-e29b-41d4-a716-446655440000", URLClean, "https://shop.example/orders/550e8400-e29b-41d4-a716-446655440000", "none")
	f("https://shop.example/orders/not-a-uuid", URLClean, "https://shop.example/orders/{id}", "segment")
	f("https://shop.example/blog/top-10-running-shoes", URLClean, "https://shop.example/blog/top-10-running-shoes", "none")
	f("https://shop.example/blog/QmVyLk1234567890123456789012345678", URLClean, "https://shop.example/blog/{id}", "segment")
	f("https://shop.example/archive/2024", URLPath, "https://shop.example/archive/2024", "none")
	// A segment's matrix part does not hide the route (cleaning may remove
	// it, and the cleaned path must match the same route); its parameters
	// are judged as elsewhere.
	f("https://shop.example/customers;/0", URLPath, "https://shop.example/customers/{id}", "segment")
	f("https://shop.example/customers;jsessionid=AB12/0", URLPath, "https://shop.example/customers/{id}", "param|segment")
	f("https://shop.example/products/SKU-1;jsessionid=AB12;v=2", URLClean, "https://shop.example/products/SKU-1;v=2", "param")
	// No route: values are scanned, and in path mode the shape rule keeps
	// only word-like segments.
	f("https://shop.example/p/jane.doe@example.org/x", URLClean, "https://shop.example/p/[email]/x", "email")
	f("https://shop.example/p/AB123456C/ok", URLPath, "https://shop.example/p/[id]/ok", "national_id")
	f("https://shop.example/de/running-shoes/index.html", URLPath, "https://shop.example/de/running-shoes/index.html", "none")
	f("https://shop.example/reset/kQzWmXpLrTvNbYcHdJfG", URLPath, "https://shop.example/reset/[token]", "token")
	f("https://shop.example/reset/aBcDeFgHiJkL/MacBook-Pro", URLPath, "https://shop.example/reset/{id}/MacBook-Pro", "segment")
	f("https://shop.example/c/555-1234/Jane_Doe", URLPath, "https://shop.example/c/{id}/{id}", "segment")
	f("https://shop.example/c/555-1234", URLClean, "https://shop.example/c/555-1234", "none")
	// Hosts: sub-domains are reduced, other hosts and addresses dropped.
	f("https://Jane-Doe.Shop.example/p?q=1", URLClean, "https://shop.example/p?q=1", "host")
	f("https://shop.example:8443/p", URLClean, "https://shop.example:8443/p", "none")
	f("https://evil.example/p", URLClean, "", "host")
	f("https://shop.example.evil.example/p", URLClean, "", "host")
	f("http://192.0.2.7/products/x", URLClean, "", "ip")
	// Another site, or none: no host check, no routes.
	if got, _ := siteCleaner.AppendPageURL(nil, []byte("https://evil.example/user/jane-doe/orders"), URLClean, []byte("other")); string(got) != "https://evil.example/user/jane-doe/orders" {
		t.Fatalf("undeclared site: %q", got)
	}
}

func TestRouteErrors(t *testing.T) {
	for _, r := range []string{"products/{sku}", "/p/{color}", "/p/x{sku}", "/p?x", "/p/{sku"} {
		_, err := New(Options{Sites: []Site{{ID: "s", Routes: []string{r}}}})
		if err == nil || !strings.Contains(err.Error(), "Sites[0]") || !strings.Contains(err.Error(), "route") {
			t.Errorf("route %q: error %v; want one naming Sites[0] and the route", r, err)
		}
	}
}
