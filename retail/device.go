package retail

// MACLen is the length of a normalised MAC address, aa:bb:cc:dd:ee:ff.
const MACLen = 17

// AppendMAC appends to dst the MAC address s in the one notation
// pseudonyms are taken from, lower-case aa:bb:cc:dd:ee:ff, and reports
// whether s is a MAC address. It accepts, in any case, colon
// (aa:bb:cc:dd:ee:ff), dash (aa-bb-cc-dd-ee-ff), Cisco dotted
// (aabb.ccdd.eeff) and bare hex (aabbccddeeff). On false dst is returned
// unchanged. It does not allocate when dst has MACLen bytes of room.
func AppendMAC(dst, s []byte) ([]byte, bool) {
	var sep byte
	var group int // hex digits between separators; 0 for bare hex
	switch len(s) {
	case 17:
		sep, group = s[2], 2
		if sep != ':' && sep != '-' {
			return dst, false
		}
	case 14:
		sep, group = '.', 4
	case 12:
	default:
		return dst, false
	}
	mark := len(dst)
	digits := 0
	for i, c := range s {
		if group > 0 && i%(group+1) == group {
			if c != sep {
				return dst[:mark], false
			}
			continue
		}
		lc, ok := lowerHex(c)
		if !ok {
			return dst[:mark], false
		}
		if digits > 0 && digits%2 == 0 {
			dst = append(dst, ':')
		}
		dst = append(dst, lc)
		digits++
	}
	return dst, true
}

// Randomized reports whether a normalised MAC (as AppendMAC writes it) has
// the locally administered bit set (bit 1 of the first octet, IEEE 802
// clause 8.2): the private, rotating addresses phones advertise with. Such
// an address says nothing about how many people there are, so it is never
// counted as a distinct visitor.
func Randomized(mac []byte) bool {
	if len(mac) < 2 {
		return false
	}
	v, _ := hexVal(mac[1])
	return v&0x2 != 0
}

// AppendLowerASCII appends s with the ASCII letters A-Z lower-cased, so an
// advertising id (IDFA upper-case, GAID lower-case by convention) gives one
// pseudonym whichever case the app sent.
func AppendLowerASCII(dst, s []byte) []byte {
	for _, c := range s {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		return c, true
	case c >= 'A' && c <= 'F':
		return c + ('a' - 'A'), true
	}
	return 0, false
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
