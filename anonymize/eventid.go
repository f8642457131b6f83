package anonymize

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"slices"
	"sync/atomic"
)

// Event ids are 16 bytes, base64url-encoded to 22 characters: a 64-bit
// counter and 8 random bytes chosen when the process starts, encrypted with
// AES-128 under a key drawn at start and never kept anywhere else. AES is a
// permutation, so one process never repeats an id; two processes use
// unrelated keys, so their ids look like independent random 128-bit values
// (a collision is as likely as between random ids). Without the key, the
// ids of one event's records (one per destination policy) cannot be lined
// up by prefix or counter: recipients cannot join their records on them.
// Upstreams de-duplicate on the id.
var (
	eventIDPrefix  [8]byte
	eventIDCounter atomic.Uint64
	eventIDCipher  cipher.Block
)

func init() {
	var key [16]byte
	rand.Read(key[:]) // never fails (Go 1.24+): it crashes the program instead
	rand.Read(eventIDPrefix[:])
	eventIDCipher, _ = aes.NewCipher(key[:]) // a 16-byte key is always accepted
}

// appendEventID appends a new unique event id.
func appendEventID(dst []byte) []byte {
	var plain [16]byte
	binary.BigEndian.PutUint64(plain[:8], eventIDCounter.Add(1))
	copy(plain[8:], eventIDPrefix[:])
	// Encrypted in dst's own room (a stack array passed to the cipher's
	// interface method would escape), then encoded over it.
	n := len(dst)
	dst = append(slices.Grow(dst, 22), plain[:]...)
	eventIDCipher.Encrypt(dst[n:], dst[n:])
	var id [16]byte
	copy(id[:], dst[n:])
	return base64.RawURLEncoding.AppendEncode(dst[:n], id[:])
}
