package pseudonym

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
)

// MinSecretLen is the shortest secret accepted, in bytes. 32 bytes match
// the HMAC-SHA256 key size; a base64 text of 32 characters still carries 192
// bits. Generate one with: openssl rand -base64 48
const MinSecretLen = 32

// maxSecretFileSize bounds what LoadSecretFile reads: a secret is a line of
// text or a few dozen random bytes, never a large file.
const maxSecretFileSize = 4096

// redacted is what every printing or encoding of a Secret produces.
const redacted = "[redacted]"

// ErrSecretTooShort is wrapped by every error about a secret shorter than
// MinSecretLen. Messages give the length, never the content.
var ErrSecretTooShort = errors.New("pseudonym: secret too short")

// Secret is the key material of derived mode. Its bytes cannot be printed,
// logged or encoded: String, GoString, Format (every fmt verb), MarshalText
// (JSON, YAML) and LogValue (log/slog) all produce "[redacted]". The bytes
// are reachable only through a function value, which fmt prints as an
// address: a pointer or slice field would be dereferenced by fmt's
// reflection when a Secret sits in an unexported field of another struct
// (fmt cannot call Format there) or under a wrong verb ("%!s(...)"). The
// zero Secret is empty.
type Secret struct {
	get func() []byte
}

// NewSecret returns a Secret holding a copy of b. It fails with an error
// wrapping ErrSecretTooShort when b is shorter than MinSecretLen.
func NewSecret(b []byte) (Secret, error) {
	if len(b) < MinSecretLen {
		return Secret{}, tooShort(len(b))
	}
	c := bytes.Clone(b)
	return Secret{get: func() []byte { return c }}, nil
}

func tooShort(n int) error {
	return fmt.Errorf("%w: got %d bytes, need at least %d (generate one with: openssl rand -base64 48)", ErrSecretTooShort, n, MinSecretLen)
}

// LoadSecretFile reads a secret from the file at path. Surrounding white space
// (the newline an editor or echo adds) is removed; everything else, text or
// binary, is the secret. Every node that loads the same file derives the
// same keys.
//
// It refuses a file that every user of the machine may read or write (mode
// & 0o006), telling how to fix it, as well as a file that is not a regular
// file, larger than 4 KiB, or shorter than MinSecretLen after trimming.
// Errors name the path but never include the content.
func LoadSecretFile(path string) (Secret, error) {
	f, err := os.Open(path)
	if err != nil {
		return Secret{}, fmt.Errorf("pseudonym: cannot open secret file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Secret{}, fmt.Errorf("pseudonym: cannot stat secret file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return Secret{}, fmt.Errorf("pseudonym: secret file %q is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o006 != 0 {
		return Secret{}, fmt.Errorf("pseudonym: secret file %q is readable or writable by every user (mode %04o); "+
			"restrict it to its owner with: chmod 600 %s", path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFileSize+1))
	defer clear(b) // best effort: do not leave a second copy for the GC to find
	if err != nil {
		return Secret{}, fmt.Errorf("pseudonym: cannot read secret file: %w", err)
	}
	if len(b) > maxSecretFileSize {
		return Secret{}, fmt.Errorf("pseudonym: secret file %q is larger than %d bytes", path, maxSecretFileSize)
	}
	s, err := NewSecret(trimSpace(b))
	if err != nil {
		return Secret{}, fmt.Errorf("secret file %q: %w", path, err)
	}
	return s, nil
}

// SecretFromEnv reads a secret from the environment variable name. Surrounding
// white space is removed. An unset or empty variable is an error that names
// the variable; no error includes its value.
func SecretFromEnv(name string) (Secret, error) {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return Secret{}, fmt.Errorf("pseudonym: environment variable %s is not set or empty", name)
	}
	s, err := NewSecret(trimSpace([]byte(v)))
	if err != nil {
		return Secret{}, fmt.Errorf("environment variable %s: %w", name, err)
	}
	return s, nil
}

// trimSpace removes white space around a secret, as the config's loader
// always did: a secret file written by an editor or "echo" and the same
// text in an environment variable give the same secret, and so the same
// pseudonyms.
func trimSpace(b []byte) []byte {
	return bytes.TrimSpace(b)
}

// IsZero reports whether s holds no secret.
func (s Secret) IsZero() bool { return s.get == nil }

// Len returns the secret's length in bytes, which is not secret.
func (s Secret) Len() int { return len(s.bytes()) }

// bytes returns the secret itself, for key derivation only. Callers must not
// modify it.
func (s Secret) bytes() []byte {
	if s.get == nil {
		return nil
	}
	return s.get()
}

// String returns "[redacted]".
func (s Secret) String() string { return redacted }

// GoString returns "pseudonym.Secret([redacted])".
func (s Secret) GoString() string { return "pseudonym.Secret(" + redacted + ")" }

// Format writes "[redacted]" for every fmt verb, including %x and %d, which
// would otherwise bypass String.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, s.GoString())
		return
	}
	io.WriteString(f, redacted)
}

// MarshalText returns "[redacted]", so that encoding a configuration that
// holds a Secret (JSON, YAML) cannot leak it.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue returns "[redacted]" for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
