package consent

// b64 maps a base64url character to its 6-bit value, or 0xff for anything
// else. TC strings, GPP strings and their sections are all base64url without
// padding, so '=', '+' and '/' are rejected like any other foreign byte.
var b64 = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// decodeB64 decodes the base64url characters in src into dst and returns the
// number of bytes written, ceil(6*len(src)/8); the bits of a partial last
// byte are zero. bad is the index of the first character that is not
// base64url, or -1. dst must hold at least (len(src)*6+7)/8 bytes.
func decodeB64(dst, src []byte) (n, bad int) {
	i := 0
	// Four characters make three whole bytes.
	for ; i+4 <= len(src); i += 4 {
		a, b, c, d := b64[src[i]], b64[src[i+1]], b64[src[i+2]], b64[src[i+3]]
		if a|b|c|d == 0xff {
			return n, firstBad(src[i:i+4], i)
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		dst[n], dst[n+1], dst[n+2] = byte(v>>16), byte(v>>8), byte(v)
		n += 3
	}
	if i == len(src) {
		return n, -1
	}
	var v uint32
	k := 0
	for ; i < len(src); i++ {
		c := b64[src[i]]
		if c == 0xff {
			return n, i
		}
		v = v<<6 | uint32(c)
		k++
	}
	// k is 1, 2 or 3 characters: 6, 12 or 18 bits; left-align to 24 bits.
	v <<= 6 * uint(4-k)
	nb := (k*6 + 7) / 8
	for j := 0; j < nb; j++ {
		dst[n] = byte(v >> uint(16-8*j))
		n++
	}
	return n, -1
}

// firstBad returns base plus the index of the first non-base64url byte in q.
func firstBad(q []byte, base int) int {
	for j, c := range q {
		if b64[c] == 0xff {
			return base + j
		}
	}
	return base
}
