package pseudonym

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzKeyStoreFiles puts arbitrary bytes in one of the files the key store
// and the subject key are read from (meta.json, the destruction watermark
// forgotten, a period's key file, subject.key) and reads them as the
// gateway does. Nothing may panic; a refusal names the file and never
// shows its content; what is taken must be what the file says (a
// watermark is the number it spells, a key file only as written, a
// subject key only 32 to 64 bytes of hex).
func FuzzKeyStoreFiles(f *testing.F) {
	for i := range uint8(4) {
		f.Add(i, []byte{})
	}
	f.Add(uint8(0), []byte(`{"version":1,"created":1773144000,"check":"x"}`))
	f.Add(uint8(0), []byte(`{"version":2}`))
	f.Add(uint8(1), []byte("1773316800\n"))
	f.Add(uint8(1), []byte("-1"))
	f.Add(uint8(1), []byte(" 99999999999999999999 "))
	f.Add(uint8(2), bytes.Repeat([]byte{7}, 60))
	f.Add(uint8(3), []byte(strings.Repeat("ab", 32)+"\n"))
	f.Add(uint8(3), []byte(strings.Repeat("ab", 16)))
	f.Add(uint8(3), []byte(strings.Repeat("zz", 32)))
	secret := testSecret(f)
	day := upgradeAt.Unix()/86400 + 2
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		dir := t.TempDir()
		ks, err := OpenKeyStore(dir, secret, upgradeAt, false)
		if err != nil {
			t.Fatal(err)
		}
		var path string
		switch which % 4 {
		case 0:
			path = filepath.Join(dir, "meta.json")
		case 1:
			path = filepath.Join(dir, "forgotten")
		case 2:
			if _, err := ks.PeriodKey("pseudonym", 86400, day); err != nil {
				t.Fatal(err)
			}
			path = filepath.Join(dir, keyName("pseudonym", 86400, day))
		case 3:
			path = filepath.Join(dir, "subject.key")
		}
		orig, _ := os.ReadFile(path)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		noContent := func(err error) {
			t.Helper()
			if !strings.Contains(err.Error(), filepath.Base(path)) && (which%4 != 0 || !strings.Contains(err.Error(), dir)) {
				t.Fatalf("the error names neither %s nor its key store: %v", filepath.Base(path), err)
			}
			if s := strings.TrimSpace(string(data)); len(s) >= 8 && strings.Contains(err.Error(), s) {
				t.Fatalf("the error shows the file's content: %v", err)
			}
		}
		switch which % 4 {
		case 0:
			_, err := OpenKeyStore(dir, secret, upgradeAt, false)
			if err != nil {
				noContent(err)
			} else if !bytes.Contains(data, []byte(`"check"`)) {
				t.Fatalf("a meta.json without the secret's check opened: %q", data)
			}
		case 1:
			_, err := ks.PeriodKey("pseudonym", 86400, day)
			n, perr := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
			switch {
			case perr != nil || n < 0:
				if err == nil {
					t.Fatalf("a damaged watermark %q gave out a key", data)
				}
				noContent(err)
			case (day+1)*86400 <= n:
				if !errors.Is(err, ErrKeyDestroyed) {
					t.Fatalf("watermark %d: the key of a period ended by then: %v", n, err)
				}
			case err != nil:
				t.Fatalf("watermark %d: %v", n, err)
			}
		case 2:
			_, err := ks.PeriodKey("pseudonym", 86400, day)
			if err == nil && !bytes.Equal(data, orig) {
				t.Fatalf("a key file rewritten as %q opened", data)
			}
			if err != nil {
				noContent(err)
			}
		case 3:
			k, err := LoadOrCreateSubjectKeyFile(path)
			key, herr := hex.DecodeString(strings.TrimSpace(string(data)))
			if ok := herr == nil && len(key) >= 32 && len(key) <= 64; ok != (err == nil) || ok != (k != nil) {
				t.Fatalf("subject key file %q: %v", data, err)
			}
			if err != nil {
				noContent(err)
			}
		}
	})
}

// FuzzLoadSecretFile: a secret file is taken exactly when, white space
// around it cut, it holds MinSecretLen bytes or more in a file of at most
// 4 KiB, and then the secret is those bytes (the keys derived from it
// match NewSecret's); a refusal names the file and never shows the content.
func FuzzLoadSecretFile(f *testing.F) {
	f.Add([]byte(strings.Repeat("s", MinSecretLen) + "\n"))
	f.Add([]byte(" \t" + strings.Repeat("\xff", MinSecretLen-1) + "\r\n"))
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte("k"), maxSecretFileSize+1))
	f.Add([]byte("\u00a0" + strings.Repeat("x", MinSecretLen) + "\u0085"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "secret")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := LoadSecretFile(path)
		want := bytes.TrimSpace(data)
		if ok := len(data) <= maxSecretFileSize && len(want) >= MinSecretLen; ok != (err == nil) {
			t.Fatalf("%d bytes, %d after trimming: %v", len(data), len(want), err)
		}
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("the error does not name the file: %v", err)
			}
			if w := string(want); len(w) >= 8 && strings.Contains(err.Error(), w) {
				t.Fatalf("the error shows the secret: %v", err)
			}
			return
		}
		ref, err := NewSecret(want)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(s.bytes(), ref.bytes()) {
			t.Fatal("the secret is not the file's content without the white space around it")
		}
	})
}
