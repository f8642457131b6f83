// Package tokenfile reads the token in a credential file someone else
// issues (an http destination's bearer_token_file, an ad platform's
// access_token_file or api_secret_file): config check and the start read
// it with the same function, so that a file config check accepts is one
// the gateway starts with.
package tokenfile

import (
	"bytes"
	"errors"
	"io"
	"os"
)

// MaxLine bounds the first line: a token is far shorter, and a path that
// names some other file (a log, a database) must not be read whole.
const MaxLine = 64 << 10

// Errors of Read about the file's contents; neither quotes them. Each
// reads after the file's name and a colon ("FILE: " + err).
var (
	// ErrEmpty: the file holds nothing but white space.
	ErrEmpty = errors.New("the file is empty; write the token you were given into it")
	// ErrFirstLineEmpty: the first line is blank and a later one holds
	// text. The token is the first line: the file is refused rather than
	// a later line taken, which may be a comment or a second credential.
	ErrFirstLineEmpty = errors.New("the first line is empty; the token is read from the first line only: remove the blank line(s) before it")
	// ErrTooLong: no line break within MaxLine bytes.
	ErrTooLong = errors.New("the first line is longer than 64 KiB: not a token file (the token on the first line)")
)

// Read returns the token in the file name: its first line, without the
// white space around it (a trailing "\r" too). Later lines are ignored. A
// file of white space only is ErrEmpty; a blank first line followed by
// text is ErrFirstLineEmpty. Errors opening or reading the file are
// returned as the os package gives them.
func Read(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxLine+1))
	if err != nil {
		return "", err
	}
	return Token(b)
}

// Token is Read on the contents b of a token file (at most MaxLine+1 bytes
// of it).
func Token(b []byte) (string, error) {
	first, rest, found := bytes.Cut(b, []byte{'\n'})
	if !found && len(b) > MaxLine {
		return "", ErrTooLong
	}
	if tok := bytes.TrimSpace(first); len(tok) > 0 {
		return string(tok), nil
	}
	if len(bytes.TrimSpace(rest)) == 0 {
		return "", ErrEmpty
	}
	return "", ErrFirstLineEmpty
}
