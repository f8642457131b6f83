package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock/clocktest"
)

// dlPolicyConfig is the config of TestE2EDeadletterReplayFollowsTheCurrentPolicy:
// an http destination (collector) and a file destination (other), each
// with extra keys of its own.
func dlPolicyConfig(url, collector, other string) string {
	return `consent:
  purposes: [analytics, ads]
properties:
  allow: [seq]
destinations:
  - name: collector
    type: http
    compression: gzip
    batch: {max_events: 2000, max_age: 200ms}
    http:
      url: ` + url + `
      timeout: 2s
      retry: {initial_backoff: 20ms, max_backoff: 300ms}
` + collector + `  - name: other
    type: file
` + other
}

// TestE2EDeadletterReplayFollowsTheCurrentPolicy: a collector refuses 20
// events for good (10 under analytics consent, 10 under analytics and ads,
// in the same batches), so they go to its dead letters. A replay sends a
// record only if the config now would have sent it to the collector in
// that very form: after the collector's analytics policy drops the
// address, the analytics records (which hold it, truncated) are held back;
// after the collector requires ads too, the analytics records are held
// back for that; a change to the other destination's policy holds nothing
// back. Held records stay in the dead letters (the batch keeps only
// them), the replay says how many and why and exits 3, -dry-run says the
// same and changes nothing, and -drop-outdated deletes them. The
// collector then gets the ads records alone. Before the fix every replay
// put all 20 back into the spool and exited 0: the collector would have
// got the address its policy now drops, and events whose consent no longer
// covers what it requires.
func TestE2EDeadletterReplayFollowsTheCurrentPolicy(t *testing.T) {
	var refuse atomic.Bool
	refuse.Store(true)
	var mu sync.Mutex
	var got []map[string]any
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, "bad gzip", http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if refuse.Load() {
			http.Error(w, "unknown tenant", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var rec map[string]any
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Errorf("collector: a record is not JSON: %v", err)
				continue
			}
			got = append(got, rec)
		}
		w.WriteHeader(http.StatusNoContent)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	url := "http://" + ln.Addr().String() + "/ingest"

	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	ipDrop := "    policies:\n      analytics:\n        ip: {action: drop}\n"
	cfgA := writeE2EConfig(t, dir, "a.yaml", dlPolicyConfig(url, "", ""))
	cfgOther := writeE2EConfig(t, dir, "other.yaml", dlPolicyConfig(url, "", ipDrop))
	cfgPolicy := writeE2EConfig(t, dir, "policy.yaml", dlPolicyConfig(url, ipDrop, ""))
	cfgRequires := writeE2EConfig(t, dir, "requires.yaml", dlPolicyConfig(url, "    requires: [analytics, ads]\n", ""))

	// The gateway and the commands run at clocktest.Golden, so that no
	// calendar day reaches the retention and age checks.
	pinClocks(t, clocktest.Golden)
	p := startGatewayAt(t, clocktest.Golden, data, cfgA)
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range 20 {
		if i > 0 {
			b.WriteByte(',')
		}
		c := "analytics"
		if i%2 == 1 {
			c = "analytics,ads"
		}
		fmt.Fprintf(&b, `{"site":"e2e","event":"load","consent":%q,"props":{"seq":%d}}`, c, i)
	}
	b.WriteByte(']')
	req, err := http.NewRequest(http.MethodPost, "http://"+p.addr+"/b", &b)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /b: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(15 * time.Second)
	for metricValue(t, p, `beacongate_upstream_dead_letter_records_total{destination="collector"}`) < 20 {
		if time.Now().After(deadline) {
			t.Fatalf("the events were not dead-lettered\n%s", p.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit code after SIGTERM: %d", code)
	}
	list := func() string {
		t.Helper()
		code, out, stderr := runCLI(t, "deadletter", "list", "-config", cfgA, "-data", data, "collector")
		if code != 0 {
			t.Fatalf("list: exit %d\n%s", code, stderr)
		}
		return out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]
	}
	before := list()
	if !strings.HasPrefix(before, "1 batches, 20 records") {
		t.Fatalf("dead letters: %s", before)
	}
	// Nothing of a record's values is ever printed.
	noValues := func(out string) {
		t.Helper()
		if strings.Contains(out, "127.0.0") || strings.Contains(out, `"seq"`) {
			t.Fatalf("the replay printed a record's values:\n%s", out)
		}
	}

	// Another destination's policy changed: the collector's records are
	// the same as they would be made now.
	code, out, stderr := runCLI(t, "deadletter", "replay", "-dry-run", "-config", cfgOther, "-data", data, "collector")
	if code != 0 || out != "dry run: replayed 1 batches, 20 records into the spool for collector\n" {
		t.Fatalf("dry run after the other destination's policy changed: exit %d\n%s%s", code, out, stderr)
	}

	// The collector's analytics policy now drops the address.
	code, out, stderr = runCLI(t, "deadletter", "replay", "-dry-run", "-config", cfgPolicy, "-data", data, "collector")
	noValues(out + stderr)
	if code != 3 || !strings.HasPrefix(out, "dry run: replayed 1 batches, 10 records into the spool for collector\n"+
		"dry run: held back 10 records in 1 batches that the config now would not send to collector in that form") ||
		!strings.Contains(out, "  10: the destination's policy") {
		t.Fatalf("dry run after the collector's policy changed: exit %d\n%s%s", code, out, stderr)
	}
	// The collector now requires ads as well.
	code, out, stderr = runCLI(t, "deadletter", "replay", "-dry-run", "-config", cfgRequires, "-data", data, "collector")
	if code != 3 || !strings.Contains(out, "dry run: held back 10 records") ||
		!strings.Contains(out, "  10: the purposes granted do not cover what the destination requires now") {
		t.Fatalf("dry run after the collector's requires changed: exit %d\n%s%s", code, out, stderr)
	}
	if after := list(); after != before {
		t.Fatalf("a dry run changed the dead letters: %s, was %s", after, before)
	}

	code, out, stderr = runCLI(t, "deadletter", "replay", "-config", cfgRequires, "-data", data, "collector")
	noValues(out + stderr)
	if code != 3 || !strings.HasPrefix(out, "replayed 1 batches, 10 records into the spool for collector\nheld back 10 records") ||
		!strings.Contains(stderr, "10 records of collector not replayed") {
		t.Fatalf("replay after the collector's requires changed: exit %d\n%s%s", code, out, stderr)
	}
	if after := list(); !strings.HasPrefix(after, "1 batches, 10 records") {
		t.Fatalf("after a replay that held 10 records back: %s", after)
	}
	// Run again: the held records are held again, nothing is appended twice.
	code, out, _ = runCLI(t, "deadletter", "replay", "-config", cfgRequires, "-data", data, "collector")
	if code != 3 || !strings.HasPrefix(out, "replayed 0 batches, 0 records into the spool for collector\nheld back 10 records") {
		t.Fatalf("second replay: exit %d\n%s", code, out)
	}
	code, out, stderr = runCLI(t, "deadletter", "replay", "-drop-outdated", "-config", cfgPolicy, "-data", data, "collector")
	if code != 0 || !strings.HasPrefix(out, "replayed 0 batches, 0 records into the spool for collector\ndropped 10 records in 1 batches") {
		t.Fatalf("replay -drop-outdated: exit %d\n%s%s", code, out, stderr)
	}
	if after := list(); !strings.HasPrefix(after, "0 batches, 0 records") {
		t.Fatalf("after -drop-outdated: %s", after)
	}

	refuse.Store(false) // the cause is fixed
	p = startGatewayAt(t, clocktest.Golden, data, cfgRequires)
	deadline = time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the collector got %d records of the 10 replayed\n%s", n, p.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // anything more would come in the next batch
	if code := p.stop(); code != 0 {
		t.Fatalf("exit code after SIGTERM: %d", code)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 10 {
		t.Fatalf("the collector got %d records, want the 10 under ads consent", len(got))
	}
	for _, rec := range got {
		c, _ := rec["consent"].(map[string]any)
		if c["state"] != "ads" {
			t.Fatalf("the collector got a record under %v consent, which it no longer accepts", c["state"])
		}
	}
	if _, err := os.Stat(filepath.Join(data, "policies")); err != nil {
		t.Fatalf("the gateway keeps no copy of its policies: %v", err)
	}
}
