package retail

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"sync"
)

// OptOutKeyLen is the shortest opt-out key accepted, in bytes.
const OptOutKeyLen = 32

// OptOut is a suppression list of device ids. It holds only keyed hashes,
// HMAC-SHA256(key, "optout" || lower-cased id) cut to 16 bytes, so the file
// names nobody to whoever lacks the key. Lookups are safe for concurrent
// use; Add and Remove are not (the command edits a copy, the gateway
// reloads the file).
type OptOut struct {
	key  []byte
	set  map[[16]byte]struct{}
	pool sync.Pool
}

// NewOptOut returns an empty list keyed by key (at least OptOutKeyLen bytes).
func NewOptOut(key []byte) (*OptOut, error) {
	if len(key) < OptOutKeyLen {
		return nil, fmt.Errorf("opt-out key: %d bytes; want at least %d", len(key), OptOutKeyLen)
	}
	o := &OptOut{key: bytes.Clone(key), set: map[[16]byte]struct{}{}}
	k := o.key
	if len(k) > sha256.BlockSize {
		s := sha256.Sum256(k)
		k = s[:]
	}
	var ipad, opad [sha256.BlockSize]byte
	copy(ipad[:], k)
	copy(opad[:], k)
	for i := range ipad {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}
	o.pool.New = func() any { return &optHasher{in: sha256.New(), out: sha256.New(), ipad: ipad, opad: opad} }
	return o, nil
}

// optOutLabel separates this use of the key from any other.
var optOutLabel = []byte("optout")

// optHasher computes HMAC-SHA256 (RFC 2104) by hand: crypto/hmac's Sum
// allocates, and the gateway asks about every sighting.
type optHasher struct {
	in, out    hash.Hash
	ipad, opad [sha256.BlockSize]byte
	buf        [sha256.Size]byte
	id         [256]byte
}

// Hash returns the list's hash of a device id (a MAC in any notation is
// normalised first; other ids are lower-cased). It does not allocate for
// ids up to 256 bytes.
func (o *OptOut) Hash(id []byte) [16]byte {
	x := o.pool.Get().(*optHasher)
	n, ok := AppendMAC(x.id[:0], id)
	if !ok {
		n = AppendLowerASCII(x.id[:0], id)
	}
	x.in.Reset()
	x.in.Write(x.ipad[:])
	x.in.Write(optOutLabel)
	x.in.Write(n)
	inner := x.in.Sum(x.buf[:0])
	x.out.Reset()
	x.out.Write(x.opad[:])
	x.out.Write(inner)
	var out [16]byte
	copy(out[:], x.out.Sum(x.buf[:0]))
	o.pool.Put(x)
	return out
}

// Contains reports whether id is on the list.
func (o *OptOut) Contains(id []byte) bool {
	if o == nil || len(o.set) == 0 || len(id) == 0 {
		return false
	}
	_, ok := o.set[o.Hash(id)]
	return ok
}

// Add puts id on the list and reports whether it was new.
func (o *OptOut) Add(id []byte) bool {
	h := o.Hash(id)
	_, had := o.set[h]
	o.set[h] = struct{}{}
	return !had
}

// Remove takes id off the list and reports whether it was there.
func (o *OptOut) Remove(id []byte) bool {
	h := o.Hash(id)
	_, had := o.set[h]
	delete(o.set, h)
	return had
}

// Len is the number of ids on the list.
func (o *OptOut) Len() int { return len(o.set) }

// AppendFile appends the list in its file format: a comment line, then one
// hash per line in hex, sorted.
func (o *OptOut) AppendFile(dst []byte) []byte {
	hs := make([][16]byte, 0, len(o.set))
	for h := range o.set {
		hs = append(hs, h)
	}
	slices.SortFunc(hs, func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) })
	dst = append(dst, "# beacongate BLE opt-out list: keyed hashes of device ids; beacongate subject unsuppress -kind mac|adid removes one\n"...)
	for _, h := range hs {
		dst = hex.AppendEncode(dst, h[:])
		dst = append(dst, '\n')
	}
	return dst
}

// ParseOptOut reads an opt-out file (see AppendFile; blank lines and lines
// starting with # are ignored) into a list keyed by key. An error names
// the line, never its content.
func ParseOptOut(key, data []byte) (*OptOut, error) {
	o, err := NewOptOut(key)
	if err != nil {
		return nil, err
	}
	for n := 1; len(data) > 0; n++ {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte("\n"))
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		var h [16]byte
		if len(line) != 32 {
			return nil, fmt.Errorf("opt-out file line %d: not a hash of 32 hex digits", n)
		}
		if _, err := hex.Decode(h[:], line); err != nil {
			return nil, fmt.Errorf("opt-out file line %d: not a hash of 32 hex digits", n)
		}
		o.set[h] = struct{}{}
	}
	return o, nil
}
