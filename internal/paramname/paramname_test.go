package paramname

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for n, ok := range map[string]bool{
		"gclid": true, "utm_source": true, "x.y-z[]": true, strings.Repeat("k", MaxLen): true,
		"": false, "a b": false, "a=b": false, "a&b": false, "a%20b": false, "a#": false, "a?": false,
		"ü": false, "a\tb": false, strings.Repeat("k", MaxLen+1): false,
	} {
		if got := Check(n); (got == "") != ok {
			t.Errorf("Check(%q) = %q; want ok %v", n, got, ok)
		}
	}
}
