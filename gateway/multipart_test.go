package gateway

import (
	"bytes"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/event"
)

// formDataBody is what Chromium sends for a FormData with these fields.
func formDataBody(boundary string, kv ...string) []byte {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + kv[i] + "\"\r\n\r\n" + kv[i+1] + "\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return []byte(b.String())
}

const chromeBoundary = "----WebKitFormBoundaryx3G2lEBvXq8s3Kx1"

// TestBeaconMultipart: navigator.sendBeacon(url, formData) sends
// multipart/form-data (a CORS-safelisted type, so no preflight); it carries
// the same keys as the pixel's query.
func TestBeaconMultipart(t *testing.T) {
	rec := &recorder{}
	g := New(Settings{Handler: rec}, nil)
	d := newDriver(g, "192.0.2.1")
	ct := "multipart/form-data; boundary=" + chromeBoundary
	resp := d.do(rawRequest("POST", "/b", formDataBody(chromeBoundary, "site", "shop", "event", "add_to_cart", "uid", "u-1", "p.plan", "pro", "junk", "x"), "Content-Type", ct))
	if resp.StatusCode() != 204 || len(rec.events) != 1 {
		t.Fatalf("status %d body %q, %d events; want 204, 1", resp.StatusCode(), resp.Body(), len(rec.events))
	}
	e := rec.events[0]
	if string(e.Site) != "shop" || string(e.Name) != "add_to_cart" || string(e.UserID) != "u-1" || e.Kind != event.KindBeacon {
		t.Fatalf("event %q %q %q %v", e.Site, e.Name, e.UserID, e.Kind)
	}
	f := func(ct string, body []byte, want int) {
		t.Helper()
		rec.events = rec.events[:0]
		resp := d.do(rawRequest("POST", "/b", body, "Content-Type", ct))
		if resp.StatusCode() != want || (want != 204 && len(rec.events) != 0) {
			t.Fatalf("%s %q: status %d, %d events; want %d", ct, body, resp.StatusCode(), len(rec.events), want)
		}
	}
	f(`multipart/form-data; boundary="`+chromeBoundary+`"`, formDataBody(chromeBoundary, "site", "s"), 204) // quoted boundary
	f(`multipart/form-data; charset=utf-8; BOUNDARY=b1`, []byte("preamble\r\n--b1\r\ncontent-disposition: form-data; name=site\r\ncontent-type: text/plain\r\n\r\ns\r\n--b1--"), 204)
	f("multipart/form-data", formDataBody("b", "site", "s"), 400)                                                      // no boundary
	f("multipart/form-data; boundary=other", formDataBody("b", "site", "s"), 400)                                      // wrong boundary
	f("multipart/form-data; boundary=b", []byte("--b\r\nContent-Disposition: form-data; name=\"site\"\r\n\r\ns"), 400) // no closing delimiter
	f("multipart/form-data; boundary=b", []byte("--b\r\nContent-Type: text/plain\r\n\r\ns\r\n--b--"), 400)             // no name
	f("multipart/form-data; boundary=b", formDataBody("b", "event", "no site"), 400)
	f("multipart/form-data; boundary=b", formDataBody("b", "site", "s\xff"), 400)
	rec.events = rec.events[:0]
	if st := d.do(rawRequest("POST", "/ble", formDataBody("b", "site", "s"), "Content-Type", "multipart/form-data; boundary=b")).StatusCode(); st != 415 {
		t.Fatalf("multipart on /ble: %d; want 415", st)
	}
}

// TestMultipartTransferEncodingRefused: a part with a
// Content-Transfer-Encoding was read as plain text, so an address in
// quoted-printable ("jane.doe=40example.org", "=40" is '@') passed the
// scanner and reached the destinations as sent. RFC 7578 (section 4.7)
// forbids the header in form data and no browser sends it: a part with one
// that changes the bytes is refused as invalid multipart; 7bit, 8bit and
// binary, which change nothing, are read.
func TestMultipartTransferEncodingRefused(t *testing.T) {
	rec := &recorder{}
	g := New(Settings{Handler: rec}, nil)
	d := newDriver(g, "192.0.2.1")
	part := func(cte, value string) []byte {
		return []byte("--b\r\nContent-Disposition: form-data; name=\"site\"\r\n\r\nshop\r\n" +
			"--b\r\nContent-Disposition: form-data; name=\"p.note\"\r\n" + cte + "\r\n\r\n" + value + "\r\n--b--\r\n")
	}
	for _, c := range []struct {
		cte, value string
		want       int
	}{
		{"Content-Transfer-Encoding: quoted-printable", "jane.doe=40example.org", 400},
		{"content-transfer-encoding:QUOTED-PRINTABLE ", "jane.doe=40example.org", 400},
		{"Content-Transfer-Encoding: base64", "amFuZS5kb2VAZXhhbXBsZS5vcmc=", 400},
		{"Content-Transfer-Encoding: x-uuencode", "x", 400},
		{"Content-Transfer-Encoding: binary", "plain", 204},
		{"Content-Transfer-Encoding: 8BIT", "plain", 204},
		{"Content-Transfer-Encoding:  7bit ", "plain", 204},
	} {
		rec.events = rec.events[:0]
		resp := d.do(rawRequest("POST", "/b", part(c.cte, c.value), "Content-Type", "multipart/form-data; boundary=b"))
		if resp.StatusCode() != c.want || c.want != 204 && len(rec.events) != 0 {
			t.Errorf("%q: status %d body %q, %d events; want %d", c.cte, resp.StatusCode(), resp.Body(), len(rec.events), c.want)
		}
		if c.want == 400 && bytes.Contains(resp.Body(), []byte(c.value)) {
			t.Errorf("%q: the answer quotes the value: %q", c.cte, resp.Body())
		}
	}
}

// FuzzMultipart builds a body with mime/multipart's writer (the reference)
// from arbitrary field names and values: the reader must return exactly
// those fields, in order; and on the raw input taken as a body it must
// never panic.
func FuzzMultipart(f *testing.F) {
	f.Add("site", "shop", "p.cart_value", "129.5", "----WebKitFormBoundaryx3G2lEBvXq8s3Kx1")
	f.Add("event", "line1\r\nline2", "uid", "--b\r\n", "b")
	f.Add("", "", "x", "\r\n--", "a'()+_,-./:=?")
	f.Add("p.größe", "€ café", "p.ü", "", strings.Repeat("b", maxBoundaryLen)) // UTF-8 name and value, an empty value, the longest boundary
	f.Add("site", "s", "p.k", strings.Repeat("v", maxPropValueLen), strings.Repeat("b", maxBoundaryLen+1))
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, boundary string) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		if w.SetBoundary(boundary) != nil {
			boundary = w.Boundary()
		}
		keys, vals := []string{k1, k2}, []string{v1, v2}
		for i := range keys {
			if strings.Contains(vals[i], "\r\n--"+boundary) {
				t.Skip() // a value holding the delimiter cannot be framed with this boundary
			}
			if strings.ContainsAny(keys[i], "\"\\\r\n") {
				t.Skip() // browsers percent-encode these; Go escapes them with a backslash
			}
			fw, err := w.CreateFormField(keys[i])
			if err != nil {
				t.Fatal(err)
			}
			fw.Write([]byte(vals[i]))
		}
		w.Close()
		body := buf.Bytes()
		var m multipartReader
		b, ok := multipartBoundary([]byte(w.FormDataContentType()))
		if !ok || string(b) != boundary {
			t.Fatalf("boundary of %q: %q, %v", w.FormDataContentType(), b, ok)
		}
		if !m.reset(body, b) {
			t.Fatalf("reset failed on %q", body)
		}
		for i := range keys {
			k, v, done, ok := m.next()
			if !ok || done || string(k) != keys[i] || string(v) != vals[i] {
				t.Fatalf("part %d of %q: %q=%q done=%v ok=%v; want %q=%q", i, body, k, v, done, ok, keys[i], vals[i])
			}
		}
		if _, _, done, ok := m.next(); !done || !ok {
			t.Fatalf("after the parts of %q: done=%v ok=%v", body, done, ok)
		}
		// Arbitrary bytes as a body: no panic, and the reader always ends.
		raw := []byte(k1 + v1 + k2 + v2)
		if m.reset(raw, b) {
			for range len(raw) + 1 {
				if _, _, done, ok := m.next(); done || !ok {
					return
				}
			}
			t.Fatalf("reader did not end on %q", raw)
		}
	})
}
