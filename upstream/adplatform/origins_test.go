package adplatform

import "testing"

// TestOriginsFollowReload: the sinks read the sites' origins through one
// shared holder that a reload replaces: a site added by the reload is
// known at once, a changed origin takes effect, reads do not allocate.
func TestOriginsFollowReload(t *testing.T) {
	o := NewOrigins(map[string]string{"shop": "https://shop.example"})
	if o.Get([]byte("shop")) != "https://shop.example" || o.Get([]byte("shop2")) != "" {
		t.Fatal("before the reload")
	}
	o.Set(map[string]string{"shop": "https://www.shop.example", "shop2": "https://two.example"})
	if o.Get([]byte("shop")) != "https://www.shop.example" || o.Get([]byte("shop2")) != "https://two.example" {
		t.Fatal("after the reload")
	}
	var nilOrigins *Origins
	if nilOrigins.Get([]byte("shop")) != "" {
		t.Fatal("nil Origins")
	}
	site := []byte("shop2")
	if n := testing.AllocsPerRun(100, func() { _ = o.Get(site) }); n != 0 {
		t.Fatalf("%v allocs", n)
	}
}
