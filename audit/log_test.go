package audit

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
)

func writeLog(t *testing.T) (string, [][]byte) {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC))
	path := filepath.Join(t.TempDir(), FileName)
	l := Open(path, clk)
	for i, a := range []string{"config.load", "key.create", "retention.delete", "subject.lookup"} {
		clk.Advance(time.Minute)
		e, err := l.Append(a, map[string]string{"n": strings.Repeat("x", i)})
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != uint64(i+1) {
			t.Fatalf("seq %d, want %d", e.Seq, i+1)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, bytes.SplitAfter(b, []byte("\n"))[:4]
}

func TestChainVerifies(t *testing.T) {
	path, lines := writeLog(t)
	n, err := VerifyFile(path)
	if err != nil || n != 4 {
		t.Fatalf("VerifyFile = %d, %v; want 4, nil", n, err)
	}
	if !bytes.Contains(lines[1], []byte(`"time":"2026-05-01T08:02:00Z"`)) {
		t.Errorf("time does not come from the clock: %s", lines[1])
	}
}

func TestTamperingIsDetected(t *testing.T) {
	_, lines := writeLog(t)
	join := func(ls ...[]byte) []byte { return bytes.Join(ls, nil) }
	edited := bytes.Replace(lines[2], []byte("retention.delete"), []byte("retention.nothing"), 1)
	for _, tc := range []struct {
		name string
		log  []byte
		line int
		why  string
	}{
		{"edited", join(lines[0], lines[1], edited, lines[3]), 3, "does not match its hash"},
		{"removed", join(lines[0], lines[1], lines[3]), 3, "prev does not match"},
		{"reordered", join(lines[0], lines[2], lines[1], lines[3]), 2, "prev does not match"},
		{"garbage", join(lines[0], []byte("{oops\n")), 2, "not a valid audit entry"},
	} {
		n, err := Verify(bytes.NewReader(tc.log))
		b, ok := err.(*Broken)
		if !ok || b.Line != tc.line || !strings.Contains(b.Reason, tc.why) {
			t.Errorf("%s: Verify = %d, %v; want line %d: %s", tc.name, n, err, tc.line, tc.why)
		}
		if n != tc.line-1 {
			t.Errorf("%s: %d valid entries before the break, want %d", tc.name, n, tc.line-1)
		}
	}
}

// TestAppendRefusesBrokenTail keeps a log whose last line was damaged from
// growing a chain that would hide it.
func TestAppendRefusesBrokenTail(t *testing.T) {
	path, _ := writeLog(t)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("not json\n")
	f.Close()
	if _, err := Open(path, nil).Append("x", nil); err == nil {
		t.Fatal("Append after a damaged last line succeeded")
	}
}

func TestHashesHideValues(t *testing.T) {
	h := SubjectHash([]byte("k"), "user", "4711")
	if len(h) != 32 || strings.Contains(h, "4711") || h == SubjectHash([]byte("k2"), "user", "4711") || h == SubjectHash([]byte("k"), "client", "4711") {
		t.Errorf("SubjectHash = %q", h)
	}
	if TokenHash([]byte("secret-token")) == TokenHash([]byte("secret-tokem")) {
		t.Error("TokenHash does not tell tokens apart")
	}
}

// FuzzVerify: whatever Verify reads as an intact chain (or one with an
// unfinished last line), Append goes on from, and the log then verifies
// with the entries Append added; a line Verify refuses never verifies.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"seq":1,"time":"t","action":"a","prev":"","hash":"00"}` + "\n"))
	f.Add([]byte("\n\n{}"))
	f.Add([]byte(`{"seq":1}` + "\n" + `{"seq":2}`))
	f.Add([]byte{})
	valid := fuzzLog(f, "config.load", "config", "/etc/beacongate.yaml")
	f.Add(valid)
	f.Add(valid[:len(valid)-1])
	f.Add(valid[:len(valid)/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := Verify(bytes.NewReader(b))
		var tt *TornTail
		switch {
		case err == nil:
		case errors.As(err, &tt):
		default:
			if !IsBroken(err) || n < 0 {
				t.Fatalf("Verify = %d, %v", n, err)
			}
			return
		}
		path := filepath.Join(t.TempDir(), FileName)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		clk := clock.NewManual(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC))
		if _, err := Open(path, clk).Append("x", map[string]string{"k": "v"}); err != nil {
			t.Fatalf("Append after a log Verify read as %d entries, %v: %v", n, err, err)
		}
		want := n + 1
		if tt != nil {
			want++ // audit.torn_write_cut first
		}
		if m, err := VerifyFile(path); err != nil || m != want {
			t.Fatalf("after Append: VerifyFile = %d, %v; want %d entries, intact", m, err, want)
		}
	})
}

// fuzzLog returns a log of two entries, the first with action and one
// field, as Append writes them.
func fuzzLog(tb testing.TB, action, k, v string) []byte {
	tb.Helper()
	clk := clock.NewManual(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC))
	dir, err := os.MkdirTemp("", "auditfuzz")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, FileName)
	l := Open(path, clk)
	if _, err := l.Append(action, map[string]string{k: v}); err != nil {
		tb.Fatal(err)
	}
	if _, err := l.Append("config.load", nil); err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzAppendVerify: a log Append wrote verifies, whatever its action and
// detail (invalid UTF-8, quotes, control bytes, U+2028 included); and one
// changed byte of it never verifies as the same two entries.
func FuzzAppendVerify(f *testing.F) {
	f.Add("config.reload_refused", "config", "/etc/beacongate.yaml", uint16(0), byte(0))
	f.Add("config.reload_refused", "config", "/srv/caf\xe9/beacongate.yaml", uint16(0), byte(0))
	f.Add("a\u2028b", "<&>", "\"\\\x00\n", uint16(40), byte(1))
	f.Add("key.create", "key", "pseudonym-86400s-20522.key", uint16(9), byte(0x20))
	f.Fuzz(func(t *testing.T, action, k, v string, pos uint16, xor byte) {
		b := fuzzLog(t, action, k, v)
		if n, err := Verify(bytes.NewReader(b)); err != nil || n != 2 {
			t.Fatalf("the log Append wrote: Verify = %d, %v; want 2 entries, intact", n, err)
		}
		if xor == 0 {
			return
		}
		b[int(pos)%len(b)] ^= xor
		if n, err := Verify(bytes.NewReader(b)); err == nil && n == 2 {
			t.Fatalf("byte %d changed (^%#x), and the log still verifies: %q", int(pos)%len(b), xor, b)
		}
	})
}

// TestVerifyRefusesRewrittenLine: a line is hashed as Append wrote it, so
// one rewritten to show other content while decoding to the same entry
// (Go's decoder matches keys regardless of case and keeps the last of a
// duplicate; jq and a reader see the first spelling) must not verify.
func TestVerifyRefusesRewrittenLine(t *testing.T) {
	path, lines := writeLog(t)
	// Line 3 deleted files; shown as deleting none, its real fields kept
	// under "Fields", which the verifier decodes last.
	orig := lines[2]
	i := bytes.Index(orig, []byte(`"fields":`))
	rewritten := append(append(append([]byte{}, orig[:i]...), `"fields":{"n":"none"},"Fields":`...), orig[i+len(`"fields":`):]...)
	for _, tc := range []struct{ name, line string }{
		{"shadowed by a case variant", string(rewritten)},
		{"reformatted", strings.Replace(string(orig), `":`, `": `, 1)},
	} {
		log := bytes.Join([][]byte{lines[0], lines[1], []byte(tc.line), lines[3]}, nil)
		if err := os.WriteFile(path, log, 0o600); err != nil {
			t.Fatal(err)
		}
		n, err := VerifyFile(path)
		b, ok := err.(*Broken)
		if !ok || b.Line != 3 || n != 2 {
			t.Errorf("%s: VerifyFile = %d, %v; want line 3 broken after 2 entries", tc.name, n, err)
		}
	}
}

// TestAppendAfterTornWrite: a crash (or a full disk) in the middle of an
// Append leaves part of a line without its newline, an entry that was
// never acknowledged. The next Append cuts it off, records the cut, and
// the log goes on verifying, instead of refusing every entry from then on.
func TestAppendAfterTornWrite(t *testing.T) {
	path, lines := writeLog(t)
	torn := lines[3][:len(lines[3])/2] // half of a fifth line, as a torn write leaves it
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(torn)
	f.Close()
	clk := clock.NewManual(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	e, err := Open(path, clk).Append("config.load", map[string]string{"source": "start"})
	if err != nil {
		t.Fatalf("Append after a torn write: %v", err)
	}
	if e.Seq != 6 {
		t.Errorf("seq %d, want 6 (after the entry recording the cut)", e.Seq)
	}
	n, err := VerifyFile(path)
	if err != nil || n != 6 {
		t.Fatalf("VerifyFile = %d, %v; want 6 entries, intact", n, err)
	}
	b, _ := os.ReadFile(path)
	got := bytes.SplitAfter(b, []byte("\n"))
	if !bytes.Contains(got[4], []byte(`"action":"audit.torn_write_cut"`)) ||
		!bytes.Contains(got[4], []byte(`"bytes":"`+strconv.Itoa(len(torn))+`"`)) {
		t.Errorf("the cut is not recorded: %s", got[4])
	}
}

// TestVerifyToleratesATornTail: a crash or a full disk in the middle of an
// Append leaves part of a line without its newline, an entry that was
// never acknowledged and that the next Append cuts off (recording the
// cut). Until then, verify must not report the log as edited: before, it
// named the unfinished line "not a valid audit entry", a tampering alarm
// after every such crash. It says the chain is intact and the last line
// unfinished; an unfinished line that is not the last is still an edit.
func TestVerifyToleratesATornTail(t *testing.T) {
	_, lines := writeLog(t)
	log := bytes.Join(lines, nil)
	torn := lines[3][:len(lines[3])/2]
	n, err := Verify(bytes.NewReader(append(append([]byte{}, log...), torn...)))
	var tt *TornTail
	if n != 4 || IsBroken(err) || !errors.As(err, &tt) || tt.Line != 5 || tt.Bytes != len(torn) {
		t.Fatalf("Verify with a torn tail = %d, %v; want 4 entries and a torn tail of %d bytes on line 5", n, err, len(torn))
	}
	// A whole entry without its newline was not fsynced as written either.
	n, err = Verify(bytes.NewReader(log[:len(log)-1]))
	if n != 3 || !errors.As(err, &tt) || tt.Line != 4 {
		t.Errorf("Verify of a last entry without its newline = %d, %v; want 3 entries and a torn tail on line 4", n, err)
	}
	// Not at the end: an edit.
	n, err = Verify(bytes.NewReader(bytes.Join([][]byte{lines[0], torn, []byte("\n"), lines[1]}, nil)))
	if b, ok := err.(*Broken); !ok || b.Line != 2 || n != 1 {
		t.Errorf("Verify with a cut line inside = %d, %v; want line 2 broken", n, err)
	}
}

// TestInvalidUTF8Verifies: an entry whose detail is not valid UTF-8 (a
// config path in a Latin-1 directory, an error quoting one) was written
// with the bytes JSON turns into \ufffd but hashed as the raw bytes, so
// verify called that line and every line after it edited: a false alarm
// that no later entry could clear. The entry must verify, and say what it
// recorded in valid UTF-8.
func TestInvalidUTF8Verifies(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC))
	path := filepath.Join(t.TempDir(), FileName)
	l := Open(path, clk)
	e, err := l.Append("config.reload_refused\xff", map[string]string{"config": "/srv/caf\xe9/beacongate.yaml", "k\xc3": "v"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Action != "config.reload_refused\ufffd" || e.Fields["config"] != "/srv/caf\ufffd/beacongate.yaml" || e.Fields["k\ufffd"] != "v" {
		t.Errorf("entry as written: %+v", e)
	}
	if _, err := l.Append("config.load", nil); err != nil {
		t.Fatal(err)
	}
	if n, err := VerifyFile(path); err != nil || n != 2 {
		t.Fatalf("VerifyFile = %d, %v; want 2 entries, intact", n, err)
	}
}
