package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestConcurrentReloadsAuditTheirOwnPolicy: the audit entry of a reload
// (config.reload) read the policy in force after the reload had let go of
// its lock, and was written then: with two reloads at once (a SIGHUP and a
// POST /-/reload, or two deploy hooks) one entry could name the policy the
// other reload applied, and the entries could land out of order, so the
// audit log's last config.reload did not name the policy live. Each entry
// now names the policy its reload applied, in the order they applied.
func TestConcurrentReloadsAuditTheirOwnPolicy(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "c.yaml")
	configs := [2]string{
		"consent: {purposes: [analytics], default: [analytics]}\ndestinations:\n  - {name: local, type: file, tcf: {without_vendor: true}}\n",
		"consent: {purposes: [analytics], default: []}\ndestinations:\n  - {name: local, type: file, tcf: {without_vendor: true}}\n",
	}
	write := func(i int) {
		tmp := cfgPath + ".tmp"
		if err := os.WriteFile(tmp, []byte(configs[i]), 0o600); err != nil {
			t.Error(err)
			return
		}
		// Replaced whole (a rename), so no reload reads half a file.
		if err := os.Rename(tmp, cfgPath); err != nil {
			t.Error(err)
		}
	}
	write(0)
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	data := filepath.Join(dir, "data")
	a, err := startApp(serveFlags{config: cfgPath, data: data}, map[string]bool{"data": true}, prometheus.NewRegistry(), log)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close(context.Background())

	const workers, each = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if w == 0 {
					write(i % 2) // the file changes between reloads
				}
				if _, err := a.reloadFrom(log, "http", "127.0.0.1:1", nil); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()

	// The log line "config reloaded" is written while the reload holds
	// its lock: it names, in order, the policy each reload applied.
	var applied []string
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var l struct{ Msg, Policy string }
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "config reloaded" {
			applied = append(applied, l.Policy)
		}
	}
	raw, err := os.ReadFile(filepath.Join(data, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	var audited []string
	sc = bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e struct {
			Action string
			Fields map[string]string
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		if e.Action == "config.reload" {
			audited = append(audited, e.Fields["policy"])
		}
	}
	if len(applied) != workers*each {
		t.Fatalf("%d reloads logged; want %d", len(applied), workers*each)
	}
	if !slices.Equal(audited, applied) {
		for i := range min(len(audited), len(applied)) {
			if audited[i] != applied[i] {
				t.Fatalf("audit entry %d of %d names policy %s; the reload applied %s (audited %d entries)", i+1, len(applied), audited[i], applied[i], len(audited))
			}
		}
		t.Fatalf("audited %d reloads; %d applied", len(audited), len(applied))
	}
	if live := a.plan.Load().Version(); audited[len(audited)-1] != live {
		t.Errorf("the last config.reload entry names policy %s; %s is live", audited[len(audited)-1], live)
	}
}
