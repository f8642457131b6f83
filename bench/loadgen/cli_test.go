package loadgen

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMainFlags(t *testing.T) {
	f := func(want int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if got := Main(args, &out, &errb); got != want {
			t.Fatalf("Main(%q) = %d; want %d\nstdout: %s\nstderr: %s", args, got, want, out.String(), errb.String())
		}
		return out.String() + errb.String()
	}
	f(2, "-mode", "flood")
	f(2, "-distinct", "0")
	f(2, "-nope")
	f(2, "extra-arg")
	f(2, "-mix", "pixel=-5")
	if out := f(1, "-target", "http://10.1.2.3:8080", "-metrics", ""); !strings.Contains(out, "loopback") {
		t.Fatalf("remote target: %s", out)
	}
}

// TestMainRun runs the command against the in-process recorder and checks
// both outputs: the table and the JSON file.
func TestMainRun(t *testing.T) {
	_, target, metrics := startRecorder(t)
	jsonPath := filepath.Join(t.TempDir(), "r.json")
	var out, errb bytes.Buffer
	code := Main([]string{"-target", target, "-metrics", metrics, "-conns", "2", "-duration", "1s", "-warmup", "0s",
		"-requests", "50", "-distinct", "64", "-mix", "seed=3", "-json", jsonPath}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"mix            pixel=60,", "closed loop, 2 connections", "requests", "latency µs", "server allocs"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil || r.Sent == 0 || r.Sent > 50 || r.Sent != r.Completed+r.ErrorCount() {
		t.Fatalf("JSON result %v: %+v", err, r)
	}

	// -json - puts JSON alone on stdout and the table on stderr.
	out.Reset()
	errb.Reset()
	if code := Main([]string{"-target", target, "-metrics", "", "-conns", "1", "-duration", "1s", "-warmup", "0s",
		"-requests", "10", "-distinct", "16", "-json", "-"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || r.Sent != 10 {
		t.Fatalf("stdout is not the JSON result (%v): %s", err, out.String())
	}
	if !strings.Contains(errb.String(), "latency µs") {
		t.Fatalf("table not on stderr: %s", errb.String())
	}
}
