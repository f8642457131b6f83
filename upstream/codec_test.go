package upstream

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func testBatchData(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var b []byte
	for i := 0; i < n; i++ {
		b = append(append(b, testRecord(rng, "c", i)...), '\n')
	}
	return b
}

func TestEncoderRoundTrip(t *testing.T) {
	data := testBatchData(500)
	f := func(c Codec, level int, enc string) {
		t.Helper()
		e, err := NewEncoder(c, level)
		if err != nil {
			t.Fatal(err)
		}
		// Twice with the same encoder: reuse must not leak state.
		for i := 0; i < 2; i++ {
			out, err := e.AppendEncoded([]byte("keep"), data)
			if err != nil || !bytes.HasPrefix(out, []byte("keep")) {
				t.Fatalf("%v/%d: %v", c, level, err)
			}
			got, err := decodeBody(enc, out[4:])
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("%v/%d: round trip failed: %v", c, level, err)
			}
			if c != CodecNone && len(out)-4 > len(data)/2 {
				t.Fatalf("%v/%d: %d -> %d bytes", c, level, len(data), len(out)-4)
			}
		}
	}
	f(CodecAuto, 0, "zstd")
	f(CodecZstd, 1, "zstd")
	f(CodecZstd, 19, "zstd")
	f(CodecGzip, 0, "gzip")
	f(CodecGzip, 9, "gzip")
	f(CodecNone, 0, "")
	if _, err := NewEncoder(CodecGzip, 42); err == nil {
		t.Fatal("gzip level 42 accepted")
	}
}

func TestCodecNames(t *testing.T) {
	f := func(c Codec, name, ce, ext string) {
		t.Helper()
		if c.String() != name || c.ContentEncoding() != ce || c.Ext() != ext {
			t.Fatalf("%d: %q %q %q", c, c.String(), c.ContentEncoding(), c.Ext())
		}
		if name != "auto" {
			if p, err := ParseCodec(name); err != nil || p != c {
				t.Fatalf("ParseCodec(%q) = %v, %v", name, p, err)
			}
		}
	}
	f(CodecAuto, "auto", "zstd", ".zst")
	f(CodecNone, "none", "", "")
	f(CodecZstd, "zstd", "zstd", ".zst")
	f(CodecGzip, "gzip", "gzip", ".gz")
	if _, err := ParseCodec("brotli"); err == nil {
		t.Fatal("brotli parsed")
	}
}

func TestZstdFrames(t *testing.T) {
	e, _ := NewEncoder(CodecZstd, 0)
	var stream []byte
	var ends []int
	for i := 0; i < 4; i++ {
		stream, _ = e.AppendEncoded(stream, testBatchData(50*(i+1)))
		ends = append(ends, len(stream))
	}
	// A skippable frame and an empty input frame are frames too.
	stream = append(stream, 0x50, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 'a', 'b', 'c')
	ends = append(ends, len(stream))
	stream, _ = e.AppendEncoded(stream, nil)
	ends = append(ends, len(stream))
	for n := 0; n <= len(stream); n++ {
		want := 0
		for _, e := range ends {
			if e <= n {
				want = e
			}
		}
		if got := completeZstdFrames(stream[:n]); got != want {
			t.Fatalf("prefix %d: complete frames end at %d, want %d", n, got, want)
		}
	}
}

func TestJSONStringField(t *testing.T) {
	f := func(obj, name, want string) {
		t.Helper()
		got := jsonStringField([]byte(obj), name)
		if (got == nil) != (want == "<nil>") || (got != nil && string(got) != want) {
			t.Fatalf("%s in %s: got %q, want %s", name, obj, got, want)
		}
	}
	f(`{"site":"a.example","id":"x"}`, "site", "a.example")
	f(`{"id":"x","site":"a.example"}`, "site", "a.example")
	f(` { "n" : 1 , "o":{"site":"inner"}, "a":[1,"]",{"x":"}"}], "site" : "outer" } `, "site", "outer")
	f(`{"s":"a\"site\":\"no","site":"yes"}`, "site", "yes")
	f(`{"site":"esc\"aped"}`, "site", `esc\"aped`)
	f(`{"site":1}`, "site", "<nil>")
	f(`{"site":null,"site2":"x"}`, "site", "<nil>")
	f(`{"other":"x"}`, "site", "<nil>")
	f(`{"site":"x"`, "site", "x")
	f(`["site","x"]`, "site", "<nil>")
	f(`{"site":"unterminated`, "site", "<nil>")
	f(`{"a":{"b":[}`, "site", "<nil>")
	f(``, "site", "<nil>")
	f(`{"a":tru`, "site", "<nil>")
}

func FuzzJSONStringField(f *testing.F) {
	f.Add([]byte(`{"site":"a.example","id":"x"}`), "site")
	f.Add([]byte(`{"a":[1,{"b":"\\"}],"site":"x"}`), "site")
	f.Add([]byte(`{"s\"":"v"}`), `s\"`)
	f.Fuzz(func(t *testing.T, obj []byte, name string) {
		start, end, ok := jsonStringFieldSpan(obj, name)
		if got := jsonStringField(obj, name); ok != (got != nil) || ok && !bytes.Equal(got, obj[start:end]) {
			t.Fatalf("jsonStringField and its span disagree on %q", obj)
		}
		if !ok {
			return
		}
		// The value lies between quotes, after the name.
		if start < 1 || end < start || end >= len(obj) || obj[start-1] != '"' || obj[end] != '"' {
			t.Fatalf("[%d:%d] is not a quoted part of %q", start, end, obj)
		}
	})
}

func TestClassifyHTTP(t *testing.T) {
	now := mustTime("2026-01-12T10:00:00Z")
	f := func(status int, retryAfter string, wantNil, wantPermanent bool, wantWait string) {
		t.Helper()
		err := classifyHTTP(status, retryAfter, "", []byte("nope"), now)
		if (err == nil) != wantNil || IsPermanent(err) != wantPermanent {
			t.Fatalf("%d: %v", status, err)
		}
		if w := retryAfterOf(err).String(); w != wantWait {
			t.Fatalf("%d %q: retry after %s, want %s", status, retryAfter, w, wantWait)
		}
		if err != nil && HTTPStatus(err) != status {
			t.Fatalf("HTTPStatus = %d", HTTPStatus(err))
		}
	}
	f(200, "", true, false, "0s")
	f(204, "", true, false, "0s")
	f(400, "", false, true, "0s")
	f(401, "", false, false, "0s") // a refusal: retried for Retry.AuthDeadLetterAfter
	f(302, "", false, false, "0s") // a refusal: retried for Retry.RedirectDeadLetterAfter
	f(404, "", false, true, "0s")
	f(413, "", false, true, "0s")
	f(408, "", false, false, "0s")
	f(429, "", false, false, "0s")
	f(429, "3", false, false, "3s")
	f(503, "Mon, 12 Jan 2026 10:00:30 GMT", false, false, "30s")
	f(503, "garbage", false, false, "0s")
	f(429, "-5", false, false, "0s")
	f(500, "7", false, false, "0s")
	f(502, "", false, false, "0s")
}

// FuzzZstdFrames: the frame walker used to repair .part files never panics
// and never claims more than it was given.
func FuzzZstdFrames(f *testing.F) {
	e, _ := NewEncoder(CodecZstd, 0)
	valid, _ := e.AppendEncoded(nil, testBatchData(3))
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte{0x50, 0x2A, 0x4D, 0x18, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		if n := completeZstdFrames(b); n < 0 || n > len(b) {
			t.Fatalf("%d of %d bytes", n, len(b))
		}
	})
}
