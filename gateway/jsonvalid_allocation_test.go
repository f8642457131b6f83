//go:build !race

package gateway

import "testing"

// TestValidJSONAllocs proves that validJSON accepts and rejects without
// allocating: a public endpoint mostly receives junk, so the reject path is
// a hot path too.
func TestValidJSONAllocs(t *testing.T) {
	f := func(name string, b []byte, want bool) {
		t.Helper()
		if got := validJSON(b); got != want {
			t.Fatalf("%s: validJSON = %v; want %v", name, got, want)
		}
		if n := testing.AllocsPerRun(100, func() { validJSON(b) }); n != 0 {
			t.Fatalf("%s: %v allocs per validJSON; want 0", name, n)
		}
	}
	body := beaconBody()
	f("beacon", body, true)
	f("ble", bleBody(40), true)
	f("truncated", body[:len(body)/2], false)
	f("trailing comma", []byte(`{"a":[1,2,],"b":1}`), false)
	f("bad utf-8", []byte("{\"a\":\"\xed\xa0\x80\"}"), false)
	f("bad escape", []byte(`{"a":"\q"}`), false)
	f("bad number", []byte(`{"a":01}`), false)
	f("too deep", []byte(nested("[", "]", maxJSONDepth+1, "")), false)
	f("garbage", []byte("GET / HTTP/1.1\r\n"), false)
}
