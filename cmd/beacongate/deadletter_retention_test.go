package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/wiring"
)

// TestDeadletterReplayLeavesExpiredBatches: a dead letter older than
// privacy.dead_letter_retention is past the time the gateway promises to
// keep it (the report of processing says it is deleted then), so a replay
// does not put it back into the spool, to be sent: it is left for the
// gateway's retention sweep, and the replay says so; a younger one is
// replayed. Before the fix a replay run while the gateway was stopped (its
// sweep runs at start and every hour) sent the expired batch too.
func TestDeadletterReplayLeavesExpiredBatches(t *testing.T) {
	written := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	pinClocks(t, written.Add(31*24*time.Hour))
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	yaml := "privacy:\n  dead_letter_retention: 720h\ndestinations:\n  - name: collector\n    type: http\n    http: {url: 'http://127.0.0.1:9/ingest'}\n"
	cfgPath := filepath.Join(dir, "gw.yaml")
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(cfgPath, []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	p, err := wiring.Compile(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	dl := filepath.Join(data, "deadletter", "collector")
	if err := os.MkdirAll(dl, 0o700); err != nil {
		t.Fatal(err)
	}
	rec := func(id string) string {
		return `{"v":1,"id":"` + id + `","received":"2026-03-01T12:00:00Z","kind":"beacon","site":"s","consent":{"state":"none","purposes":[],"signal":"none"},"policy":"` + p.Version() + "\"}\n"
	}
	for i, b := range []struct {
		name, recs string
		at         time.Time
	}{
		{"20260301T120000.000Z-00000000000000000000.ndjson", rec("old1") + rec("old2"), written},
		{"20260320T120000.000Z-00000000000000000002.ndjson", rec("young"), written.Add(19 * 24 * time.Hour)},
	} {
		path := filepath.Join(dl, b.name)
		if err := os.WriteFile(path, []byte(b.recs), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, b.at, b.at); err != nil {
			t.Fatal(i, err)
		}
	}
	for _, dry := range []bool{true, false} {
		args := []string{"replay", "-config", cfgPath, "-data", data, "collector"}
		prefix := ""
		if dry {
			args = append(args, "-dry-run")
			prefix = "dry run: "
		}
		var stdout, stderr bytes.Buffer
		code := runDeadletter(args, &stdout, &stderr)
		out := stdout.String()
		if code != 0 || !strings.HasPrefix(out, prefix+"replayed 1 batches, 1 records into the spool for collector\n") ||
			!strings.Contains(out, prefix+"left 1 batches, 2 records older than privacy.dead_letter_retention (720h0m0s)") {
			t.Fatalf("replay (dry run %v): exit %d\n%s%s", dry, code, out, stderr.String())
		}
	}
	left, err := os.ReadDir(dl)
	if err != nil || len(left) != 1 || left[0].Name() != "20260301T120000.000Z-00000000000000000000.ndjson" {
		t.Fatalf("dead letters after the replay: %v, %v", left, err)
	}
}
