package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// This file holds the kill -9 end-to-end tests and the helpers shared by the
// E2E tests: an HTTP collector standing in for an upstream destination, and
// a load generator whose events carry a client-chosen seq property.

// e2eRecord is the part of an output record (schema/record.schema.json) the
// E2E tests look at.
type e2eRecord struct {
	V        int    `json:"v"`
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Site     string `json:"site"`
	Event    string `json:"event"`
	Policy   string `json:"policy"`
	IP       string `json:"ip"`
	URL      string `json:"url"`
	Referrer string `json:"referrer"`
	User     string `json:"user"`
	Client   string `json:"client"`
	Consent  struct {
		State  string `json:"state"`
		Signal string `json:"signal"`
	} `json:"consent"`
	Props map[string]any `json:"props"`

	raw string // the NDJSON line as received
}

// seq returns the record's seq property, or -1.
func (r *e2eRecord) seq() int64 {
	f, ok := r.Props["seq"].(float64)
	if !ok {
		return -1
	}
	return int64(f)
}

// parseNDJSON parses complete NDJSON lines. A trailing line without '\n' is
// ignored when partialTail is set (a file that is still being written).
func parseNDJSON(data []byte, partialTail bool) ([]e2eRecord, error) {
	var recs []e2eRecord
	for len(data) > 0 {
		line, rest, found := bytes.Cut(data, []byte("\n"))
		if !found && partialTail {
			break
		}
		data = rest
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r e2eRecord
		if err := json.Unmarshal(line, &r); err != nil {
			return recs, fmt.Errorf("bad NDJSON line %.200q: %w", line, err)
		}
		if r.V != 1 || len(r.ID) != 22 || r.Kind == "" || r.Site == "" || r.Policy == "" || r.Consent.State == "" {
			return recs, fmt.Errorf("record misses required fields: %.300s", line)
		}
		r.raw = string(line)
		recs = append(recs, r)
	}
	return recs, nil
}

// collector is an HTTP destination on 127.0.0.1 that decodes the batches the
// gateway POSTs and keeps every record. It can answer 503 ("down") or stop
// listening altogether, and come back on the same address.
type collector struct {
	t     *testing.T
	addr  string
	down  atomic.Bool   // answer 503 without reading the body
	delay time.Duration // wait after storing a batch, before answering; set before use

	srvMu sync.Mutex
	srv   *http.Server

	mu         sync.Mutex
	records    []e2eRecord
	bySeq      map[int64]int
	byID       map[string]int
	batches    int
	refused    int // answered 503
	badBodies  int // bodies that could not be read or decoded (a killed sender)
	encodings  map[string]int
	badRecords []string
}

func newCollector(t *testing.T) *collector {
	t.Helper()
	c := &collector{t: t, bySeq: map[int64]int{}, byID: map[string]int{}, encodings: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.addr = ln.Addr().String()
	c.serve(ln)
	t.Cleanup(c.close)
	return c
}

func (c *collector) url() string { return "http://" + c.addr + "/ingest" }

func (c *collector) serve(ln net.Listener) {
	srv := &http.Server{Handler: c, ReadHeaderTimeout: 5 * time.Second}
	c.srvMu.Lock()
	c.srv = srv
	c.srvMu.Unlock()
	go srv.Serve(ln)
}

// close stops listening and drops open connections.
func (c *collector) close() {
	c.srvMu.Lock()
	defer c.srvMu.Unlock()
	if c.srv != nil {
		c.srv.Close()
		c.srv = nil
	}
}

// reopen listens again on the same address.
func (c *collector) reopen() {
	c.t.Helper()
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ln, err = net.Listen("tcp", c.addr); err == nil {
			c.serve(ln)
			return
		}
	}
	c.t.Fatalf("collector cannot listen on %s again: %v", c.addr, err)
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.down.Load() {
		c.mu.Lock()
		c.refused++
		c.mu.Unlock()
		http.Error(w, "collector down", http.StatusServiceUnavailable)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	enc := r.Header.Get("Content-Encoding")
	var body io.Reader = r.Body
	switch enc {
	case "zstd":
		d, err := zstd.NewReader(r.Body, zstd.WithDecoderConcurrency(1))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer d.Close()
		body = d
	case "gzip":
		g, err := gzip.NewReader(r.Body)
		if err != nil {
			c.noteBad()
			http.Error(w, err.Error(), http.StatusInternalServerError) // retryable
			return
		}
		body = g
	case "":
	default:
		c.mu.Lock()
		c.badRecords = append(c.badRecords, "unknown Content-Encoding "+enc)
		c.mu.Unlock()
		http.Error(w, "encoding", http.StatusInternalServerError)
		return
	}
	data, err := io.ReadAll(body)
	if err != nil {
		// A sender killed mid-POST leaves a truncated body. Answer with a
		// retryable status and keep nothing, as a real collector would.
		c.noteBad()
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	recs, err := parseNDJSON(data, false)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches++
	c.encodings[enc]++
	if err != nil {
		c.badRecords = append(c.badRecords, err.Error())
	}
	for _, rec := range recs {
		c.records = append(c.records, rec)
		c.byID[rec.ID]++
		if s := rec.seq(); s >= 0 {
			c.bySeq[s]++
		}
	}
	c.mu.Unlock()
	time.Sleep(c.delay)
	c.mu.Lock()
	w.WriteHeader(http.StatusOK)
}

func (c *collector) noteBad() {
	c.mu.Lock()
	c.badBodies++
	c.mu.Unlock()
}

// missing returns the seqs in want that have not arrived, sorted.
func (c *collector) missing(want map[int64]ackSpan) []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int64
	for s := range want {
		if c.bySeq[s] == 0 {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// waitFor polls until every seq in want has arrived or the timeout passes,
// and returns the seqs still missing.
func (c *collector) waitFor(want map[int64]ackSpan, timeout time.Duration) []int64 {
	deadline := time.Now().Add(timeout)
	for {
		m := c.missing(want)
		if len(m) == 0 || time.Now().After(deadline) {
			return m
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// collectorStats summarises what arrived.
type collectorStats struct {
	records, batches, refused, badBodies int
	dupSeqs, dupIDs                      int // records beyond the first per seq / per id
	maxSeq                               int64
}

func (c *collector) stats() collectorStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := collectorStats{records: len(c.records), batches: c.batches, refused: c.refused, badBodies: c.badBodies, maxSeq: -1}
	for seq, n := range c.bySeq {
		s.dupSeqs += n - 1
		s.maxSeq = max(s.maxSeq, seq)
	}
	for _, n := range c.byID {
		s.dupIDs += n - 1
	}
	return s
}

// checkClean fails the test on records that did not parse or miss required
// fields, and on seqs that were never sent.
func (c *collector) checkClean(t *testing.T, sent int64) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.badRecords {
		t.Errorf("collector: %s", b)
	}
	for _, r := range c.records {
		if s := r.seq(); s < 0 || s >= sent {
			t.Errorf("collector got a record with seq %d, never sent (sent 0..%d): %.300s", s, sent-1, r.raw)
			return
		}
	}
}

// ackSpan is when a seq was allocated (just before its request was sent)
// and when its request was acknowledged.
type ackSpan struct{ sent, acked time.Time }

// loadGen sends sendBeacon-style POSTs to /b from several goroutines. Each
// event carries a unique props.seq; a seq is acknowledged when its request
// got 204.
type loadGen struct {
	t       *testing.T
	base    atomic.Pointer[string] // gateway base URL; swapped on restart
	client  *http.Client
	headers map[string]string // extra request headers, e.g. X-Forwarded-For
	site    string

	next     atomic.Int64 // next seq to allocate
	requests atomic.Int64
	errs     atomic.Int64 // transport errors (no answer)

	mu       sync.Mutex
	acked    map[int64]ackSpan
	statuses map[int]int // answers other than 204
	errSamp  []string

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newLoadGen(t *testing.T, base string) *loadGen {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	g := &loadGen{
		t:        t,
		client:   &http.Client{Timeout: 10 * time.Second, Transport: tr},
		site:     "e2e",
		acked:    map[int64]ackSpan{},
		statuses: map[int]int{},
	}
	g.setBase(base)
	t.Cleanup(func() { g.stop(); tr.CloseIdleConnections() })
	return g
}

func (g *loadGen) setBase(base string) { g.base.Store(&base) }

// start runs n senders until stop. Request i of a sender carries 1 event,
// or an array of 5; bodies alternate between text/plain (what sendBeacon
// sends for a string) and application/json.
func (g *loadGen) start(n int) {
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	for w := 0; w < n; w++ {
		g.wg.Add(1)
		go func(w int) {
			defer g.wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				size := 1
				if (i+w)%2 == 1 {
					size = 5
				}
				ct := "text/plain;charset=UTF-8"
				if i%3 == 2 {
					ct = "application/json"
				}
				if !g.send(size, ct) {
					// The gateway is not there (killed): do not spin.
					time.Sleep(20 * time.Millisecond)
				}
			}
		}(w)
	}
}

// stop stops the senders and waits for the requests in flight.
func (g *loadGen) stop() {
	if g.cancel != nil {
		g.cancel()
		g.wg.Wait()
	}
}

// send posts one request; it reports false on a transport error.
func (g *loadGen) send(size int, ct string) bool {
	first := g.next.Add(int64(size)) - int64(size)
	var b bytes.Buffer
	if size > 1 {
		b.WriteByte('[')
	}
	for k := 0; k < size; k++ {
		if k > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"site":%q,"event":"load","consent":"analytics","props":{"seq":%d}}`, g.site, first+int64(k))
	}
	if size > 1 {
		b.WriteByte(']')
	}
	req, err := http.NewRequest(http.MethodPost, *g.base.Load()+"/b", &b)
	if err != nil {
		g.t.Error(err)
		return false
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	for k, v := range g.headers {
		req.Header.Set(k, v)
	}
	sent := time.Now()
	g.requests.Add(1)
	resp, err := g.client.Do(req)
	if err != nil {
		g.errs.Add(1)
		g.mu.Lock()
		if len(g.errSamp) < 3 {
			g.errSamp = append(g.errSamp, err.Error())
		}
		g.mu.Unlock()
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	acked := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if resp.StatusCode != http.StatusNoContent {
		g.statuses[resp.StatusCode]++
		return true
	}
	for k := 0; k < size; k++ {
		g.acked[first+int64(k)] = ackSpan{sent: sent, acked: acked}
	}
	return true
}

// ackedCount returns how many seqs have been acknowledged so far.
func (g *loadGen) ackedCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.acked)
}

// snapshot copies the acknowledged seqs.
func (g *loadGen) snapshot() map[int64]ackSpan {
	g.mu.Lock()
	defer g.mu.Unlock()
	m := make(map[int64]ackSpan, len(g.acked))
	for k, v := range g.acked {
		m[k] = v
	}
	return m
}

func (g *loadGen) summary() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return fmt.Sprintf("requests=%d events_sent=%d acknowledged=%d transport_errors=%d other_statuses=%v error_samples=%q",
		g.requests.Load(), g.next.Load(), len(g.acked), g.errs.Load(), g.statuses, g.errSamp)
}

// waitPhase lets the load run for at least d and until at least n more
// seqs are acknowledged (bounded by 15s).
func (g *loadGen) waitPhase(n int, d time.Duration) {
	until := time.Now().Add(d)
	g.waitAcked(g.ackedCount()+n, 15*time.Second)
	time.Sleep(time.Until(until))
}

// waitAcked waits until at least n seqs are acknowledged (or the timeout).
func (g *loadGen) waitAcked(n int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for g.ackedCount() < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// writeE2EConfig writes a config file into dir and returns its path.
func writeE2EConfig(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// httpDestConfig is a config with one http destination at url, fast
// batching and retries, and a seq property kept under the analytics policy.
func httpDestConfig(url, compression, extra string) string {
	return `properties:
  allow: [seq]
destinations:
  - name: collector
    type: http
    compression: ` + compression + `
    batch: {max_events: 2000, max_age: 200ms}
    http:
      url: ` + url + `
      timeout: 2s
      retry: {initial_backoff: 20ms, max_backoff: 300ms}
` + extra
}

// metricValue reads one unlabelled sample from the admin /metrics page.
func metricValue(t *testing.T, p *gatewayProc, name string) float64 {
	t.Helper()
	st, body := httpGet(t, "http://"+p.admin+"/metrics")
	if st != 200 {
		t.Fatalf("admin /metrics: %d", st)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metric %s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("metric %s not on /metrics", name)
	return 0
}

func e2eScale(full, short int) int {
	if testing.Short() {
		return short
	}
	return full
}

// TestE2EKill9 kills the gateway with SIGKILL under load, twice (the second
// time while it may still be replaying the spool left by the first),
// restarts it on the same data directory each time and checks that every
// acknowledged event reaches the HTTP destination (at-least-once:
// duplicates are allowed and reported). The collector answers each batch
// after a delay, so that a kill can fall between the collector storing a
// batch and the gateway seeing the answer.
func TestE2EKill9(t *testing.T) {
	start := time.Now()
	col := newCollector(t)
	col.delay = 50 * time.Millisecond
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := writeE2EConfig(t, dir, "kill.yaml", httpDestConfig(col.url(), "zstd", ""))

	p := startGateway(t, data, cfg)
	load := newLoadGen(t, "http://"+p.addr)
	load.start(4)
	phase := time.Duration(e2eScale(1500, 700)) * time.Millisecond
	const kills = 2
	for k := 1; k <= kills; k++ {
		// Kill while events are both in flight to the gateway and
		// waiting in the spool for their batch (max_age 200ms).
		load.waitPhase(e2eScale(3000, 1000), phase)
		ackedBefore := load.snapshot()
		pendingAtKill := len(col.missing(ackedBefore))
		p.kill()
		killedAt := time.Now()
		time.Sleep(200 * time.Millisecond) // senders see connection errors
		p = startGateway(t, data, cfg)
		load.setBase("http://" + p.addr)
		t.Logf("kill %d: acknowledged before the kill=%d, of which not yet at the collector=%d; back to listening after %v",
			k, len(ackedBefore), pendingAtKill, time.Since(killedAt).Round(time.Millisecond))
	}
	load.waitPhase(e2eScale(3000, 1000), phase)
	load.stop()

	acked := load.snapshot()
	missing := col.waitFor(acked, 30*time.Second)
	st := col.stats()
	t.Logf("kill -9: %s", load.summary())
	t.Logf("kill -9: collector records=%d batches=%d truncated_bodies=%d; lost=%d duplicates(by seq)=%d duplicates(by id)=%d; runtime %v",
		st.records, st.batches, st.badBodies, len(missing), st.dupSeqs, st.dupIDs, time.Since(start).Round(time.Millisecond))
	if len(missing) > 0 {
		t.Errorf("%d acknowledged events lost after kill -9 (first: %v)\n%s", len(missing), missing[:min(len(missing), 20)], p.logText())
	}
	col.checkClean(t, load.next.Load())
	stopAt := time.Now()
	if code := p.stop(); code != 0 {
		t.Errorf("exit code after SIGTERM: %d\n%s", code, p.logText())
	}
	t.Logf("SIGTERM to exit: %v", time.Since(stopAt).Round(time.Millisecond))
}

// TestE2EKill9CollectorDown runs the load while the HTTP destination first
// answers 503, then is not listening at all; the gateway is killed with
// SIGKILL while the destination is gone and restarted; then the destination
// comes back. Every acknowledged event must arrive.
func TestE2EKill9CollectorDown(t *testing.T) {
	start := time.Now()
	col := newCollector(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := writeE2EConfig(t, dir, "down.yaml", httpDestConfig(col.url(), "gzip", ""))

	p := startGateway(t, data, cfg)
	load := newLoadGen(t, "http://"+p.addr)
	load.start(4)
	phase := time.Duration(e2eScale(1000, 500)) * time.Millisecond
	load.waitPhase(e2eScale(1000, 300), phase/2)

	col.down.Store(true) // phase 1: 503
	load.waitPhase(e2eScale(2000, 500), phase)
	col.close() // phase 2: connection refused
	col.down.Store(false)
	load.waitPhase(e2eScale(2000, 500), phase)

	ackedBefore := load.snapshot()
	pendingAtKill := len(col.missing(ackedBefore))
	p.kill()
	time.Sleep(200 * time.Millisecond)
	p2 := startGateway(t, data, cfg)
	load.setBase("http://" + p2.addr)
	load.waitPhase(e2eScale(2000, 500), phase/2)
	stillDown := len(col.missing(load.snapshot()))

	col.reopen() // phase 3: back
	load.waitPhase(e2eScale(1000, 300), phase/2)
	load.stop()

	acked := load.snapshot()
	missing := col.waitFor(acked, 30*time.Second)
	st := col.stats()
	t.Logf("collector down: %s", load.summary())
	t.Logf("collector down: acknowledged before kill=%d, not delivered when killed=%d, not delivered just before the collector came back=%d; collector answered 503 %d times",
		len(ackedBefore), pendingAtKill, stillDown, st.refused)
	t.Logf("collector down: collector records=%d batches=%d; lost=%d duplicates(by seq)=%d duplicates(by id)=%d; runtime %v",
		st.records, st.batches, len(missing), st.dupSeqs, st.dupIDs, time.Since(start).Round(time.Millisecond))
	if st.refused == 0 {
		t.Errorf("the gateway never tried the collector while it answered 503")
	}
	if len(missing) > 0 {
		t.Errorf("%d acknowledged events lost (first: %v)\n%s", len(missing), missing[:min(len(missing), 20)], p2.logText())
	}
	col.checkClean(t, load.next.Load())
	stopAt := time.Now()
	if code := p2.stop(); code != 0 {
		t.Errorf("exit code after SIGTERM: %d\n%s", code, p2.logText())
	}
	t.Logf("SIGTERM to exit: %v", time.Since(stopAt).Round(time.Millisecond))
}
