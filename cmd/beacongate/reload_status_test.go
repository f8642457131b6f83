package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// postReload sends POST /-/reload from a loopback peer to a's admin mux.
func postReload(t *testing.T, a *app) (int, string) {
	t.Helper()
	var stopping atomic.Bool
	mux := a.adminMux(prometheus.NewRegistry(), &stopping, false)
	req := httptest.NewRequest(http.MethodPost, "/-/reload", nil)
	req.RemoteAddr = "127.0.0.1:40000"
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// TestReloadWithoutConfigFileIsRefused: a gateway started without -config
// runs on the embedded default, so a reload has no file to read; it
// answered "reloaded" (and counted a reload applied), which told the
// operator who had just edited some file that the edit was live. It is now
// refused with 409, says to restart with -config, and counts as refused;
// the running config is what the next start runs, so the last-reload gauge
// stays 1 (its alert says the next start reads a refused file).
func TestReloadWithoutConfigFileIsRefused(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	f := serveFlags{data: filepath.Join(t.TempDir(), "data"), listen: "127.0.0.1:0", admin: "127.0.0.1:0"}
	a, err := startApp(f, map[string]bool{}, prometheus.NewRegistry(), log)
	if err != nil {
		t.Fatal(err)
	}
	a.log = log
	defer a.close(context.Background())
	code, body := postReload(t, a)
	if code != http.StatusConflict || !strings.Contains(body, "started without -config") || !strings.Contains(body, "restart with -config FILE") {
		t.Errorf("POST /-/reload without -config: %d %q; want 409 saying there is nothing to reload", code, body)
	}
	if n := testutil.ToFloat64(a.reloadFailures); n != 1 {
		t.Errorf("beacongate_config_reload_failures_total = %v; want 1", n)
	}
	if n := testutil.ToFloat64(a.reloads); n != 0 {
		t.Errorf("beacongate_config_reloads_total = %v; want 0", n)
	}
	if v := testutil.ToFloat64(a.reloadOK); v != 1 {
		t.Errorf("beacongate_config_last_reload_successful = %v; want 1 (the next start runs the same embedded default)", v)
	}
	// SIGHUP takes the same path.
	if err := a.reload(log); err == nil || !strings.Contains(err.Error(), "started without -config") {
		t.Errorf("reload without -config: %v; want it refused", err)
	}
}
