package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
)

func reportRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(append([]string{"report"}, args...), strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func TestReportCommand(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no example configs: %v", err)
	}
	dir := t.TempDir()
	for _, p := range append(paths, "") {
		args := []string{}
		if p != "" {
			args = append(args, "-config", p)
		}
		md, errs, code := reportRun(t, args...)
		if code != 0 || !strings.HasPrefix(md, "# Record of processing activities") || !strings.Contains(md, "## 7. Storage and retention") {
			t.Fatalf("%s: exit %d, stderr %s, markdown:\n%.300s", p, code, errs, md)
		}
		out := filepath.Join(dir, "report.html")
		if _, errs, code := reportRun(t, append(args, "-format", "html", "-o", out)...); code != 0 {
			t.Fatalf("%s: html: exit %d: %s", p, code, errs)
		}
		page, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(bytes.NewReader(page))
		d.Strict = true
		for {
			_, err := d.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: HTML is not well-formed: %v", p, err)
			}
		}
		if !bytes.Contains(page, []byte("<h2 id=\"recipients\">6. Recipients</h2>")) {
			t.Errorf("%s: HTML lacks the recipients section", p)
		}
	}

	// The report follows the config: a different prefix shows up.
	cfg := filepath.Join(dir, "prefix.yaml")
	if err := os.WriteFile(cfg, []byte("policies:\n  analytics:\n    ip: {action: truncate, v4_prefix: 20, v6_prefix: 40}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	md, _, _ := reportRun(t, "-config", cfg)
	if !strings.Contains(md, "truncated to /20 (IPv4) and /40 (IPv6)") || !strings.Contains(md, "truncated to /24 (IPv4) and /48 (IPv6)") {
		t.Error("report does not show the analytics prefixes /20, /40 next to the ads policy's default /24, /48")
	}

	f := func(want int, args ...string) {
		t.Helper()
		if _, errs, code := reportRun(t, args...); code != want {
			t.Errorf("report %v: exit %d; want %d (%s)", args, code, want, errs)
		}
	}
	f(2, "-format", "pdf")
	f(2, "extra")
	f(1, "-config", "/nonexistent/beacongate.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("policies:\n  analytics:\n    ip: {v4_prefix: 33}\n"), 0o600)
	f(1, "-config", bad)
	f(1, "-o", filepath.Join(dir, "no", "such", "dir", "r.md"))
}

// TestReportGeneratedTime: the generation time printed in the report comes
// from the command's clock, not the wall clock.
func TestReportGeneratedTime(t *testing.T) {
	cliClock = clock.Fixed(time.Date(2031, 7, 4, 9, 30, 0, 0, time.UTC))
	t.Cleanup(func() { cliClock = clock.Real })
	md, errs, code := reportRun(t)
	if code != 0 || !strings.Contains(md, "on 2031-07-04 09:30 UTC") {
		t.Errorf("exit %d %s\n%.400s", code, errs, md)
	}
}

// TestReportDataDir: a gateway started with "serve -data DIR" keeps its
// audit log, key store, suppression list, spool and dead letters under
// DIR, not under the config's server.data_dir; the report, which names
// those stores and paths (section 7), must be able to say so. Every other
// officer command takes -data; report did not, so its storage section was
// false for such a gateway.
func TestReportDataDir(t *testing.T) {
	dir := t.TempDir()
	cfg := writeE2EConfig(t, dir, "c.yaml", "server: {data_dir: /var/lib/wrong}\n")
	md, errs, code := reportRun(t, "-config", cfg, "-data", "/srv/bg")
	if code != 0 {
		t.Fatalf("report -data: exit %d\n%s", code, errs)
	}
	for _, s := range []string{"Audit log: `/srv/bg/audit.log`", "Suppression list: `/srv/bg/suppressed.txt`", "`/srv/bg/spool`"} {
		if !strings.Contains(md, s) {
			t.Errorf("report -data /srv/bg lacks %q", s)
		}
	}
	if strings.Contains(md, "/var/lib/wrong") {
		t.Error("report -data still names the config's data_dir")
	}
}
