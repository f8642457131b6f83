// Package paramname checks the query parameter names a configuration
// adds to the scanner's lists (scan.drop_params, scan.extra_click_ids):
// config check refuses what the scanner would refuse at start.
package paramname

import "strconv"

// MaxLen bounds a configured name, in bytes: longer names in a URL cannot
// match and are not lower-cased (the scanner's lookup buffer lives on the
// stack).
const MaxLen = 64

// Check returns why n cannot be matched as a parameter name, or "" when
// it can. The reason never quotes n.
func Check(n string) string {
	if n == "" {
		return "empty name"
	}
	if len(n) > MaxLen {
		return "name longer than " + strconv.Itoa(MaxLen) + " bytes"
	}
	for i := 0; i < len(n); i++ {
		switch c := n[i]; {
		case c <= ' ' || c >= 0x7f:
			return "name must be printable ASCII without spaces"
		case c == '&' || c == '=' || c == '#' || c == '?' || c == '%':
			return "name must not contain & = # ? or % (names are matched after decoding)"
		}
	}
	return ""
}
