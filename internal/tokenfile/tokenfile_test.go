package tokenfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestToken(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
		err  error
	}{
		{"tok\n", "tok", nil},
		{"  tok \r\nsecond\n", "tok", nil},
		{"tok", "tok", nil},
		{"", "", ErrEmpty},
		{" \n\t\n", "", ErrEmpty},
		{"\ntok\n", "", ErrFirstLineEmpty},
		{" \r\n\n tok", "", ErrFirstLineEmpty},
		{strings.Repeat("t", MaxLine+1), "", ErrTooLong},
		{strings.Repeat("t", MaxLine-1) + "\n", strings.Repeat("t", MaxLine-1), nil},
	} {
		got, err := Token([]byte(c.in))
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("Token(%.20q) = %.20q, %v; want %.20q, %v", c.in, got, err, c.want, c.err)
		}
	}
}

func TestReadLargeFileTokenOnFirstLine(t *testing.T) {
	name := filepath.Join(t.TempDir(), "t")
	if err := os.WriteFile(name, []byte("tok\n"+strings.Repeat("x", 2*MaxLine)), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := Read(name); got != "tok" || err != nil {
		t.Fatalf("Read = %q, %v", got, err)
	}
	if _, err := Read(filepath.Join(t.TempDir(), "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("absent: %v", err)
	}
}
