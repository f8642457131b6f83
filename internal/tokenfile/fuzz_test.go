package tokenfile

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzToken: Token never panics; a token it returns is the first line
// trimmed, non-empty, without a line break; an error is one of its own,
// which never quote the contents.
func FuzzToken(f *testing.F) {
	for _, s := range []string{"", "tok", "tok\n", " tok \r\nsecond", "\nlater", " \n \n", "\r\n\ttok", strings.Repeat("x", MaxLine+1)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := Token(b)
		if err != nil {
			if !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrFirstLineEmpty) && !errors.Is(err, ErrTooLong) {
				t.Fatalf("Token(%q): unexpected error %v", b, err)
			}
			return
		}
		first, _, _ := bytes.Cut(b, []byte{'\n'})
		if tok == "" || strings.ContainsAny(tok, "\n") || tok != string(bytes.TrimSpace(first)) {
			t.Fatalf("Token(%q) = %q; want the first line trimmed", b, tok)
		}
	})
}
