package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2EClientAddressForging runs the binary with 127.0.0.1 as a trusted
// proxy, as examples/analytics-only.yaml does, and plays that proxy: every
// request carries headers a client chose, then the X-Forwarded-For line the
// proxy appends for the real client. The analytics policy keeps the address
// whole, so the record shows exactly which address was believed; it must
// always be the real client's.
func TestE2EClientAddressForging(t *testing.T) {
	col := newCollector(t)
	dir := t.TempDir()
	cfgPath := writeE2EConfig(t, dir, "forging.yaml", httpDestConfig(col.url(), "none", `server:
  trusted_proxies: [127.0.0.1/32, "::1"]
policies:
  analytics:
    ip: {action: keep}
`))
	p := startGateway(t, filepath.Join(dir, "data"), cfgPath)
	const client = "198.51.100.7"
	variants := [][]string{
		{},
		{"X-Forwarded-For: 6.6.6.6"},
		{"X-Forwarded-For: 6.6.6.6, 7.7.7.7"},
		{"x-forwarded-for: 6.6.6.6"},
		{"X-Forwarded-For: 6.6.6.6", "X-Forwarded-For: 127.0.0.1"},
		{"Forwarded: for=6.6.6.6"},
		{`Forwarded: for="[2001:db8::6]:443"`},
		{"Forwarded: for=6.6.6.6, for=7.7.7.7;proto=https"},
		{"X-Real-IP: 6.6.6.6", "True-Client-IP: 6.6.6.6", "CF-Connecting-IP: 6.6.6.6"},
		{"X-Forwarded-For: garbage"},
		{"X-Forwarded-For: ,,6.6.6.6,,"},
		{"X-Forwarded-For: 6.6.6.6:1234"},
		{"X-Forwarded-For: [2001:db8::6]:443"},
		{"X-Forwarded-For: fe80::1%eth0"},
		{"X-Forwarded-For: ::ffff:6.6.6.6"},
		{"X-Forwarded-For: \t 6.6.6.6 \t"},
	}
	want := map[int64]ackSpan{}
	for i, hs := range variants {
		body := fmt.Sprintf(`{"site":"s","consent":["analytics"],"props":{"seq":%d}}`, i)
		var b strings.Builder
		fmt.Fprintf(&b, "POST /b HTTP/1.1\r\nHost: collect.example\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n", len(body))
		for _, h := range hs {
			b.WriteString(h + "\r\n")
		}
		b.WriteString("X-Forwarded-For: " + client + "\r\n\r\n" + body) // the proxy's line comes last
		conn, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write([]byte(b.String())); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("variant %d %q: %v", i, hs, err)
		}
		resp.Body.Close()
		conn.Close()
		if resp.StatusCode != 204 {
			t.Fatalf("variant %d %q: status %d", i, hs, resp.StatusCode)
		}
		want[int64(i)] = ackSpan{}
	}
	if missing := col.waitFor(want, 20*time.Second); len(missing) > 0 {
		t.Fatalf("records never arrived for variants %v\n%s", missing, p.logText())
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	for _, r := range col.records {
		if s := r.seq(); r.IP != client {
			t.Errorf("variant %d %q: record address %q; want the proxy's client %s", s, variants[s], r.IP, client)
		}
	}
}
