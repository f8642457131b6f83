package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/upstream"
)

// TestBLEInstanceIDKeptInTheDataDir: the aggregation's instance id (in the
// aggregates' ids: two instances that take pings of one store send their
// partial cells under ids of their own) is drawn once per data directory
// and kept there, so that a restart is the same instance and sends a cell
// again under the same id; another data directory is another instance. A
// file that holds no id stops the start with an error naming the file,
// not its content.
func TestBLEInstanceIDKeptInTheDataDir(t *testing.T) {
	open := func(dir string) (string, error) {
		t.Helper()
		cfg, err := config.Parse("ble.yaml", []byte("server:\n  data_dir: "+dir+"\nble:\n  output: aggregates\ndestinations:\n  - {name: local, type: file}\n"))
		if err != nil {
			t.Fatal(err)
		}
		clk := clock.NewManual(clocktest.Golden)
		main, err := upstream.Open(upstream.Options{DataDir: dir, Clock: clk, Destinations: []upstream.DestinationOptions{
			{Name: "local", File: &upstream.FileOptions{Dir: dir + "/out/local"}}}})
		if err != nil {
			t.Fatal(err)
		}
		defer main.Close(context.Background())
		b, err := newBLEAggregation(cfg, main, clk, nil, slog.New(slog.DiscardHandler))
		if err != nil {
			return "", err
		}
		defer b.sp.Close()
		return b.f.Aggregator().Options().Instance, nil
	}
	dir := t.TempDir()
	first, err := open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !validInstanceID(first) {
		t.Fatalf("instance id %q", first)
	}
	raw, err := os.ReadFile(filepath.Join(dir, instanceFile))
	if err != nil || strings.TrimSpace(string(raw)) != first {
		t.Fatalf("%s holds %q (%v); the aggregation uses %q", instanceFile, raw, err, first)
	}
	if again, err := open(dir); err != nil || again != first {
		t.Fatalf("restarted on the same data dir: instance %q (%v); before %q", again, err, first)
	}
	if other, err := open(t.TempDir()); err != nil || other == first {
		t.Fatalf("another data dir: instance %q (%v), the same as the first's", other, err)
	}

	const junk = "jane.doe@example.org"
	if err := os.WriteFile(filepath.Join(dir, instanceFile), []byte(junk+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = open(dir)
	if err == nil || !strings.Contains(err.Error(), instanceFile) || strings.Contains(err.Error(), junk) {
		t.Fatalf("a damaged %s: %v", instanceFile, err)
	}
}
