package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestE2EChurnUnderLoad runs, all at once and under load, what changes a
// running gateway's shared state: config reloads (POST /-/reload and
// SIGHUP), taps opened and closed, the suppression list edited (it is
// re-read every 2 s while requests check it), /metrics and /readyz
// scraped; then stops it with SIGTERM while all that still runs and
// delivery ships. It must exit 0. Under go test -race the gateway is built
// with -race (binPath), and startGateway's cleanup fails the test if it
// reported a race: this is the test that looks for one.
func TestE2EChurnUnderLoad(t *testing.T) {
	col := newCollector(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfgPath := writeE2EConfig(t, dir, "churn.yaml", reloadConfig(col.url(), 24))
	p := startGateway(t, data, cfgPath)
	load := newLoadGen(t, "http://"+p.addr)
	load.headers = map[string]string{"X-Forwarded-For": reloadClientIP}
	load.start(2)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }() // before the test ends, even when it fails
	churn := func(f func(i int)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				f(i)
			}
		}()
	}
	get := func(ctx context.Context, url string) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			t.Error(err)
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return // the gateway stopping, or the tap's time up
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	churn(func(i int) {
		tctx, tcancel := context.WithTimeout(ctx, time.Duration(50+i%4*50)*time.Millisecond)
		defer tcancel()
		get(tctx, "http://"+p.admin+"/tap?consent=analytics")
	})
	churn(func(int) {
		get(ctx, "http://"+p.admin+"/metrics")
		get(ctx, "http://"+p.admin+"/readyz")
	})
	churn(func(i int) {
		time.Sleep(150 * time.Millisecond)
		if err := os.WriteFile(cfgPath, []byte(reloadConfig(col.url(), 16+8*(i%2))), 0o644); err != nil {
			t.Error(err)
			return
		}
		if i%2 == 0 {
			p.cmd.Process.Signal(syscall.SIGHUP)
			return
		}
		if resp, err := http.Post("http://"+p.admin+"/-/reload", "", nil); err == nil {
			resp.Body.Close()
		}
	})
	churn(func(i int) {
		verb := "suppress"
		if i%2 == 1 {
			verb = "unsuppress"
		}
		out, err := exec.Command(binPath, "subject", verb, "-config", cfgPath, "-data", data,
			"-site", "e2e", "-id", "churn-"+strconv.Itoa(i/2)).CombinedOutput()
		if err != nil || raceReport(string(out)) {
			t.Errorf("subject %s: %v\n%s", verb, err, out)
		}
		time.Sleep(300 * time.Millisecond)
	})

	// Long enough for some suppression list reloads (every 2 s).
	time.Sleep(time.Duration(e2eScale(6000, 4500)) * time.Millisecond)
	if !strings.Contains(p.logText(), "suppression list reloaded") {
		t.Errorf("the suppression list was never reloaded while the churn ran\n%s", p.logText())
	}
	if metricValue(t, p, "beacongate_config_reloads_total") == 0 {
		t.Errorf("no reload applied while the churn ran\n%s", p.logText())
	}
	if code := p.stop(); code != 0 {
		t.Errorf("exit code after SIGTERM during the churn: %d (%v)\n%s", code, p.cmd.ProcessState, p.logText())
	}
}
