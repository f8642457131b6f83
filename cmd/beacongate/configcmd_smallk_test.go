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

// TestSmallKNoted: with ble.output: aggregates, ble.k below 3 sends counts
// a recipient can pin down to a person (with k 2 a count left out is
// exactly 1; with k 1 nothing is left out). k 1 may be deliberate (tests),
// so it is no error; config check said nothing of it, and neither did the
// start. It now notes it, and the start logs the same warning; k 3 and
// k with ble.output: sightings get no such note.
func TestSmallKNoted(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		ble  string
		note bool
	}{
		{"{output: aggregates, k: 1}", true},
		{"{output: aggregates, k: 2}", true},
		{"{output: aggregates, k: 3}", false},
		{"{output: aggregates}", false},
		{"{output: sightings, k: 2}", false},
	} {
		cfg := filepath.Join(dir, "c.yaml")
		src := "ble: " + tc.ble + "\ndestinations:\n  - {name: local, type: file, tcf: {without_vendor: true}}\n"
		if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		if code := runConfig([]string{"check", cfg}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "ok: ") {
			t.Fatalf("%s: config check: exit %d\n%s%s", tc.ble, code, out.String(), errOut.String())
		}
		noted := strings.Contains(errOut.String(), "note: "+cfg+": ble.k: ") && strings.Contains(errOut.String(), "minimum count below 3")
		if noted != tc.note {
			t.Errorf("ble %s: noted %v, want %v:\n%s", tc.ble, noted, tc.note, errOut.String())
		}
		if tc.note && !strings.Contains(errOut.String(), "exactly 1") && strings.Contains(tc.ble, "k: 2") {
			t.Errorf("ble %s: the note does not say why:\n%s", tc.ble, errOut.String())
		}
		var logs bytes.Buffer
		a, err := startApp(serveFlags{config: cfg, data: filepath.Join(dir, "data")}, map[string]bool{"data": true},
			prometheus.NewRegistry(), slog.New(slog.NewJSONHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		a.close(context.Background())
		warned := false
		for _, line := range strings.Split(logs.String(), "\n") {
			warned = warned || strings.Contains(line, `"level":"WARN"`) && strings.Contains(line, `"key":"ble.k"`)
		}
		if warned != tc.note {
			t.Errorf("ble %s: start warned %v, want %v:\n%s", tc.ble, warned, tc.note, logs.String())
		}
	}
}
