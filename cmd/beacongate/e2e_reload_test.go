package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock/clocktest"
)

// reloadConfig is a valid config whose analytics policy truncates IPv4
// addresses to prefix bits. The load generator's events carry the explicit
// analytics consent and come through a trusted proxy (127.0.0.1) for the
// client 203.0.113.77, so the ip field shows which prefix was live.
func reloadConfig(url string, prefix int) string {
	return httpDestConfig(url, "zstd", fmt.Sprintf(`server:
  trusted_proxies: [127.0.0.1/32]
policies:
  analytics:
    ip: {action: truncate, v4_prefix: %d}
`, prefix))
}

// reloadClientIP is the client address the load generator claims through
// X-Forwarded-For, and reloadIPs what the two policies keep of it.
const reloadClientIP = "203.0.113.77"

var reloadIPs = map[int]string{24: "203.0.113.0", 16: "203.0.0.0"}

// stablePeriod is a stretch of time during which one config was certainly
// live: from the end of the reload that applied it to the start of the next
// valid reload.
type stablePeriod struct {
	from, to time.Time
	prefix   int
	checked  int // records whose whole request fell inside the period
	policies map[string]bool
}

// TestE2EReloadUnderLoad alternates valid config files (analytics v4_prefix
// 24 and 16) under load, through POST /-/reload and SIGHUP, with an invalid
// file (a misspelt key) in between that must be refused while the old
// config stays live. No request may fail, no acknowledged event may be
// lost, and every event handled entirely after a reload must show the new
// prefix.
func TestE2EReloadUnderLoad(t *testing.T) {
	start := time.Now()
	col := newCollector(t)
	dir := t.TempDir()
	cfgPath := writeE2EConfig(t, dir, "reload.yaml", reloadConfig(col.url(), 24))
	invalid := strings.Replace(reloadConfig(col.url(), 16), "v4_prefix", "v4_prefx", 1)

	p := startGateway(t, filepath.Join(dir, "data"), cfgPath)
	load := newLoadGen(t, "http://"+p.addr)
	load.headers = map[string]string{"X-Forwarded-For": reloadClientIP}
	periods := []*stablePeriod{{from: time.Now(), prefix: 24}}
	load.start(3)
	hold := time.Duration(e2eScale(600, 300)) * time.Millisecond

	write := func(text string) {
		t.Helper()
		// Rewritten in place, as an editor or a config-management tool
		// without atomic rename would.
		if err := os.WriteFile(cfgPath, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	postReload := func() int {
		t.Helper()
		resp, err := http.Post("http://"+p.admin+"/-/reload", "", nil)
		if err != nil {
			t.Fatalf("POST /-/reload: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// waitMetric waits until the counter reaches want: SIGHUP is handled
	// asynchronously, and the file must not be rewritten before it is read.
	waitMetric := func(name string, want float64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for metricValue(t, p, name) < want {
			if time.Now().After(deadline) {
				t.Fatalf("%s did not reach %v within 10s\n%s", name, want, p.logText())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	reloads, failures := 0.0, 0.0
	valid := func(prefix int, viaSIGHUP bool) {
		t.Helper()
		time.Sleep(hold)
		write(reloadConfig(col.url(), prefix))
		periods[len(periods)-1].to = time.Now()
		reloads++
		if viaSIGHUP {
			if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			waitMetric("beacongate_config_reloads_total", reloads)
		} else if st := postReload(); st != http.StatusOK {
			t.Fatalf("POST /-/reload of a valid file: %d\n%s", st, p.logText())
		}
		periods = append(periods, &stablePeriod{from: time.Now(), prefix: prefix})
	}
	refused := func(viaSIGHUP bool) {
		t.Helper()
		time.Sleep(hold / 2)
		write(invalid)
		failures++
		if viaSIGHUP {
			if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			waitMetric("beacongate_config_reload_failures_total", failures)
		} else if st := postReload(); st >= 200 && st < 300 {
			t.Errorf("POST /-/reload of a file with a misspelt key answered %d; want it refused", st)
		}
	}

	valid(16, false) // POST
	valid(24, true)  // SIGHUP
	refused(false)   // POST: 24 stays live
	valid(16, true)  // SIGHUP
	refused(true)    // SIGHUP: 16 stays live
	valid(24, false) // POST
	time.Sleep(hold)
	periods[len(periods)-1].to = time.Now()
	load.stop()

	gotReloads := metricValue(t, p, "beacongate_config_reloads_total")
	gotFailures := metricValue(t, p, "beacongate_config_reload_failures_total")
	if gotReloads != reloads || gotFailures != failures {
		t.Errorf("metrics: reloads_total=%v reload_failures_total=%v; want %v and %v", gotReloads, gotFailures, reloads, failures)
	}
	if st, _ := httpGet(t, "http://"+p.admin+"/readyz"); st != 200 {
		t.Errorf("/readyz after the reloads: %d", st)
	}

	acked := load.snapshot()
	missing := col.waitFor(acked, 30*time.Second)
	st := col.stats()
	t.Logf("reload: %s", load.summary())
	t.Logf("reload: collector records=%d batches=%d; lost=%d duplicates(by seq)=%d; reloads=%v refused=%v",
		st.records, st.batches, len(missing), st.dupSeqs, gotReloads, gotFailures)
	load.mu.Lock()
	if n := load.errs.Load(); n > 0 || len(load.statuses) > 0 {
		t.Errorf("requests failed during reloads: %d transport errors %q, non-204 answers %v", n, load.errSamp, load.statuses)
	}
	load.mu.Unlock()
	if len(missing) > 0 {
		t.Errorf("%d acknowledged events lost across reloads (first: %v)", len(missing), missing[:min(len(missing), 20)])
	}
	col.checkClean(t, load.next.Load())

	// Every record must carry one of the two truncations; a record whose
	// request lay entirely inside a stable period must carry that
	// period's.
	col.mu.Lock()
	wrong := 0
	for _, r := range col.records {
		if r.IP != reloadIPs[24] && r.IP != reloadIPs[16] {
			t.Errorf("record with ip %q, want %s or %s: %.300s", r.IP, reloadIPs[24], reloadIPs[16], r.raw)
			break
		}
		span, ok := acked[r.seq()]
		if !ok {
			continue
		}
		for _, per := range periods {
			if span.sent.After(per.from) && span.acked.Before(per.to) {
				per.checked++
				if per.policies == nil {
					per.policies = map[string]bool{}
				}
				per.policies[r.Policy] = true
				if r.IP != reloadIPs[per.prefix] {
					if wrong++; wrong <= 5 {
						t.Errorf("seq %d handled in [%v, %v] after the reload to v4_prefix %d has ip %q, want %q",
							r.seq(), span.sent.Sub(start), span.acked.Sub(start), per.prefix, r.IP, reloadIPs[per.prefix])
					}
				}
			}
		}
	}
	col.mu.Unlock()
	if wrong > 0 {
		t.Errorf("%d records did not reflect the config live when they were handled", wrong)
	}
	policyOf := map[int]map[string]bool{}
	for i, per := range periods {
		t.Logf("period %d: v4_prefix %d, %v..%v, %d records checked, policy versions %v",
			i, per.prefix, per.from.Sub(start).Round(time.Millisecond), per.to.Sub(start).Round(time.Millisecond), per.checked, e2eKeys(per.policies))
		if per.checked == 0 {
			t.Errorf("period %d (v4_prefix %d) has no record entirely inside it: the test checked nothing there", i, per.prefix)
		}
		if policyOf[per.prefix] == nil {
			policyOf[per.prefix] = map[string]bool{}
		}
		for v := range per.policies {
			policyOf[per.prefix][v] = true
		}
	}
	if len(policyOf[24]) != 1 || len(policyOf[16]) != 1 || e2eKeys(policyOf[24])[0] == e2eKeys(policyOf[16])[0] {
		t.Errorf("policy versions: v4_prefix 24 → %v, 16 → %v; want one distinct version each", e2eKeys(policyOf[24]), e2eKeys(policyOf[16]))
	}
	if !strings.Contains(p.logText(), "config reload refused") {
		t.Errorf("no log line for the refused reload\n%s", p.logText())
	}
	stopAt := time.Now()
	if code := p.stop(); code != 0 {
		t.Errorf("exit code after SIGTERM: %d\n%s", code, p.logText())
	}
	t.Logf("SIGTERM to exit: %v", time.Since(stopAt).Round(time.Millisecond))
	t.Logf("reload: runtime %v", time.Since(start).Round(time.Millisecond))
}

func e2eKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestE2EReloadLastSuccessful: beacongate_config_last_reload_successful
// is 0 from a refused reload until one succeeds. With only the failure
// counter, BeacongateReloadFailed (increase over 15 minutes) resolved
// itself 15 minutes after a refused reload while the invalid file was
// still in place, the one the next restart would refuse to start with.
func TestE2EReloadLastSuccessful(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeE2EConfig(t, dir, "c.yaml", "server:\n  drain_delay: 0s\n")
	p := startGateway(t, filepath.Join(dir, "data"), cfgPath)
	const name = "beacongate_config_last_reload_successful"
	reload := func(text string, want float64) {
		t.Helper()
		if err := os.WriteFile(cfgPath, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post("http://"+p.admin+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := metricValue(t, p, name); got != want {
			t.Fatalf("%s = %v after a reload answered %d; want %v", name, got, resp.StatusCode, want)
		}
	}
	if got := metricValue(t, p, name); got != 1 {
		t.Fatalf("%s = %v after the start; want 1", name, got)
	}
	reload("server:\n  drain_dela: 0s\n", 0) // refused: a misspelt key
	reload("server:\n  drain_delay: 0s\n", 1)
	p.stop()
}

// TestE2EReloadSaysWhatNeedsRestart: a reload that changes settings read
// only at start (here spool.max_bytes and pseudonym.period) applies the
// rest and keeps their running values; the answer to POST /-/reload names
// them, as the log's warning does, instead of a bare "reloaded" that tells
// the operator they are live, and so does the audit log's entry.
func TestE2EReloadSaysWhatNeedsRestart(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfgPath := writeE2EConfig(t, dir, "c.yaml", "spool: {max_bytes: 2GiB}\n")
	p := startGatewayAt(t, clocktest.Golden, data, cfgPath)
	reload := func(text string) string {
		t.Helper()
		if err := os.WriteFile(cfgPath, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post("http://"+p.admin+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("reload answered %d: %s", resp.StatusCode, body)
		}
		return string(body)
	}
	if got := reload("spool: {max_bytes: 2GiB}\n"); got != "reloaded\n" {
		t.Errorf("an unchanged file: reload answered %q, want \"reloaded\\n\"", got)
	}
	got := reload("spool: {max_bytes: 1GiB}\npseudonym: {period: 12h}\n")
	for _, key := range []string{"spool.max_bytes", "pseudonym.period", "next restart"} {
		if !strings.Contains(got, key) {
			t.Errorf("reload answered %q, which does not name %s", got, key)
		}
	}
	p.stop()
	log, err := os.ReadFile(filepath.Join(data, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), `"needs_restart":"pseudonym.period spool.max_bytes"`) {
		t.Errorf("the audit log does not name the settings the reload left for the restart:\n%s", log)
	}
}
