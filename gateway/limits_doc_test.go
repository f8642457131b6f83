package gateway

import (
	"fmt"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/clock"
)

// TestDocumentedFieldLimits pins the field limits the README's "Request
// vocabulary" section lists: a value of the documented length is taken, one
// byte more refuses the beacon with 400 naming the field and the limit.
// Change the README with the limits.
func TestDocumentedFieldLimits(t *testing.T) {
	rec := &recorder{}
	d := newDriver(New(Settings{Handler: rec, Clock: clock.Fixed(bleNow)}, nil), "203.0.113.7")
	post := func(body string, headers ...string) (int, string) {
		resp := d.do(rawRequest("POST", "/b", []byte(body), append(headers, "Content-Type", "text/plain")...))
		return resp.StatusCode(), string(resp.Body())
	}
	for _, c := range []struct {
		field string
		limit int
	}{
		{"site", 128}, {"event", 128}, {"url", 4096}, {"ref", 4096},
		{"uid", 256}, {"cid", 256}, {"gcs", 256}, {"gcd", 256}, {"us_privacy", 256}, {"gpp_sid", 256}, {"consent", 256},
		{"gdpr_consent", 8192}, {"gpp", 8192},
	} {
		for _, n := range []int{c.limit, c.limit + 1} {
			body := fmt.Sprintf(`{"site":"s",%q:%q}`, c.field, strings.Repeat("a", n))
			if c.field == "site" {
				body = fmt.Sprintf(`{"site":%q}`, strings.Repeat("a", n))
			}
			status, msg := post(body)
			want := fmt.Sprintf("%s: longer than the limit of %d bytes\n", c.field, c.limit)
			if n == c.limit && status != 204 {
				t.Errorf("%s of %d bytes: %d %q; want 204", c.field, n, status, msg)
			}
			if n > c.limit && (status != 400 || msg != want) {
				t.Errorf("%s of %d bytes: %d %q; want 400 %q", c.field, n, status, msg, want)
			}
		}
	}
	for _, h := range []string{"User-Agent", "Accept-Language"} {
		if status, msg := post(`{"site":"s"}`, h, strings.Repeat("a", 1024)); status != 204 {
			t.Errorf("%s of 1024 bytes: %d %q", h, status, msg)
		}
		if status, msg := post(`{"site":"s"}`, h, strings.Repeat("a", 1025)); status != 400 || msg != h+": longer than the limit of 1024 bytes\n" {
			t.Errorf("%s of 1025 bytes: %d %q", h, status, msg)
		}
	}
	props := func(n, key, value int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			k, v := fmt.Sprintf("k%d", i), "v"
			if i == 0 { // the longest name and value on the first
				k, v = strings.Repeat("k", key), strings.Repeat("v", value)
			}
			fmt.Fprintf(&b, "%q:%q", k, v)
		}
		return `{"site":"s","props":{` + b.String() + `}}`
	}
	for _, c := range []struct {
		body string
		ok   bool
	}{
		{props(64, 64, 1024), true},
		{props(65, 1, 1), false},
		{props(1, 65, 1), false},
		{props(1, 1, 1025), false},
	} {
		status, msg := post(c.body)
		if c.ok != (status == 204) || !c.ok && !strings.HasPrefix(msg, "props: ") {
			t.Errorf("props (%d bytes of body): %d %q; want accepted %v", len(c.body), status, msg, c.ok)
		}
	}
}
