package upstream

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestConsentState(t *testing.T) {
	for obj, want := range map[string]string{
		`{"id":"x","consent":{"state":"ads","purposes":["ads"]}}`:             "ads",
		`{"consent":{"purposes":[],"signal":"none","state":"none"},"id":"y"}`: "none",
		`{"consent":"ads"}`:                     "<nil>",
		`{"state":"ads"}`:                       "<nil>",
		`{"a":{"consent":{"state":"ads"}}}`:     "<nil>",
		`{"consent":{"state":"ads"`:             "<nil>",
		`{"x":[1,"}"],"consent":{"state":"a"}}`: "a",
	} {
		got := "<nil>"
		if v := consentState([]byte(obj)); v != nil {
			got = string(v)
		}
		if got != want {
			t.Errorf("consentState(%s) = %s, want %s", obj, got, want)
		}
	}
}

// FuzzConsentState: the nested field reader never panics, and what it
// returns is a quoted part of the input.
func FuzzConsentState(f *testing.F) {
	f.Add([]byte(`{"id":"x","consent":{"state":"ads","purposes":["ads"]}}`))
	f.Add([]byte(`{"consent":{"state":"a\"b"}}`))
	f.Add([]byte(`{"consent":[{"state":"x"}]}`))
	f.Fuzz(func(t *testing.T, obj []byte) {
		if s, e, ok := jsonValueSpan(obj, "consent"); ok && (s < 0 || e > len(obj) || s >= e) {
			t.Fatalf("span [%d:%d] of %d bytes", s, e, len(obj))
		}
		v := consentState(obj)
		if v != nil && !bytes.Contains(obj, v) {
			t.Fatalf("%q is not part of %q", v, obj)
		}
		_ = subjectToken(v)
	})
}

// FuzzReadDeadLetter: a batch file of any content gives its records or an
// error naming the line at fault (or the codec), never a panic; the records
// are the file's non-blank lines, each a JSON object's start (against a
// strings.Split reference); and a batch the shipper writes (its records
// encoded with each codec, as deadLetter stores b.Encoded) reads back as
// those records.
func FuzzReadDeadLetter(f *testing.F) {
	f.Add([]byte("{\"id\":\"a\"}\n{\"id\":\"b\"}\n"), ".ndjson")
	f.Add([]byte("\x28\xb5\x2f\xfd\x00\x00"), ".ndjson.zst")
	f.Add([]byte("\x1f\x8b\x08\x00"), ".ndjson.gz")
	f.Add([]byte("{\"id\":\"a\"}\n\n  \r\nx{\"id\":\"b\"}\n"), ".ndjson")
	bad := regexp.MustCompile(`^(line [0-9]+ is not a JSON object|zstd: .*|gzip: .*)$`)
	f.Fuzz(func(t *testing.T, data []byte, ext string) {
		switch ext {
		case ".ndjson", ".ndjson.zst", ".ndjson.gz":
		default:
			ext = ".ndjson"
		}
		dir := t.TempDir()
		p := filepath.Join(dir, "b"+ext)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		recs, err := readDeadLetter(p)
		if err != nil {
			if recs != nil {
				t.Fatal("records and an error")
			}
			if !bad.MatchString(err.Error()) {
				t.Fatalf("the error names no line: %v", err)
			}
		} else if ext == ".ndjson" {
			var want [][]byte
			for i, l := range strings.Split(string(data), "\n") {
				if strings.TrimSpace(l) == "" {
					continue
				}
				if l[0] != '{' {
					t.Fatalf("line %d %q is not an object, and no error", i+1, l)
				}
				want = append(want, []byte(l))
			}
			if !slices.EqualFunc(recs, want, bytes.Equal) {
				t.Fatalf("records %q; the file's lines %q", recs, want)
			}
		}
		// What the shipper writes reads back: the non-blank lines of
		// data, each made a record by a leading brace.
		var written [][]byte
		var batch []byte
		for l := range bytes.SplitSeq(data, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				r := append([]byte{'{'}, l...)
				written = append(written, r)
				batch = append(append(batch, r...), '\n')
			}
		}
		for _, c := range []Codec{CodecNone, CodecZstd, CodecGzip} {
			enc, err := NewEncoder(c, 0)
			if err != nil {
				t.Fatal(err)
			}
			b, err := enc.AppendEncoded(nil, batch)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, c.String()+".ndjson"+c.Ext())
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := readDeadLetter(p)
			if err != nil || !slices.EqualFunc(got, written, bytes.Equal) {
				t.Fatalf("%v: %d records read back of %d written: %v", c, len(got), len(written), err)
			}
		}
	})
}
