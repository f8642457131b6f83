package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestReloadWarnsOfDestinationWithoutVendor: the warning a start logs of a
// destination with neither tcf.vendor_id nor tcf.without_vendor (it gets
// no event where GDPR applies) is logged by a reload that leaves it so
// too; a reload that took the declaration away used to say nothing,
// while the destination lost every GDPR event from then on.
func TestReloadWarnsOfDestinationWithoutVendor(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "c.yaml")
	write := func(tcf string) {
		t.Helper()
		yaml := "destinations:\n  - {name: local, type: file, tcf: {without_vendor: true}}\n  - {name: partner, type: file, file: {dir: " +
			filepath.Join(dir, "partner") + "}" + tcf + "}\n"
		if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(", tcf: {without_vendor: true}")
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	a, err := startApp(serveFlags{config: cfgPath, data: filepath.Join(dir, "data")}, map[string]bool{"data": true}, prometheus.NewRegistry(), log)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close(context.Background())
	if strings.Contains(logs.String(), noVendorWhy) {
		t.Fatalf("start warned of a destination marked without_vendor:\n%s", logs.String())
	}
	write("")
	if err := a.reload(log); err != nil {
		t.Fatal(err)
	}
	var warned bool
	for _, line := range strings.Split(logs.String(), "\n") {
		warned = warned || strings.Contains(line, noVendorWhy) && strings.Contains(line, `"destination":"partner"`) && strings.Contains(line, `"level":"WARN"`)
	}
	if !warned {
		t.Errorf("a reload that left destination partner with neither tcf.vendor_id nor tcf.without_vendor logged no warning:\n%s", logs.String())
	}
}
