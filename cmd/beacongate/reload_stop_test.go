package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestReloadRefusedOnceStopping: a SIGHUP once the gateway is stopping is
// ignored, but POST /-/reload was applied and answered "reloaded" while it
// drained, and a reload that ran on after the stop had closed delivery and
// released the data directory's lock still wrote the new policy's copy and
// its audit entry there, where the instance that replaces this one may
// already be writing its own (two writers on one audit log's hash chain).
// POST /-/reload now answers 503 once stopping, and a reload that reaches
// its last step after the stop began changes and writes nothing.
func TestReloadRefusedOnceStopping(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "c.yaml")
	write := func(def string) {
		t.Helper()
		yaml := "consent: {purposes: [analytics], default: " + def + "}\ndestinations:\n  - {name: local, type: file, tcf: {without_vendor: true}}\n"
		if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("[analytics]")
	log := slog.New(slog.DiscardHandler)
	data := filepath.Join(dir, "data")
	a, err := startApp(serveFlags{config: cfgPath, data: data}, map[string]bool{"data": true}, prometheus.NewRegistry(), log)
	if err != nil {
		t.Fatal(err)
	}
	running := a.plan.Load().Version()
	write("[]") // the next policy, which no reload may apply now

	var stopping atomic.Bool
	stopping.Store(true) // the drain: the admin listener still serves
	mux := a.adminMux(prometheus.NewRegistry(), &stopping, false)
	req := httptest.NewRequest(http.MethodPost, "/-/reload", nil)
	req.RemoteAddr, req.Host = "127.0.0.1:40000", "127.0.0.1:9100"
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "stopping") {
		t.Errorf("POST /-/reload while stopping: %d %q; want 503 saying the gateway is stopping", rec.Code, rec.Body.String())
	}
	if v := a.plan.Load().Version(); v != running {
		t.Errorf("policy %s live after a POST /-/reload while stopping; want %s kept", v, running)
	}

	if err := a.close(context.Background()); err != nil {
		t.Fatal(err)
	}
	auditBefore, err := os.ReadFile(filepath.Join(data, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	plansBefore, _ := os.ReadDir(filepath.Join(data, "policies"))
	if _, err := a.reloadFrom(log, "signal", "", nil); err == nil {
		t.Error("a reload after the stop closed delivery was applied")
	}
	if v := a.plan.Load().Version(); v != running {
		t.Errorf("policy %s live after a reload once stopped; want %s kept", v, running)
	}
	auditAfter, _ := os.ReadFile(filepath.Join(data, "audit.log"))
	if len(auditAfter) != len(auditBefore) {
		t.Errorf("a reload once stopped wrote the audit log: %s", auditAfter[len(auditBefore):])
	}
	if plansAfter, _ := os.ReadDir(filepath.Join(data, "policies")); len(plansAfter) != len(plansBefore) {
		t.Errorf("a reload once stopped saved a policy in the data directory: %d files, were %d", len(plansAfter), len(plansBefore))
	}
	if n := testutil.ToFloat64(a.reloads); n != 0 {
		t.Errorf("beacongate_config_reloads_total = %v; want 0", n)
	}
}
