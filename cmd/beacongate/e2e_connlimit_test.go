package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestE2EFDLimit runs the binary with an open-file limit of 128 (or 256) and opens
// 300 keep-alive connections from three loopback addresses (each under
// max_conns_per_ip), each sending one pixel and staying open. The gateway
// must stay up, serve new requests, and deliver every acknowledged event.
// "derived" uses the cap derived from the limit; "over_limit" sets
// server.max_conns above the limit, so accept runs into EMFILE and must
// retry instead of ending the server.
func TestE2EFDLimit(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) is not installed")
	}
	for _, tc := range []struct{ name, nofile, extra string }{
		{"issue_repro", "256", ""}, // ulimit -n 256, 300 connections from 3 addresses
		{"derived", "128", ""},
		{"over_limit", "128", "  max_conns: 1000\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfgPath := filepath.Join(dir, "config.yaml")
			cfg := "server:\n  max_conns_per_ip: 200\n" + tc.extra
			if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			data := filepath.Join(dir, "data")
			p := startGatewayEnv(t, []string{startEnv(clocktest.Golden)}, []string{prlimit, "--nofile=" + tc.nofile + ":" + tc.nofile}, data, cfgPath)
			_, port, _ := net.SplitHostPort(p.addr)

			const perAddr, addrs = 100, 3
			var acked atomic.Int64
			var mu sync.Mutex
			var conns []net.Conn
			var wg sync.WaitGroup
			for a := 1; a <= addrs; a++ {
				for i := 0; i < perAddr; i++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(a))}, Timeout: 30 * time.Second}
						c, err := d.Dial("tcp", "127.0.0.1:"+port)
						if err != nil {
							return
						}
						mu.Lock()
						conns = append(conns, c)
						mu.Unlock()
						c.SetDeadline(time.Now().Add(30 * time.Second))
						fmt.Fprintf(c, "GET /p.gif?site=fd&event=e%d_%d HTTP/1.1\r\nHost: x\r\n\r\n", a, i)
						resp, err := http.ReadResponse(bufio.NewReader(c), nil)
						if err != nil {
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode == 200 {
							acked.Add(1)
						}
					}()
				}
			}
			wg.Wait()
			select {
			case err := <-p.exited:
				t.Fatalf("the gateway exited with %d of %d connections: %v\n%s", len(conns), perAddr*addrs, err, p.logText())
			default:
			}
			t.Logf("%d connections opened, %d pixels acknowledged", len(conns), acked.Load())
			if acked.Load() != perAddr*addrs {
				t.Errorf("only %d of %d pixels acknowledged", acked.Load(), perAddr*addrs)
			}
			// New requests are served while the old connections are still open
			// (idle ones are closed for room) and after they close.
			if st, _ := httpGet(t, p.url("/p.gif?site=fd&event=after_open")); st != 200 {
				t.Fatalf("pixel with the old connections open: %d", st)
			}
			acked.Add(1)
			for _, c := range conns {
				c.Close()
			}
			if st, _ := httpGet(t, p.url("/p.gif?site=fd&event=after_close")); st != 200 {
				t.Fatalf("pixel after the connections closed: %d", st)
			}
			acked.Add(1)
			if st, body := httpGet(t, "http://"+p.admin+"/metrics"); st != 200 || !strings.Contains(string(body), "beacongate_gateway_connections_max") {
				t.Fatalf("metrics: %d", st)
			} else {
				for _, l := range strings.Split(string(body), "\n") {
					if strings.HasPrefix(l, "beacongate_gateway_accept_") || strings.HasPrefix(l, "beacongate_gateway_connections") {
						t.Log(l)
					}
				}
			}
			if code := p.stop(); code != 0 {
				t.Fatalf("exit code after SIGTERM: %d\n%s", code, p.logText())
			}
			_, recs := readOut(t, filepath.Join(data, "out"))
			ids := map[string]bool{}
			for _, r := range recs {
				if r.Site == "fd" {
					ids[r.ID] = true
				}
			}
			t.Logf("acknowledged %d, delivered %d distinct", acked.Load(), len(ids))
			if int64(len(ids)) < acked.Load() {
				t.Fatalf("acknowledged %d events, delivered %d\n%s", acked.Load(), len(ids), p.logText())
			}
		})
	}
}

// TestE2EAdminConnFlood runs the binary with an open-file limit of 256 and
// opens 300 connections to the admin listener (which the image binds on
// every interface, so anyone who reaches it may), from 30 loopback
// addresses, sending nothing. Until 2026-12-07 the admin listener took
// connections without a cap: they used up every file descriptor the
// public listener's cap keeps free for the spool, the sinks and the admin
// listener, and the public listener could no longer accept (a beacon got
// no answer), nor the spool open a segment. Its connections are now
// capped; the gateway takes events while the flood lasts, and the admin
// listener answers again once it ends.
func TestE2EAdminConnFlood(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) is not installed")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	p := startGatewayEnv(t, []string{startEnv(clocktest.Golden)}, []string{prlimit, "--nofile=256:256"}, data, "")

	const addrs, perAddr = 30, 10
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	for a := 0; a < addrs; a++ {
		for i := 0; i < perAddr; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(10+a))}, Timeout: 2 * time.Second}
				c, err := d.Dial("tcp", p.admin)
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	t.Logf("%d admin connections open", len(conns))
	time.Sleep(500 * time.Millisecond) // the gateway accepts what it will

	// Well within the admin listener's 5 s header timeout: the flood's
	// connections are all still held.
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Post(p.url("/b"), "text/plain", strings.NewReader(`{"site":"flood","event":"during"}`))
	if err != nil {
		t.Fatalf("a beacon while %d admin connections are open: %v\n%s", len(conns), err, p.logText())
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("a beacon while %d admin connections are open: %d", len(conns), resp.StatusCode)
	}
	for _, c := range conns {
		c.Close()
	}
	// Once the flood ends, the admin listener answers again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get("http://" + p.admin + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz after the flood: %v\n%s", err, p.logText())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit code after SIGTERM: %d\n%s", code, p.logText())
	}
	_, recs := readOut(t, filepath.Join(data, "out"))
	found := false
	for _, r := range recs {
		found = found || r.Site == "flood"
	}
	if !found {
		t.Fatalf("the acknowledged beacon was not delivered\n%s", p.logText())
	}
}
