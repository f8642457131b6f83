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

func TestMaxConns(t *testing.T) {
	f := func(configured int, limit uint64, want int) {
		t.Helper()
		if got := maxConns(configured, limit); got != want {
			t.Fatalf("maxConns(%d, %d) = %d; want %d", configured, limit, got, want)
		}
	}
	f(500, 128, 500)   // configured wins, even above the limit
	f(0, 128, 48)      // 128 - 64 - 16
	f(0, 256, 160)     // 256 - 64 - 32
	f(0, 1024, 832)    // 1024 - 64 - 128
	f(0, 64, 16)       // too low to derive from: a few
	f(0, 0, 0)         // unknown: fasthttp's default
	f(0, 1<<40, 1<<20) // clipped
	f(0, 20000, 17436) // 20000 - 64 - 2500
}

func TestReadAdminToken(t *testing.T) {
	dir := t.TempDir()
	f := func(content, wantTok, wantErr string) {
		t.Helper()
		p := filepath.Join(dir, "tok")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		tok, err := readAdminToken(p)
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) || strings.Contains(err.Error(), strings.TrimSpace(content)) {
				t.Fatalf("%q: err %v; want %q without the token", content, err, wantErr)
			}
			return
		}
		if err != nil || string(tok) != wantTok {
			t.Fatalf("%q: %q, %v", content, tok, err)
		}
	}
	f("0123456789abcdef\n", "0123456789abcdef", "")
	f("  0123456789abcdefXYZ  \r\n", "0123456789abcdefXYZ", "")
	f("xyzzy\n", "", "shorter than 16")
	f("0123456789 abcdef0123\n", "", "white space")
	if tok, err := readAdminToken(""); tok != nil || err != nil {
		t.Fatalf("no file: %q %v", tok, err)
	}
	if _, err := readAdminToken(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("missing file accepted")
	}
	// A token file every user may write: whoever writes it chooses the
	// token the gateway then takes, as with every other secret file.
	p := filepath.Join(dir, "writable")
	if err := os.WriteFile(p, []byte("0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o602); err != nil {
		t.Fatal(err)
	}
	if tok, err := readAdminToken(p); err == nil || err.Error() != p+" is writable by every user (mode 0602); run chmod o-rwx "+p {
		t.Fatalf("world-writable token file: %q, %v", tok, err)
	}
}

// TestAdminMaxConns: the admin listener's cap is half the descriptors the
// public listener's cap leaves free, between 16 and 64, as README says.
func TestAdminMaxConns(t *testing.T) {
	for _, c := range []struct {
		fdLimit uint64
		want    int
	}{{0, 64}, {32, 34}, {128, 40}, {256, 48}, {1024, 64}, {1 << 20, 64}} {
		if got := adminMaxConns(c.fdLimit); got != c.want {
			t.Errorf("adminMaxConns(%d) = %d; want %d", c.fdLimit, got, c.want)
		}
	}
}

// pinFileLimit has fileLimit return n for the rest of the test, so what a
// test checks does not depend on the limit of the process running it.
func pinFileLimit(t *testing.T, n uint64) {
	t.Helper()
	prev := fileLimit
	fileLimit = func() uint64 { return n }
	t.Cleanup(func() { fileLimit = prev })
}

// TestMaxConnsAboveFileLimit: server.max_conns above what the open-file
// limit leaves for client connections was accepted without a word, and
// under load the gateway then ran out of descriptors (EMFILE): accepts
// retried, spool segments and sink files failed to open. maxConnsProblem
// says so, naming the key, the limit and both ways out; nothing for 0
// (derived), a cap within the limit, or an unknown limit.
func TestMaxConnsAboveFileLimit(t *testing.T) {
	for _, c := range []struct {
		configured int
		limit      uint64
		want       []string // "" : no problem
	}{
		{5000, 1024, []string{"server.max_conns (5000)", "open-file limit (RLIMIT_NOFILE) of 1024", "at most 832",
			"EMFILE", "raise the limit to at least 5787", "ulimit -n", "LimitNOFILE", "lower server.max_conns to at most 832", "0 derives it"}},
		{833, 1024, []string{"server.max_conns (833)", "at least 1025"}},
		{832, 1024, nil},
		{500, 1024, nil},
		{0, 1024, nil},
		{1 << 20, 0, nil}, // limit unknown
		{100, 64, []string{"server.max_conns (100)", "at most 0 connections"}},
	} {
		got := maxConnsProblem(c.configured, c.limit)
		if c.want == nil {
			if got != "" {
				t.Errorf("maxConnsProblem(%d, %d) = %q; want none", c.configured, c.limit, got)
			}
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("maxConnsProblem(%d, %d) = %q; lacks %q", c.configured, c.limit, got, w)
			}
		}
	}
	// The limit named is the least that fits the cap.
	for _, m := range []int{1, 17, 832, 833, 5000, 1 << 20, 10000000} {
		l := fileLimitFor(m)
		if fdFree(l) < int64(m) || fdFree(l-1) >= int64(m) {
			t.Errorf("fileLimitFor(%d) = %d: leaves %d, one less leaves %d", m, l, fdFree(l), fdFree(l-1))
		}
	}
}

// TestConfigCheckNotesMaxConnsAboveFileLimit: config check notes a
// server.max_conns above what this process's open-file limit allows (a
// note: the gateway may run under another limit), and says nothing of
// max_conns: 0 or a cap within it.
func TestConfigCheckNotesMaxConnsAboveFileLimit(t *testing.T) {
	pinFileLimit(t, 1024)
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	check := func(maxConns string) string {
		t.Helper()
		if err := os.WriteFile(cfg, []byte("server: {max_conns: "+maxConns+"}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		if code := runConfig([]string{"check", cfg}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "ok: ") {
			t.Fatalf("config check: exit %d\n%s%s", code, out.String(), errOut.String())
		}
		return errOut.String()
	}
	notes := check("5000")
	for _, want := range []string{"note: " + cfg + ": server.max_conns (5000) is above", "1024", "the limit is config check's own", "ulimit -n"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	for _, ok := range []string{"0", "832"} {
		if notes := check(ok); strings.Contains(notes, "max_conns") {
			t.Errorf("max_conns %s: notes\n%s", ok, notes)
		}
	}
}

// TestStartWarnsOfMaxConnsAboveFileLimit: a start with server.max_conns
// above what the open-file limit allows logs a warning naming the key and
// the limit (it still starts: the configured cap wins, as before), and
// max_conns: 0 still derives the cap from the limit, without a warning.
func TestStartWarnsOfMaxConnsAboveFileLimit(t *testing.T) {
	pinFileLimit(t, 1024)
	dir := t.TempDir()
	start := func(maxConns string) (int, string) {
		t.Helper()
		cfg := filepath.Join(dir, "c.yaml")
		src := "server: {max_conns: " + maxConns + ", listen: '127.0.0.1:0'}\ndestinations:\n  - {name: local, type: file, tcf: {without_vendor: true}}\n"
		if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		f := serveFlags{config: cfg, data: filepath.Join(dir, "data")}
		a, err := startApp(f, map[string]bool{"data": true}, prometheus.NewRegistry(), slog.New(slog.NewJSONHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		a.close(context.Background())
		return a.serverOptions.MaxConns, logs.String()
	}
	n, logs := start("5000")
	if n != 5000 || !strings.Contains(logs, `"level":"WARN"`) || !strings.Contains(logs, `"key":"server.max_conns"`) ||
		!strings.Contains(logs, `"open_file_limit":1024`) || !strings.Contains(logs, "ulimit -n") {
		t.Errorf("max_conns 5000 under a limit of 1024: cap %d, log:\n%s", n, logs)
	}
	if n, logs := start("0"); n != 832 || strings.Contains(logs, "max_conns") {
		t.Errorf("max_conns 0 under a limit of 1024: cap %d (want 832), log:\n%s", n, logs)
	}
}
