package main

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestReloadKeepsOptOutListWhenItsFileIsGone: a reload that finds the
// file of the running opt-out list (ble.optout_file) gone, or the key
// pointing at a file that does not exist (a typo, a mount not there), is
// refused and the running list stays: it used to be read as an empty
// list, so every device on it was tracked again, silently.
func TestReloadKeepsOptOutListWhenItsFileIsGone(t *testing.T) {
	dir := t.TempDir()
	list, key := filepath.Join(dir, "optout.txt"), filepath.Join(dir, "optout.key")
	writeOlderOptOutList(t, list, key, "00:00:00:00:00:01")
	cfgPath := filepath.Join(dir, "c.yaml")
	write := func(listPath string) {
		t.Helper()
		yaml := "ble: {optout_file: " + listPath + ", optout_key_file: " + key + "}\n" +
			"destinations:\n  - {name: local, type: file, tcf: {without_vendor: true}}\n"
		if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(list)
	g := startStoryGateway(t, cfgPath, filepath.Join(dir, "data"))
	defer g.stop(t)
	log := slog.New(slog.DiscardHandler)
	dropped := func() bool {
		t.Helper()
		before := testutilCounter(t, g, "beacongate_ble_optout_suppressed_total")
		body := `{"site":"shop","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"mac":"00:00:00:00:00:01"}]}`
		resp, err := http.Post(g.url+"/ble", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return testutilCounter(t, g, "beacongate_ble_optout_suppressed_total") == before+1
	}
	if !dropped() {
		t.Fatal("at start: the device on the opt-out list was not dropped")
	}
	for _, c := range []struct {
		name string
		do   func()
	}{
		{"path changed to a file that does not exist", func() { write(filepath.Join(dir, "optuot.txt")) }},
		{"file removed", func() {
			write(list)
			if err := os.Rename(list, list+".moved"); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		c.do()
		if err := g.a.reload(log); err == nil || !strings.Contains(err.Error(), "ble.optout_file") {
			t.Errorf("%s: reload %v; want it refused, naming ble.optout_file", c.name, err)
		}
		if !dropped() {
			t.Errorf("%s: after the reload the device on the opt-out list is tracked again", c.name)
		}
	}
	// Put back, the file reloads; the key removed, no list is read.
	if err := os.Rename(list+".moved", list); err != nil {
		t.Fatal(err)
	}
	if err := g.a.reload(log); err != nil {
		t.Fatal(err)
	}
	if !dropped() {
		t.Error("after the file came back: the device is not dropped")
	}
	if err := os.WriteFile(cfgPath, []byte("destinations:\n  - {name: local, type: file, tcf: {without_vendor: true}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := g.a.reload(log); err != nil {
		t.Fatalf("reload without ble.optout_file: %v", err)
	}
	if dropped() {
		t.Error("ble.optout_file removed from the config: the device is still dropped")
	}
}

// testutilCounter reads a counter of g's registry.
func testutilCounter(t *testing.T, g *storyGateway, name string) float64 {
	t.Helper()
	mfs, err := g.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestStartRefusesMissingOptOutFile: a start whose ble.optout_file does
// not exist read it as an empty list and tracked every device on it
// (nothing creates that list any more: a missing file is a moved file, a
// volume not mounted, a typo). It is refused, naming the key and what to
// do, and a start with the file there goes on.
func TestStartRefusesMissingOptOutFile(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "optout.key")
	if err := os.WriteFile(key, []byte("0123456789abcdef0123456789abcdef-optout\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(dir, "optout.txt")
	cfg := writeE2EConfig(t, dir, "c.yaml", "ble: {optout_file: "+list+", optout_key_file: "+key+"}\n")
	_, err := startApp(serveFlags{config: cfg, data: filepath.Join(dir, "data")}, map[string]bool{"data": true},
		prometheus.NewRegistry(), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "ble.optout_file") || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("start with a missing opt-out file: %v", err)
	}
	if err := os.WriteFile(list, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := startApp(serveFlags{config: cfg, data: filepath.Join(dir, "data")}, map[string]bool{"data": true},
		prometheus.NewRegistry(), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("start with the opt-out file there: %v", err)
	}
	if err := a.close(t.Context()); err != nil {
		t.Fatal(err)
	}
}
