package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// bleSink is an HTTP destination that keeps every NDJSON line it is sent.
type bleSink struct {
	mu    sync.Mutex
	lines []string
	addr  string
}

func newBLESink(t *testing.T) *bleSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &bleSink{addr: ln.Addr().String()}
	srv := &http.Server{Handler: s}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *bleSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(500)
		return
	}
	s.mu.Lock()
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			s.lines = append(s.lines, l)
		}
	}
	s.mu.Unlock()
	w.WriteHeader(204)
}

func (s *bleSink) records() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

// TestE2EBLEAggregatesKill9: with ble.output: aggregates the destination
// receives aggregates only, and a kill -9 in the middle of an interval
// loses and double-counts nothing: the sightings the aggregates count are
// exactly the sightings answered 204, randomized ones apart, and no cell is
// sent twice or below k.
func TestE2EBLEAggregatesKill9(t *testing.T) {
	// As examples/retail-ble.yaml: derived keys from a shared secret; and
	// with the key store, whose per-day random keys (destroyed after the
	// day) must survive the kill just the same.
	t.Run("derived", func(t *testing.T) { testBLEAggregatesKill9(t, "") })
	t.Run("key_store", func(t *testing.T) { testBLEAggregatesKill9(t, "privacy: {key_store: true, key_retention: 1h}\n") })
}

func testBLEAggregatesKill9(t *testing.T, extra string) {
	sink := newBLESink(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	// Derived keys, as in examples/retail-ble.yaml: the visitor hash of a
	// device is the same before and after the restart. (With ephemeral
	// keys a restart starts new keys, and a device seen on both sides of
	// it counts twice in that interval.)
	secret := filepath.Join(dir, "pseudonym.secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef"), 0o600); err != nil {
		t.Fatal(err)
	}
	const k = 3
	cfg := writeE2EConfig(t, dir, "ble.yaml", `pseudonym: {mode: derived, secret_file: `+secret+`}
server: {max_sighting_ahead: 2s}
ble:
  output: aggregates
  interval: 2s
  absence: 1s
  lateness: 1s
  enter_after: 1
  k: `+fmt.Sprint(k)+`
destinations:
  - name: stats
    type: http
    compression: none
    batch: {max_events: 100, max_age: 100ms}
    http:
      url: http://`+sink.addr+`/ingest
      timeout: 2s
      retry: {initial_backoff: 20ms, max_backoff: 300ms}
`+extra)
	const devices = 6
	var sb strings.Builder
	sb.WriteString(`{"site":"shop","store":"berlin","sensor":"entrance","sightings":[`)
	for i := range devices {
		fmt.Fprintf(&sb, `{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"mac":"00:1A:2B:00:00:%02X"},`, i)
	}
	// A phone with a private (randomized) address, in Cisco notation.
	sb.WriteString(`{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"mac":"da1a.2b00.0001"}]}`)
	body := sb.String()
	const perPost, randomizedPerPost = devices + 1, 1

	p := startGateway(t, data, cfg)
	acked := 0
	post := func() {
		resp, err := http.Post(p.url("/ble"), "application/json", strings.NewReader(body))
		if err != nil {
			return // the gateway is down: not acknowledged
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 204 {
			acked++
		} else {
			t.Fatalf("POST /ble: %d", resp.StatusCode)
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		post()
		time.Sleep(50 * time.Millisecond)
	}
	p.kill() // in the middle of an interval: its sightings are only in the spool
	ackedAtKill := acked
	p = startGateway(t, data, cfg)
	deadline = time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		post()
		time.Sleep(50 * time.Millisecond)
	}
	// Wait until every interval is closed (2s + 1s lateness) and shipped.
	// A count below k is withheld from its cell and named in the cell's
	// "suppressed" list: an interval that caught only one or two posts
	// (the one cut by the kill, say) withholds its randomized sightings.
	// A cell that caught fewer than k posts also withholds its sightings:
	// 7 = 6 visitors + 1 randomized would give the randomized count away
	// (complementary suppression); each such cell hides fewer than
	// k*perPost sightings.
	var sightings, randomized, randomizedWithheld, sightingsWithheld int
	var aggs []map[string]any
	waitUntil := time.Now().Add(15 * time.Second)
	for {
		sightings, randomized, randomizedWithheld, sightingsWithheld, aggs = 0, 0, 0, 0, nil
		for _, l := range sink.records() {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("bad line %q: %v", l, err)
			}
			aggs = append(aggs, m)
			s, _ := m["sightings"].(float64)
			r, _ := m["randomized_sightings"].(float64)
			sightings += int(s)
			randomized += int(r)
			if withheld(m, "randomized_sightings") {
				randomizedWithheld++
			}
			if withheld(m, "sightings") {
				sightingsWithheld++
			}
		}
		if sightings+sightingsWithheld*(k-1)*perPost >= acked*perPost || time.Now().After(waitUntil) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code := p.stop(); code != 0 {
		t.Errorf("exit code after SIGTERM: %d", code)
	}
	t.Logf("posts acknowledged %d (%d before the kill), %d sightings; aggregates %d counting %d sightings (%d randomized, withheld below k in %d cells; sightings withheld in %d)",
		acked, ackedAtKill, acked*perPost, len(aggs), sightings, randomized, randomizedWithheld, sightingsWithheld)
	// Randomized sightings may be withheld, each cell fewer than k; the
	// sightings only where a cell caught fewer than k posts.
	missing := acked*randomizedPerPost - randomized
	missingSightings := acked*perPost - sightings
	if missingSightings < 0 || missingSightings > sightingsWithheld*(k-1)*perPost || (missingSightings > 0) != (sightingsWithheld > 0) ||
		missing < 0 || missing > randomizedWithheld*(k-1) || (missing > 0) != (randomizedWithheld > 0) {
		t.Errorf("aggregates count %d sightings (%d randomized, %d cells withholding randomized, %d withholding sightings); acknowledged %d (%d)\n%s",
			sightings, randomized, randomizedWithheld, sightingsWithheld, acked*perPost, acked*randomizedPerPost, p.logText())
	}
	cells := map[string]bool{}
	for _, m := range aggs {
		if m["kind"] != "ble_aggregate" {
			t.Fatalf("a record other than an aggregate reached the destination: %v", m)
		}
		cell := fmt.Sprint(m["store"], m["zone"], m["start"])
		if cells[cell] {
			t.Errorf("cell %s sent twice", cell)
		}
		cells[cell] = true
		if v := m["visitors"].(float64); v < k || v > devices {
			t.Errorf("cell %s: %v visitors; want 3..%d (the randomized phone is no visitor)", cell, v, devices)
		}
	}
}

// withheld reports whether an aggregate names field among the counts it
// withheld for being below k.
func withheld(agg map[string]any, field string) bool {
	list, _ := agg["suppressed"].([]any)
	for _, f := range list {
		if f == field {
			return true
		}
	}
	return false
}
