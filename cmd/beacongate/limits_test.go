package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
