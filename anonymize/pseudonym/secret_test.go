package pseudonym

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// leaks reports whether out contains the test secret, or a recognizable
// piece of it, in raw, hex, base64 or fmt's byte-list form.
func leaks(out string) bool {
	s := testSecretBytes
	forms := []string{
		string(s[:12]), string(s[20:32]),
		hex.EncodeToString(s[:8]), strings.ToUpper(hex.EncodeToString(s[:8])),
		base64.StdEncoding.EncodeToString(s[:9]),
		fmt.Sprint(s[:4])[1:10], // "48 49 50 " — the %d / %v form of the bytes
	}
	for _, f := range forms {
		if strings.Contains(out, f) {
			return true
		}
	}
	return false
}

func TestSecretNeverPrinted(t *testing.T) {
	s := testSecret(t)
	opts := Options{Mode: Derived, Secret: s}
	k := newKeyring(t, opts)
	type hidden struct {
		inner Options // unexported: fmt cannot call Format, it reflects
	}
	values := map[string]any{
		"Secret": s, "*Secret": &s, "Options": opts, "*Options": &opts, "Keyring": k, "schedule": &k.ids,
		"hidden": hidden{opts}, "slice": []Secret{s}, "map": map[string]Secret{"k": s},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%o", "%b", "%T", "%10.3v", "%# x"}
	for name, v := range values {
		for _, verb := range verbs {
			out := fmt.Sprintf(verb, v)
			if leaks(out) {
				t.Fatalf("%s with %s leaks the secret: %s", name, verb, out)
			}
		}
	}
	if got := fmt.Sprint(s); got != "[redacted]" {
		t.Fatalf("Sprint(secret) = %q", got)
	}
	if got := fmt.Sprintf("%#v", s); got != "pseudonym.Secret([redacted])" {
		t.Fatalf("%%#v = %q", got)
	}
	j, err := json.Marshal(opts)
	if err != nil || leaks(string(j)) || !strings.Contains(string(j), `"Secret":"[redacted]"`) {
		t.Fatalf("JSON %s, %v", j, err)
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("config", "secret", s, "options", opts)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "secret", s, "options", opts)
	if leaks(buf.String()) || !strings.Contains(buf.String(), "[redacted]") {
		t.Fatalf("slog output leaks or lacks redaction: %s", buf.String())
	}
}

func TestSecretErrorsDoNotLeak(t *testing.T) {
	dir := t.TempDir()
	short := testSecretBytes[:20]
	var errs []error
	_, err := NewSecret(short)
	errs = append(errs, err)

	p := filepath.Join(dir, "short")
	writeFile(t, p, short, 0o600)
	_, err = LoadSecretFile(p)
	errs = append(errs, err)

	p = filepath.Join(dir, "open")
	writeFile(t, p, testSecretBytes, 0o644)
	_, err = LoadSecretFile(p)
	errs = append(errs, err)

	t.Setenv("BG_TEST_SHORT_SECRET", string(short))
	_, err = SecretFromEnv("BG_TEST_SHORT_SECRET")
	errs = append(errs, err)

	bad := Secret{get: func() []byte { return short }} // a Secret built around the checks
	_, err = New(Options{Mode: Derived, Secret: bad})
	errs = append(errs, err)

	for i, err := range errs {
		if err == nil {
			t.Fatalf("case %d: no error", i)
		}
		if leaks(err.Error()) || strings.Contains(err.Error(), string(short[:8])) {
			t.Fatalf("case %d: error leaks the secret: %v", i, err)
		}
		if leaks(fmt.Sprintf("%+v %#v", err, err)) {
			t.Fatalf("case %d: formatted error leaks the secret", i)
		}
	}
	if !errors.Is(errs[0], ErrSecretTooShort) || !errors.Is(errs[1], ErrSecretTooShort) || !errors.Is(errs[4], ErrSecretTooShort) {
		t.Fatalf("too-short errors do not wrap ErrSecretTooShort: %v / %v / %v", errs[0], errs[1], errs[4])
	}
	if !strings.Contains(errs[0].Error(), "got 20 bytes, need at least 32") {
		t.Fatalf("unclear error: %v", errs[0])
	}
}

func writeFile(t *testing.T, path string, b []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile's mode is filtered by umask
		t.Fatal(err)
	}
}

func TestLoadSecretFile(t *testing.T) {
	dir := t.TempDir()
	f := func(name string, content []byte, mode os.FileMode, wantErr string) {
		t.Helper()
		p := filepath.Join(dir, name)
		writeFile(t, p, content, mode)
		s, err := LoadSecretFile(p)
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Fatalf("%s: error %v; want one containing %q", name, err, wantErr)
			}
			if !s.IsZero() {
				t.Fatalf("%s: non-zero Secret with an error", name)
			}
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(s.bytes(), testSecretBytes) {
			t.Fatalf("%s: secret of %d bytes differs", name, s.Len())
		}
	}
	f("plain", testSecretBytes, 0o600, "")
	f("newline", append(append([]byte(nil), testSecretBytes...), '\n'), 0o400, "")
	f("crlf", append(append([]byte(nil), testSecretBytes...), " \r\n"...), 0o640, "") // group-readable is the operator's call
	f("world-readable", testSecretBytes, 0o644, "chmod 600")
	f("world-readable2", testSecretBytes, 0o604, "readable or writable by every user (mode 0604)")
	f("world-writable", testSecretBytes, 0o602, "chmod 600")
	f("short", []byte("too short\n"), 0o600, "got 9 bytes, need at least 32")
	f("spaces", bytes.Repeat([]byte(" "), 64), 0o600, "got 0 bytes")
	f("huge", bytes.Repeat([]byte("x"), 5000), 0o600, "larger than 4096 bytes")

	_, err := LoadSecretFile(filepath.Join(dir, "missing"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	_, err = LoadSecretFile(dir)
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("directory: %v", err)
	}

	// Two keyrings from the same file agree.
	p := filepath.Join(dir, "plain")
	s1, _ := LoadSecretFile(p)
	s2, _ := LoadSecretFile(p)
	k1 := newKeyring(t, Options{Mode: Derived, Secret: s1})
	k2 := newKeyring(t, Options{Mode: Derived, Secret: s2})
	if !bytes.Equal(k1.AppendPseudonym(nil, []byte("s"), []byte("u"), day0), k2.AppendPseudonym(nil, []byte("s"), []byte("u"), day0)) {
		t.Fatal("same secret file, different pseudonyms")
	}
}

func TestSecretFromEnv(t *testing.T) {
	t.Setenv("BG_TEST_SECRET", string(testSecretBytes)+"\n")
	s, err := SecretFromEnv("BG_TEST_SECRET")
	if err != nil || !bytes.Equal(s.bytes(), testSecretBytes) {
		t.Fatalf("SecretFromEnv: %v", err)
	}
	t.Setenv("BG_TEST_EMPTY", "")
	for _, name := range []string{"BG_TEST_EMPTY", "BG_TEST_SURELY_UNSET_VARIABLE"} {
		_, err := SecretFromEnv(name)
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "not set or empty") {
			t.Fatalf("%s: %v", name, err)
		}
	}
	var zero Secret
	if !zero.IsZero() || zero.Len() != 0 || zero.bytes() != nil {
		t.Fatal("zero Secret")
	}
}
