package main

import (
	"bytes"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// outFiles lists the file sink's outputs under dir, finished (.zst) and
// open (.zst.part) ones.
func outFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".zst") || strings.HasSuffix(p, ".zst.part")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// decodeZstdFile decodes a zstd NDJSON file with a streaming decoder. A
// .part file may end in a frame that is still being written: what decodes
// before that point is kept, as a reader tailing the file would.
func decodeZstdFile(t *testing.T, path string) ([]byte, []e2eRecord) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	data, err := io.ReadAll(d)
	partial := strings.HasSuffix(path, ".part")
	if err != nil && !partial {
		t.Fatalf("%s: zstd: %v", path, err)
	}
	recs, err := parseNDJSON(data, partial)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return data, recs
}

// readOut decodes every output file under dir.
func readOut(t *testing.T, dir string) ([]byte, []e2eRecord) {
	t.Helper()
	var all []byte
	var recs []e2eRecord
	for _, p := range outFiles(t, dir) {
		data, r := decodeZstdFile(t, p)
		all = append(all, data...)
		recs = append(recs, r...)
	}
	return all, recs
}

// waitOut polls the output under dir until done accepts the records.
func waitOut(t *testing.T, dir string, timeout time.Duration, done func([]e2eRecord) bool) ([]byte, []e2eRecord) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		data, recs := readOut(t, dir)
		if done(recs) || time.Now().After(deadline) {
			return data, recs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestE2EQuickStart follows the README's quick start: the embedded default
// config (no -config), one pixel hit without any consent signal whose page
// URL holds an e-mail address and a gclid, with a user id. Within a few
// seconds a record must be under <data>/out/, readable with a streaming
// zstd decoder and with zstdcat, and hold none of the personal values, not
// even the full client IP.
func TestE2EQuickStart(t *testing.T) {
	start := time.Now()
	data := filepath.Join(t.TempDir(), "beacongate-data")
	p := startGateway(t, data, "")

	const (
		email = "jane.roe@example.org"
		gclid = "Cj0KCQiAgclidE2E4711"
		uid   = "user-8837-jane"
	)
	page := "https://example.com/signup/thanks?email=" + url.QueryEscape(email) + "&gclid=" + gclid + "&step=2"
	q := url.Values{"site": {"example.com"}, "url": {page}, "uid": {uid}, "event": {"signup"}}
	st, body := httpGet(t, p.url("/p.gif?"+q.Encode()))
	if st != 200 || len(body) != 43 {
		t.Fatalf("pixel: %d, %d bytes", st, len(body))
	}
	sentAt := time.Now()

	out := filepath.Join(data, "out")
	raw, recs := waitOut(t, out, 10*time.Second, func(r []e2eRecord) bool { return len(r) > 0 })
	if len(recs) == 0 {
		t.Fatalf("no record under %s within 10s (files: %v)\n%s", out, outFiles(t, out), p.logText())
	}
	t.Logf("record under %s after %v: %s", out, time.Since(sentAt).Round(time.Millisecond), recs[0].raw)
	if len(recs) != 1 {
		t.Errorf("%d records for one pixel hit", len(recs))
	}
	r := recs[0]
	if r.Kind != "pixel" || r.Site != "example.com" || r.Event != "signup" || r.Consent.State != "none" {
		t.Errorf("record: kind %q site %q event %q consent %q; want pixel, example.com, signup, none", r.Kind, r.Site, r.Event, r.Consent.State)
	}
	if r.IP != "" || r.User != "" || r.Client != "" {
		t.Errorf("the none policy kept ip %q, user %q, client %q", r.IP, r.User, r.Client)
	}
	if strings.Contains(r.URL, "?") || !strings.Contains(r.URL, "/signup/thanks") {
		t.Errorf("url %q: want the path only", r.URL)
	}
	secrets := []string{email, url.QueryEscape(email), "jane.roe", gclid, uid, "127.0.0.1"}
	noSecrets := func(where string, b []byte) {
		t.Helper()
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains %q", where, s)
			}
		}
	}
	noSecrets("the decoded output", raw)

	// The zstd command-line tool reads the same files, also the open one.
	zstdcat, err := exec.LookPath("zstdcat")
	if err != nil {
		t.Log("zstdcat not installed: skipping the zstdcat check")
	} else {
		files := outFiles(t, out)
		cmd := exec.Command(zstdcat, files...)
		got, err := cmd.Output()
		if err != nil {
			t.Errorf("zstdcat %v: %v", files, err)
		} else if !bytes.Contains(got, []byte(r.ID)) {
			t.Errorf("zstdcat %v: output without the record %s:\n%s", files, r.ID, got)
		}
	}
	// The README says: sleep 2; zstdcat beacongate-data/out/local/*.zst.
	time.Sleep(time.Until(sentAt.Add(2 * time.Second)))
	if m, _ := filepath.Glob(filepath.Join(out, "local", "*.zst")); len(m) == 0 {
		all := outFiles(t, out)
		t.Logf("NOTE: the README's quick start command `zstdcat beacongate-data/out/local/*.zst` matches no file while the gateway runs; the output is %v", all)
	}

	if code := p.stop(); code != 0 {
		t.Fatalf("exit code after SIGTERM: %d\n%s", code, p.logText())
	}
	// After a clean stop the file is finished: no .part left.
	files := outFiles(t, out)
	for _, f := range files {
		if strings.HasSuffix(f, ".part") {
			t.Errorf("%s still open after SIGTERM", f)
		}
	}
	raw2, recs2 := readOut(t, out)
	if len(recs2) != 1 || recs2[0].ID != r.ID {
		t.Errorf("after stop: %d records in %v", len(recs2), files)
	}
	noSecrets("the finished output", raw2)
	if zstdcat != "" {
		m, _ := filepath.Glob(filepath.Join(out, "local", "*.zst"))
		if got, err := exec.Command(zstdcat, m...).Output(); err != nil || !bytes.Contains(got, []byte(r.ID)) {
			t.Errorf("zstdcat out/local/*.zst (%v) after stop: %v\n%s", m, err, got)
		}
	}
	// Nothing personal on disk at all, spool included.
	filepath.WalkDir(data, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, err := os.ReadFile(path); err == nil {
				noSecrets(path, b)
			}
		}
		return nil
	})
	t.Logf("quick start: runtime %v", time.Since(start).Round(time.Millisecond))
}
