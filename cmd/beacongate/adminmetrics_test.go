package main

import (
	"bytes"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestAdminMetricsDocumented: the admin listener's own counters (its
// per-peer cap, the tap's write timeout) are listed in the README's
// Metrics section, carry no label (none may hold a peer's address), and
// pass promtool check metrics when promtool is installed.
func TestAdminMetricsDocumented(t *testing.T) {
	base, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	reg := prometheus.NewRegistry()
	newAdminListener(base, 16, reg)
	var stopping atomic.Bool
	mux := (&app{}).adminMux(reg, &stopping, false)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, metrics, ok := strings.Cut(string(readme), "\n## Metrics\n")
	if !ok {
		t.Fatal("README has no Metrics section")
	}
	metrics, _, _ = strings.Cut(metrics, "\n## ")
	want := map[string]bool{"beacongate_admin_connections_refused_total": false, "beacongate_admin_tap_write_timeouts_total": false}
	for _, mf := range mfs {
		name := mf.GetName()
		if _, ok := want[name]; !ok {
			continue
		}
		want[name] = true
		if !strings.Contains(metrics, "`"+name+"`") {
			t.Errorf("the README's Metrics section does not list %s", name)
		}
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != 0 {
				t.Errorf("%s has labels %v; want none", name, m.GetLabel())
			}
		}
	}
	for name, seen := range want {
		if !seen {
			t.Errorf("%s is not registered", name)
		}
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	text := rec.Body
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed: metrics not checked")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = text
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("promtool check metrics: %v\n%s\n%s", err, out, text.String())
	}
}
