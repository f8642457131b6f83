package anonymize

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"sync/atomic"
)

// Event ids are 16 bytes: 8 random bytes chosen when the process starts and
// a 64-bit counter, base64url-encoded to 22 characters. Two processes collide
// only if they draw the same 64-bit prefix (about 1 in 2^32 after 2^32
// restarts), and one process never repeats an id. Upstreams de-duplicate on it.
var (
	eventIDPrefix  [8]byte
	eventIDCounter atomic.Uint64
)

func init() {
	if _, err := rand.Read(eventIDPrefix[:]); err != nil {
		panic("anonymize: no randomness for event ids: " + err.Error())
	}
}

// appendEventID appends a new unique event id.
func appendEventID(dst []byte) []byte {
	var b [16]byte
	copy(b[:8], eventIDPrefix[:])
	binary.BigEndian.PutUint64(b[8:], eventIDCounter.Add(1))
	return base64.RawURLEncoding.AppendEncode(dst, b[:])
}
