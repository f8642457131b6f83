package config

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestHolderReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	writeFile(t, path, "server: {max_events_per_request: 7}\n")

	h := NewHolder(Default(), Overrides{DataDir: "/override"})
	first := h.Load()
	if first.Server.DataDir != "/override" || first.Spool.Dir != "/override/spool" {
		t.Fatalf("override not applied: %q %q", first.Server.DataDir, first.Spool.Dir)
	}

	c, err := h.Reload(path)
	if err != nil {
		t.Fatal(err)
	}
	if h.Load() != c || c.Server.MaxEventsPerRequest != 7 || c.Source() != path {
		t.Fatalf("reload did not swap in the new config")
	}
	if c.Server.DataDir != "/override" || c.Destinations[0].File.Dir != "/override/out/local" {
		t.Fatalf("override not reapplied after reload: %q %q", c.Server.DataDir, c.Destinations[0].File.Dir)
	}
	if first.Server.MaxEventsPerRequest != 50 {
		t.Fatal("the previous config was modified by the reload")
	}

	writeFile(t, path, "server: {max_events_per_request: 0, lisen: x}\n")
	_, err = h.Reload(path)
	if err == nil || !strings.HasPrefix(err.Error(), "keeping previous config: ") ||
		!strings.Contains(err.Error(), "c.yaml:1:37: server.lisen: unknown key") ||
		!strings.Contains(err.Error(), "c.yaml:1:34: server.max_events_per_request: 0 is out of range 1..10000") {
		t.Fatalf("invalid reload: err = %v", err)
	}
	if h.Load() != c {
		t.Fatal("an invalid reload replaced the live config")
	}
	if _, err := h.Reload(filepath.Join(dir, "missing.yaml")); err == nil || h.Load() != c {
		t.Fatal("a missing file replaced the live config")
	}
	if h.Reloads() != 1 || h.Failures() != 2 {
		t.Fatalf("reloads, failures = %d, %d; want 1, 2", h.Reloads(), h.Failures())
	}
	if c, err := h.Reload(""); err != nil || c.Server.MaxEventsPerRequest != 50 || c.Server.DataDir != "/override" {
		t.Fatalf("reload of the default: %v", err)
	}
}

// TestHolderReloadUnderLoad swaps configs, valid and invalid, while readers
// use them. Every reader must always see a complete, valid config: the
// first one, or one of the valid files, never a mix and never nil. Run it
// with -race to check the publication.
func TestHolderReloadUnderLoad(t *testing.T) {
	dir := t.TempDir()
	valid := []string{filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")}
	invalid := filepath.Join(dir, "bad.yaml")
	writeFile(t, valid[0], "server: {max_events_per_request: 11, max_sightings_per_request: 11}\n")
	writeFile(t, valid[1], "server: {max_events_per_request: 22, max_sightings_per_request: 22}\n")
	writeFile(t, invalid, "server: {max_events_per_request: 33, max_sightings_per_request: 0}\n")

	h := NewHolder(Default(), Overrides{})
	var stop atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				c := h.Load()
				e, s := c.Server.MaxEventsPerRequest, c.Server.MaxSightingsPerRequest
				ok := (e == 50 && s == 200) || (e == 11 && s == 11) || (e == 22 && s == 22)
				if !ok || len(c.Destinations) != 1 {
					errs <- "reader saw an inconsistent config"
					return
				}
				reads.Add(1)
			}
		}()
	}
	const rounds = 200
	for i := range rounds {
		if _, err := h.Reload(valid[i%2]); err != nil {
			t.Error(err)
		}
		if _, err := h.Reload(invalid); err == nil {
			t.Error("invalid config accepted")
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	if h.Reloads() != rounds || h.Failures() != rounds {
		t.Fatalf("reloads, failures = %d, %d; want %d, %d", h.Reloads(), h.Failures(), rounds, rounds)
	}
	if got := h.Load().Server.MaxEventsPerRequest; got != 22 {
		t.Fatalf("live config after the last valid reload has %d; want 22", got)
	}
	if reads.Load() == 0 {
		t.Fatal("readers never ran")
	}
}
