package upstream

import (
	"bytes"
	"os"
	"path/filepath"
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

// FuzzReadDeadLetter: a damaged dead-letter file is an error, never a panic.
func FuzzReadDeadLetter(f *testing.F) {
	f.Add([]byte("{\"id\":\"a\"}\n{\"id\":\"b\"}\n"), ".ndjson")
	f.Add([]byte("\x28\xb5\x2f\xfd\x00\x00"), ".ndjson.zst")
	f.Add([]byte("\x1f\x8b\x08\x00"), ".ndjson.gz")
	f.Fuzz(func(t *testing.T, data []byte, ext string) {
		switch ext {
		case ".ndjson", ".ndjson.zst", ".ndjson.gz":
		default:
			ext = ".ndjson"
		}
		p := filepath.Join(t.TempDir(), "b"+ext)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		recs, err := readDeadLetter(p)
		if err != nil && recs != nil {
			t.Fatal("records and an error")
		}
		for _, r := range recs {
			if len(r) == 0 || r[0] != '{' {
				t.Fatalf("record %q", r)
			}
		}
	})
}
