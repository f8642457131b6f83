package pseudonym

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// SubjectKey computes the keyed hashes by which subjects are named in the
// suppression list and the audit log, so that neither ever holds an
// identifier. It is safe for concurrent use.
type SubjectKey struct {
	st *periodState // a fixed key in the same precomputed form as a period's
}

// SubjectSumLen is the length of a subject hash in bytes.
const SubjectSumLen = 16

// kindSubject separates subject hashes from pseudonyms and visitor hashes.
const kindSubject = 's'

// NewSubjectKey returns a SubjectKey for a key of at least 32 bytes.
func NewSubjectKey(key []byte) (*SubjectKey, error) {
	if len(key) < 32 || len(key) > sha256.BlockSize {
		return nil, errors.New("pseudonym: a subject key has 32 to 64 bytes")
	}
	st := &periodState{}
	st.inner, st.outer = padStates(key)
	return &SubjectKey{st: st}, nil
}

// SubjectKeyFromSecret derives the subject key from the derived-mode
// secret, so that every instance holding it hashes subjects alike.
func SubjectKeyFromSecret(s Secret) (*SubjectKey, error) {
	k, err := hkdf.Key(sha256.New, s.bytes(), []byte("beacongate subject hashes"), "subject/v1", sha256.Size)
	if err != nil {
		return nil, err
	}
	defer clear(k)
	return NewSubjectKey(k)
}

// LoadOrCreateSubjectKeyFile reads a 32-byte key from path, creating it
// with a random key (mode 0600) when it does not exist: for ephemeral mode,
// which has no secret. Like a secret file, it refuses a file every user of
// the machine may read or write: whoever reads the key can tell whether an
// identifier is on the suppression list or named in the audit log, and
// whoever replaces it unnames every subject already suppressed.
func LoadOrCreateSubjectKeyFile(path string) (*SubjectKey, error) {
	k, err := LoadSubjectKeyFile(path)
	if !errors.Is(err, os.ErrNotExist) {
		return k, err
	}
	key := make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, key); err != nil {
		return nil, err
	}
	if err := createOnce(path, []byte(hex.EncodeToString(key)+"\n")); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("pseudonym: cannot create the subject key file: %w", err)
	}
	return LoadSubjectKeyFile(path)
}

// LoadSubjectKeyFile reads the key of a subject key file as
// LoadOrCreateSubjectKeyFile does, with its rules, but creates nothing: a
// file that does not exist is an error that errors.Is os.ErrNotExist.
// config check reads the file with it. Its errors never quote the key.
func LoadSubjectKeyFile(path string) (*SubjectKey, error) {
	if fi, err := os.Stat(path); err == nil {
		if perm := fi.Mode().Perm(); perm&0o006 != 0 {
			return nil, fmt.Errorf("pseudonym: subject key file %q is readable or writable by every user (mode %04o); "+
				"restrict it to its owner with: chmod 600 %s", path, perm, path)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pseudonym: cannot read the subject key file: %w", err)
	}
	key, err := hex.DecodeString(string(trimSpace(b)))
	defer clear(key)
	// A key of the wrong length is as damaged as one that is not hex: the
	// error names the file (NewSubjectKey's alone did not say which).
	if err != nil || len(key) < 32 || len(key) > 64 {
		return nil, fmt.Errorf("pseudonym: subject key file %q is damaged (want 64 to 128 hexadecimal digits)", path)
	}
	return NewSubjectKey(key)
}

// Sum returns the first 16 bytes of
//
//	HMAC-SHA256(key, 's' || uint32be(len(site)) || site || id)
//
// It does not allocate.
func (k *SubjectKey) Sum(site, id []byte) [SubjectSumLen]byte {
	h := getHasher(k.st)
	h.header(kindSubject, len(site))
	h.write(site)
	h.write(id)
	var out [SubjectSumLen]byte
	inner := h.h.Sum(h.sum[:0])
	if err := h.u.UnmarshalBinary(k.st.outer); err != nil {
		panic("pseudonym: sha256 state cannot be restored: " + err.Error())
	}
	h.h.Write(inner)
	copy(out[:], h.h.Sum(h.sum[:0]))
	h.h.Reset()
	clear(h.sum[:])
	hasherPool.Put(h)
	return out
}

// Hex is Sum in hexadecimal, as the suppression list and the audit log
// write it.
func (k *SubjectKey) Hex(site, id []byte) string {
	s := k.Sum(site, id)
	return hex.EncodeToString(s[:])
}
