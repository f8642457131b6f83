package config

import (
	"strings"
	"testing"
)

// TestHTTPHeaderValueControlBytes: a header value holding a control byte
// other than a tab (here \x01 or DEL, pasted with a key) is one the HTTP
// client refuses to send: every POST would fail and be retried until the
// spool filled. config check must refuse it, without quoting the value
// (it may be a key), as it refuses a line break; and a header the gateway
// sets itself (Idempotency-Key) would be silently replaced.
func TestHTTPHeaderValueControlBytes(t *testing.T) {
	for _, v := range []string{`a\x01b`, `k\x7f`, `x\ny`} {
		src := "destinations:\n  - name: h\n    type: http\n    http:\n      url: \"https://x.example\"\n      headers: {X-Api-Key: \"" + v + "\"}\n"
		got := strings.Join(parseErrs(t, src), "\n")
		if !strings.Contains(got, "destinations[0].http.headers.X-Api-Key: value holds a control character") {
			t.Errorf("value %s: errors %q", v, got)
		}
	}
	src := "destinations:\n  - name: h\n    type: http\n    http:\n      url: \"https://x.example\"\n      headers: {X-Api-Key: \"a\\tb é\"}\n"
	if got := parseErrs(t, src); got != nil {
		t.Errorf("a tab and non-ASCII text are valid in a header value: %q", got)
	}
	src = "destinations:\n  - name: h\n    type: http\n    http:\n      url: \"https://x.example\"\n      headers: {Idempotency-Key: \"x\"}\n"
	if got := strings.Join(parseErrs(t, src), "\n"); !strings.Contains(got, "Idempotency-Key is set by the gateway") {
		t.Errorf("Idempotency-Key: errors %q", got)
	}
}
