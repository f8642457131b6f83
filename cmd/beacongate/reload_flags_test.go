package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestReloadDoesNotSendFlagOverridesToRestart: a reload of a file whose
// server.listen changed, while serve runs with -listen, used to name
// server.listen under needs_restart (the answer to POST /-/reload, the
// audit log, the log), while a restart with the same flags keeps the
// flag's address: the operator restarted for nothing. Such keys are now
// logged as overridden by the flag; the others are still named.
func TestReloadDoesNotSendFlagOverridesToRestart(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "c.yaml")
	write := func(port, maxBytes string) {
		t.Helper()
		yaml := "server: {listen: '127.0.0.1:" + port + "'}\nspool: {max_bytes: " + maxBytes + "}\n" +
			"destinations:\n  - {name: local, type: file, tcf: {without_vendor: true}}\n"
		if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("18080", "2GiB")
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	f := serveFlags{config: cfgPath, data: filepath.Join(dir, "data"), listen: "127.0.0.1:18090"}
	a, err := startApp(f, map[string]bool{"data": true, "listen": true}, prometheus.NewRegistry(), log)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close(context.Background())
	write("18081", "1GiB")
	needs, err := a.reloadReport(log)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(needs, "server.listen") || !slices.Contains(needs, "spool.max_bytes") {
		t.Errorf("needs_restart %v; want spool.max_bytes and not server.listen, which -listen overrides", needs)
	}
	if !strings.Contains(logs.String(), "server.listen (-listen)") {
		t.Errorf("the log does not say -listen overrides server.listen:\n%s", logs.String())
	}
}
