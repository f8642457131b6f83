// Package httpheader checks header names and values a configuration adds
// to outgoing HTTP requests, before Go's client refuses every request that
// carries them.
package httpheader

import "strings"

// ValidName reports whether k is an RFC 9110 token, as a header name must
// be.
func ValidName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// ValidValue reports whether v holds no control character other than tab
// (RFC 9110, section 5.5): a value an HTTP request can carry.
func ValidValue(v string) bool { return !strings.ContainsFunc(v, isCTL) }

func isCTL(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }
