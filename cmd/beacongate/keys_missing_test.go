package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/beacongate/beacongate/anonymize/pseudonym"
)

// syncBuffer is a bytes.Buffer safe for the gateway's goroutines' logs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestGatewaySaysWhenPseudonymKeysAreMissing: a key store whose
// destruction watermark lies past the clock (key_retention ran while the
// clock was days ahead, then the clock was set right) refuses the current
// period's keys, and the gateway writes events without pseudonyms and
// visitor hashes. That was said nowhere; the gateway now logs it at start
// with the reason, sets beacongate_pseudonym_keys_unavailable to 1, and
// logs and clears it once the period after the watermark has its keys.
// The clock is pinned; only the 1 s rotation tick is waited for.
func TestGatewaySaysWhenPseudonymKeysAreMissing(t *testing.T) {
	day1 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	clk := pinClocks(t, day1)

	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	secretPath := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretPath, []byte("0123456789abcdef0123456789abcdef-missing\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secret, err := pseudonym.LoadSecretFile(secretPath)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := pseudonym.OpenKeyStore(filepath.Join(data, "keys"), secret, day1, false)
	if err != nil {
		t.Fatal(err)
	}
	ahead := day1.Add(72 * time.Hour).Truncate(24 * time.Hour)
	if _, err := ks.Forget(ahead); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeE2EConfig(t, dir, "c.yaml", "pseudonym: {mode: derived, secret_file: "+secretPath+"}\nprivacy: {key_store: true}\n")
	var logs syncBuffer
	reg := prometheus.NewRegistry()
	a, err := startApp(serveFlags{config: cfgPath, data: data}, map[string]bool{"data": true}, reg, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close(t.Context())

	if !strings.Contains(logs.String(), "no key for the current period") || !strings.Contains(logs.String(), "destroyed") {
		t.Fatalf("no warning at start of the missing keys:\n%s", logs.String())
	}
	if v := testutil.ToFloat64(a.keysMissing); v != 1 {
		t.Fatalf("beacongate_pseudonym_keys_unavailable = %v at start, want 1", v)
	}

	clk.Set(ahead.Add(time.Hour))
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "has its keys again") {
		if time.Now().After(deadline) {
			t.Fatalf("the keys of the period after the watermark were not reported within 10 s of real time:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if v := testutil.ToFloat64(a.keysMissing); v != 0 {
		t.Fatalf("beacongate_pseudonym_keys_unavailable = %v with keys, want 0", v)
	}
	if n := strings.Count(logs.String(), "no key for the current period"); n != 1 {
		t.Errorf("the warning was logged %d times, want once", n)
	}
}
