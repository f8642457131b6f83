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

	"github.com/beacongate/beacongate/anonymize/geo/geotest"
)

// postReload sends POST /-/reload from a loopback peer to a's admin mux.
func postReload(t *testing.T, a *app) (int, string) {
	t.Helper()
	var stopping atomic.Bool
	mux := a.adminMux(prometheus.NewRegistry(), &stopping, false)
	req := httptest.NewRequest(http.MethodPost, "/-/reload", nil)
	req.RemoteAddr, req.Host = "127.0.0.1:40000", "127.0.0.1:9100"
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

// TestReloadStatusTellsConfigFromServer: every refused reload was answered
// 400, also when the file was valid and the server could not load what it
// names (a GeoIP database, a vendor list or an opt-out key that cannot be
// read, or the config file itself gone): the operator was sent to fix a
// config that had nothing wrong. A config the operator must fix is still
// 400; a file the server cannot load is now 500. Both name the key.
func TestReloadStatusTellsConfigFromServer(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "city.mmdb")
	if err := geotest.WriteCityDB(db, []geotest.Network{{CIDR: "81.2.69.0/24", Continent: "EU", Country: "GB", City: "London"}}); err != nil {
		t.Fatal(err)
	}
	optOut, optOutKey := filepath.Join(dir, "optout.txt"), filepath.Join(dir, "optout.key")
	if err := os.WriteFile(optOut, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(optOutKey, []byte(strings.Repeat("k", 48)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "c.yaml")
	const dest = "destinations:\n  - {name: local, type: file, tcf: {without_vendor: true}}\n"
	base := "geoip: {database: " + db + "}\n" + dest
	write := func(yaml string) {
		t.Helper()
		if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(base)
	log := slog.New(slog.DiscardHandler)
	a, err := startApp(serveFlags{config: cfgPath, data: filepath.Join(dir, "data")}, map[string]bool{"data": true}, prometheus.NewRegistry(), log)
	if err != nil {
		t.Fatal(err)
	}
	a.log = log
	defer a.close(context.Background())

	garbage := filepath.Join(dir, "garbage.mmdb")
	if err := os.WriteFile(garbage, []byte("not a maxmind database"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	for _, c := range []struct {
		name, yaml string // "" yaml: remove the config file
		code       int
		says       string
	}{
		{"unknown key", base + "geoipp: {}\n", 400, "geoipp"},
		{"destination added", base + "  - {name: other, type: file, tcf: {without_vendor: true}}\n", 400, "destinations"},
		{"geoip database missing", "geoip: {database: " + missing + "}\n" + dest, 500, "geoip.database"},
		{"geoip database unreadable", "geoip: {database: " + garbage + "}\n" + dest, 500, "geoip.database"},
		{"vendor list missing", base + "consent: {tcf: {gvl_file: " + missing + "}}\n", 500, "gvl_file"},
		{"opt-out key missing", base + "ble: {optout_file: " + optOut + ", optout_key_file: " + missing + "}\n", 500, "ble.optout_key_file"},
		{"config file gone", "", 500, "cannot read config"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.yaml == "" {
				os.Remove(cfgPath)
			} else {
				write(c.yaml)
			}
			code, body := postReload(t, a)
			if code != c.code || !strings.Contains(body, c.says) || !strings.Contains(body, "previous config stays live") {
				t.Errorf("POST /-/reload: %d %q; want %d naming %s", code, body, c.code, c.says)
			}
		})
	}
	write(base)
	if code, body := postReload(t, a); code != 200 {
		t.Fatalf("POST /-/reload of the valid file: %d %q", code, body)
	}
}

// TestReloadOfEmptyFileIsRefused: a config file caught empty by a reload
// (an editor or deploy tool rewriting it in place when SIGHUP came, or a
// file whose every line was commented out) parsed as the built-in
// defaults, and the reload put them live in place of the running sites,
// consent and policies, answering "reloaded". It is now refused (400),
// saying the file holds no settings; the running config stays, and a
// valid file reloads again.
func TestReloadOfEmptyFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "c.yaml")
	const valid = "sites: [{id: shop}]\ndestinations:\n  - {name: local, type: file, tcf: {without_vendor: true}}\n"
	write := func(yaml string) {
		t.Helper()
		if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(valid)
	log := slog.New(slog.DiscardHandler)
	a, err := startApp(serveFlags{config: cfgPath, data: filepath.Join(dir, "data"), listen: "127.0.0.1:0", admin: "127.0.0.1:0"},
		map[string]bool{"data": true, "listen": true, "admin": true}, prometheus.NewRegistry(), log)
	if err != nil {
		t.Fatal(err)
	}
	a.log = log
	defer a.close(context.Background())
	for _, yaml := range []string{"", "\n", "# sites: [{id: shop}]\n# destinations: []\n"} {
		write(yaml)
		code, body := postReload(t, a)
		if code != http.StatusBadRequest || !strings.Contains(body, "holds no settings") || !strings.Contains(body, "previous config stays live") {
			t.Errorf("reload of %q: %d %q; want 400 saying the file holds no settings", yaml, code, body)
		}
		if got := a.live.Load().Sites; len(got) != 1 || got[0].ID != "shop" {
			t.Fatalf("reload of %q: running sites are %+v; want the previous config's", yaml, got)
		}
	}
	write(valid)
	if code, body := postReload(t, a); code != http.StatusOK {
		t.Fatalf("POST /-/reload of the valid file: %d %q", code, body)
	}
}
