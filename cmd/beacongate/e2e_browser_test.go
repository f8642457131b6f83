package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock/clocktest"
)

// browserPage is served from a different origin than the gateway's. It
// sends one event each way a browser tracker does: a pixel image, a
// navigator.sendBeacon with a string (text/plain;charset=UTF-8, no
// preflight), a sendBeacon with a JSON Blob (application/json: a
// credentialed CORS preflight first), a sendBeacon with an untyped Blob
// (no Content-Type at all, no preflight), a sendBeacon with FormData
// (multipart/form-data, no preflight) and a fetch with application/json
// (CORS preflight first). It writes what it saw into #out for --dump-dom.
const browserPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>beacongate e2e</title></head>
<body>
<img id="px" src="%[1]s/p.gif?site=browser-e2e&event=pixel_e2e" alt="">
<pre id="out"></pre>
<script>
var out = document.getElementById("out");
function note(s) { out.textContent += s + "\n"; }
document.getElementById("px").onload = function () { note("pixel:loaded"); };
document.getElementById("px").onerror = function () { note("pixel:error"); };
note("beacon:" + navigator.sendBeacon("%[1]s/b",
  JSON.stringify({site: "browser-e2e", event: "beacon_e2e", url: location.href})));
note("blob:" + navigator.sendBeacon("%[1]s/b",
  new Blob([JSON.stringify({site: "browser-e2e", event: "blob_e2e", uid: 12345})], {type: "application/json"})));
note("untyped:" + navigator.sendBeacon("%[1]s/b",
  new Blob([JSON.stringify({site: "browser-e2e", event: "untyped_e2e"})])));
var fd = new FormData();
fd.append("site", "browser-e2e");
fd.append("event", "formdata_e2e");
fd.append("p.cart_value", "129.5");
note("formdata:" + navigator.sendBeacon("%[1]s/b", fd));
fetch("%[1]s/b", {
  method: "POST", mode: "cors",
  headers: {"Content-Type": "application/json"},
  body: JSON.stringify({site: "browser-e2e", event: "fetch_e2e", consent: ["analytics"]})
}).then(function (r) { note("fetch:" + r.status); },
        function (e) { note("fetch:error:" + e); });
</script>
</body></html>
`

// TestE2EBrowser runs a real headless Chromium against the gateway: a page
// on one origin sends a pixel, a sendBeacon and a preflighted fetch to the
// gateway on another origin listed under sites. All six events must
// reach the file output with the right kinds: sendBeacon returning true
// proves only that the browser queued the request.
func TestE2EBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not on PATH (Debian package chromium; .ci/run installs it): skipping the browser test")
	}
	start := time.Now()
	var gwBase string
	var mu sync.Mutex
	var pageHits []string
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		pageHits = append(pageHits, r.Method+" "+r.URL.Path)
		base := gwBase
		mu.Unlock()
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, browserPage, base)
	}))
	defer page.Close()

	dir := t.TempDir()
	cfg := writeE2EConfig(t, dir, "browser.yaml", `sites:
  - id: browser-e2e
    origins: [`+page.URL+`]
destinations:
  - name: local
    type: file
    batch: {max_age: 100ms}
`)
	data := filepath.Join(dir, "data")
	p := startGatewayAt(t, clocktest.Golden, data, cfg)
	mu.Lock()
	gwBase = "http://" + p.addr
	mu.Unlock()
	if !strings.HasPrefix(page.URL, "http://127.0.0.1:") || page.URL == "http://"+p.addr {
		t.Fatalf("page %s and gateway %s must be different origins on 127.0.0.1", page.URL, p.addr)
	}

	profile := filepath.Join(dir, "chromium-profile")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir="+profile,
		"--virtual-time-budget=5000", "--dump-dom", page.URL+"/")
	// TMPDIR too: Chromium makes org.chromium.Chromium.* directories there
	// and leaves them behind.
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_CACHE_HOME="+dir, "TMPDIR="+dir)
	// Chromium starts helper processes: run it in its own process group and
	// end the whole group, by its id, on timeout and when done.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // helpers left behind, if any
	}
	browserTime := time.Since(start)
	if err != nil {
		t.Fatalf("chromium: %v (after %v)\nstderr:\n%.4000s", err, browserTime, stderr.String())
	}
	t.Logf("chromium ran %v; DOM #out:\n%s", browserTime.Round(time.Millisecond), between(string(dom), `<pre id="out">`, `</pre>`))
	for _, want := range []string{"pixel:loaded", "beacon:true", "blob:true", "untyped:true", "formdata:true", "fetch:204"} {
		if !strings.Contains(string(dom), want) {
			t.Errorf("the page did not note %q (CORS or the endpoint failed in the browser)", want)
		}
	}

	want := map[string]string{"pixel_e2e": "pixel", "beacon_e2e": "beacon", "blob_e2e": "beacon", "untyped_e2e": "beacon", "formdata_e2e": "beacon", "fetch_e2e": "beacon"}
	out := filepath.Join(data, "out")
	_, recs := waitOut(t, out, 10*time.Second, func(r []e2eRecord) bool {
		seen := 0
		for _, rec := range r {
			if _, ok := want[rec.Event]; ok {
				seen++
			}
		}
		return seen >= len(want)
	})
	got := map[string]int{}
	for _, r := range recs {
		t.Logf("record: %s", r.raw)
		got[r.Event]++
		kind, ok := want[r.Event]
		if !ok {
			t.Errorf("unexpected event %q", r.Event)
			continue
		}
		// The gateway's clock starts at the pinned instant (startGatewayAt).
		if day := clocktest.Golden.Format("2006-01-02"); !strings.Contains(r.raw, `"received":"`+day+`T`) {
			t.Errorf("event %s: not received on the pinned day %s: %s", r.Event, day, r.raw)
		}
		if r.Kind != kind || r.Site != "browser-e2e" {
			t.Errorf("event %s: kind %q site %q; want %s, browser-e2e", r.Event, r.Kind, r.Site, kind)
		}
		wantState := "none"
		if r.Event == "fetch_e2e" {
			wantState = "analytics" // explicit consent in the fetch body
		}
		if r.Consent.State != wantState {
			t.Errorf("event %s: consent state %q, want %s", r.Event, r.Consent.State, wantState)
		}
	}
	for ev := range want {
		if got[ev] != 1 {
			t.Errorf("event %s: %d records, want 1", ev, got[ev])
		}
	}
	if st, m := httpGet(t, "http://"+p.admin+"/metrics"); st == 200 {
		for _, line := range strings.Split(string(m), "\n") {
			if strings.HasPrefix(line, "beacongate_gateway_rejected_total{") && !strings.HasSuffix(line, " 0") {
				t.Errorf("the gateway rejected a browser request: %s", line)
			}
		}
	}
	mu.Lock()
	t.Logf("page server saw %v", pageHits)
	mu.Unlock()
	stopAt := time.Now()
	if code := p.stop(); code != 0 {
		t.Errorf("exit code after SIGTERM: %d\n%s", code, p.logText())
	}
	t.Logf("SIGTERM to exit: %v", time.Since(stopAt).Round(time.Millisecond))
	t.Logf("browser: runtime %v", time.Since(start).Round(time.Millisecond))
}

// between returns the text between the first from and the next to in s.
func between(s, from, to string) string {
	_, after, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	before, _, _ := strings.Cut(after, to)
	return before
}
