//go:build !race

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/clock/clocktest"
)

// rawDriver feeds raw HTTP/1.1 requests to the app's gateway handler as
// its server does, into one reused RequestCtx.
type rawDriver struct {
	a   *app
	ctx fasthttp.RequestCtx
	rd  bytes.Reader
	br  *bufio.Reader
}

func newRawDriver(a *app, peer string) *rawDriver {
	d := &rawDriver{a: a}
	d.br = bufio.NewReaderSize(&d.rd, 128<<10)
	d.ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.ParseIP(peer), Port: 40000}, nil)
	return d
}

func (d *rawDriver) do(raw []byte) int {
	d.ctx.Request.Reset()
	d.ctx.Response.Reset()
	d.rd.Reset(raw)
	d.br.Reset(&d.rd)
	if err := d.ctx.Request.Header.Read(d.br); err != nil {
		panic(err)
	}
	if err := d.ctx.Request.ContinueReadBody(d.br, 0, false); err != nil {
		panic(err)
	}
	d.a.gateway.Handle(&d.ctx)
	return d.ctx.Response.StatusCode()
}

func rawReq(method, uri, body string, headers ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: collect.example\r\n", method, uri)
	for i := 0; i+1 < len(headers); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", headers[i], headers[i+1])
	}
	if body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return b.Bytes()
}

// blePing is a store's ping with n sightings of devices numbered from
// first, in zones by device, seen a minute before the pinned clock.
func blePing(first, n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"site":"retail.example","store":"berlin-%d","sensor":"gate-%d","consent":"analytics","sightings":[`, first%3, first%5)
	ts := clocktest.Golden.Add(-time.Minute).UnixMilli()
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		k := first + i
		if i%2 == 0 {
			fmt.Fprintf(&b, `{"uuid":"F7826DA6-4FA2-4E98-8024-BC5B71E0893E","major":1,"minor":%d,"rssi":-60,"ts":%d,"mac":"a4:5e:%02x:%02x:%02x:01","props":{"zone":"z%d"}}`, i, ts, k>>16&0xff, k>>8&0xff, k&0xff, k%4)
		} else {
			fmt.Fprintf(&b, `{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"ts":%d,"adid":"38400000-8cf0-11bd-b23e-%012x"}`, ts, k)
		}
	}
	b.WriteString("]}")
	return rawReq("POST", "/ble", b.String(), "Content-Type", "application/json", "User-Agent", "StoreSensor/2.1")
}

// TestAppAllocs: the app as serve wires it (config file, pseudonym
// keys, the spool and its shippers, ble.output: aggregates with its own
// spool and the aggregation reading it), a request of each endpoint
// allocates nothing, BLE pings of new devices included, nor does the
// readiness check /readyz runs; and so after a reload through the app's
// own reload path (the first request after it may warm what is new).
func TestAppAllocs(t *testing.T) {
	pinClocks(t, clocktest.Golden)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "c.yaml")
	yaml := `
consent: {purposes: [analytics, ads]}
sites:
  - {id: shop.example, origins: ["https://shop.example"]}
  - {id: retail.example}
ble: {output: aggregates}
destinations:
  - {name: local, type: file, tcf: {without_vendor: true}}
`
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	a, err := startApp(serveFlags{config: cfgPath, data: filepath.Join(dir, "data")}, map[string]bool{"data": true}, prometheus.NewRegistry(), log)
	if err != nil {
		t.Fatal(err)
	}
	a.log = log
	defer a.close(context.Background())
	d := newRawDriver(a, "81.2.69.142")
	ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	fixed := []struct {
		name string
		raw  []byte
		want int
	}{
		{"pixel", rawReq("GET", "/p.gif?site=shop.example&consent=analytics,ads&uid=u-1&url=https%3A%2F%2Fshop.example%2Fp", "", "User-Agent", ua), 200},
		{"beacon", rawReq("POST", "/b", `{"site":"shop.example","consent":"analytics","props":{"a":1}}`, "Content-Type", "text/plain;charset=UTF-8", "User-Agent", ua, "Origin", "https://shop.example"), 204},
		{"preflight", rawReq("OPTIONS", "/b", "", "Origin", "https://shop.example", "Access-Control-Request-Method", "POST"), 204},
		{"ble", blePing(1, 10), 204},
	}
	check := func(when string) {
		t.Helper()
		for _, c := range fixed {
			if st := d.do(c.raw); st != c.want {
				t.Fatalf("%s%s: status %d; want %d", c.name, when, st, c.want)
			}
			d.do(c.raw)
			if n := testing.AllocsPerRun(200, func() { d.do(c.raw) }); n != 0 {
				t.Errorf("%s%s: %v allocs per request; want 0", c.name, when, n)
			}
		}
		// Pings of devices never seen: the aggregation's follower meets
		// new devices and cells.
		next := 1000 + 100000*len(when)
		pings := make([][]byte, 0, 400)
		for range cap(pings) {
			pings = append(pings, blePing(next, 8))
			next += 8
		}
		i := 0
		if n := testing.AllocsPerRun(len(pings)-1, func() {
			if st := d.do(pings[i]); st != 204 {
				t.Fatalf("ble ping%s: status %d", when, st)
			}
			i++
		}); n != 0 {
			t.Errorf("ble pings of new devices%s: %v allocs per request; want 0", when, n)
		}
		if err := a.ready(); err != nil {
			t.Fatalf("ready%s: %v", when, err)
		}
		if n := testing.AllocsPerRun(200, func() { a.ready() }); n != 0 {
			t.Errorf("readiness check%s: %v allocs; want 0", when, n)
		}
	}
	check("")
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(yaml, "analytics, ads]}", "analytics, ads]}\npolicies: {analytics: {url: path}}", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.reload(log); err != nil {
		t.Fatal(err)
	}
	check(" after a reload")
}
