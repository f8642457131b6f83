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
// and never claims more than it was given; and on what the file sink
// writes (one zstd frame per batch, sliced or whole, skippable frames
// among them) cut anywhere, as a crash leaves a .part file, it keeps
// exactly the frames written whole, which decode to their batches.
func FuzzZstdFrames(f *testing.F) {
	e, _ := NewEncoder(CodecZstd, 0)
	valid, _ := e.AppendEncoded(nil, testBatchData(3))
	f.Add(valid, []byte("x\ny"), uint16(7), uint32(0))
	f.Add(valid[:len(valid)/2], []byte{}, uint16(0), uint32(1))
	f.Add([]byte{0x50, 0x2A, 0x4D, 0x18, 0xff, 0xff, 0xff, 0xff}, []byte("{}"), uint16(3), uint32(2))
	f.Fuzz(func(t *testing.T, b, data []byte, batches uint16, cut uint32) {
		if n := completeZstdFrames(b); n < 0 || n > len(b) {
			t.Fatalf("%d of %d bytes", n, len(b))
		}
		// Frames as the sink writes them: data in 1 to 8 batches, a
		// skippable frame before the third.
		k := int(batches%8) + 1
		var file []byte
		var ends []int
		var want [][]byte
		for i := range k {
			part := data[i*len(data)/k : (i+1)*len(data)/k]
			if i == 2 {
				file = append(file, 0x50, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 'a', 'b', 'c')
				ends = append(ends, len(file))
				want = append(want, nil)
			}
			var err error
			if i%2 == 0 {
				file, err = e.AppendEncoded(file, part)
			} else {
				file, err = e.AppendEncodedSliced(file, part, func() {})
			}
			if err != nil {
				t.Fatal(err)
			}
			ends = append(ends, len(file))
			want = append(want, part)
		}
		if n := completeZstdFrames(file); n != len(file) {
			t.Fatalf("whole frames: %d of %d bytes", n, len(file))
		}
		c := int(cut % uint32(len(file)+1))
		n := completeZstdFrames(file[:c])
		wantN, whole := 0, 0
		for i, end := range ends {
			if end <= c {
				wantN, whole = end, i+1
			}
		}
		if n != wantN {
			t.Fatalf("cut at %d of %d: kept %d bytes; the frames written whole end at %d", c, len(file), n, wantN)
		}
		got, err := decodeBody("zstd", file[:n])
		if err != nil || !bytes.Equal(got, bytes.Join(want[:whole], nil)) {
			t.Fatalf("cut at %d: the %d whole frames decode to %d bytes, %v", c, whole, len(got), err)
		}
	})
}

// TestEncoderSliced: a batch compressed in slices is one zstd frame (or gzip
// member) that decodes to the batch, about as small as the batch compressed
// whole, with a yield between every two slices; after it, whole batches
// still encode as before with the same encoder.
func TestEncoderSliced(t *testing.T) {
	data := testBatchData(1000) // about 450 KB: four slices
	for _, tc := range []struct {
		c   Codec
		enc string
	}{{CodecZstd, "zstd"}, {CodecGzip, "gzip"}, {CodecNone, ""}} {
		e, err := NewEncoder(tc.c, 0)
		if err != nil {
			t.Fatal(err)
		}
		whole, _ := e.AppendEncoded(nil, data)
		for range 2 {
			yields := 0
			out, err := e.AppendEncodedSliced([]byte("keep"), data, func() { yields++ })
			if err != nil || !bytes.HasPrefix(out, []byte("keep")) {
				t.Fatalf("%v: %v", tc.c, err)
			}
			out = out[4:]
			got, err := decodeBody(tc.enc, out)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("%v: round trip failed: %v", tc.c, err)
			}
			wantYields := (len(data)+sliceBytes-1)/sliceBytes - 1
			if tc.c == CodecNone {
				wantYields = 0
			}
			if yields != wantYields {
				t.Fatalf("%v: %d yields for %d bytes, want %d", tc.c, yields, len(data), wantYields)
			}
			if tc.c == CodecZstd && completeZstdFrames(out) != len(out) {
				t.Fatalf("zstd: not whole frames")
			}
			if tc.c == CodecZstd {
				if n := countZstdFrames(out); n != 1 {
					t.Fatalf("zstd: %d frames, want 1 (HTTP receivers may read only the first)", n)
				}
			}
			t.Logf("%v: %d bytes whole, %d in slices", tc.c, len(whole), len(out))
			if float64(len(out)) > 1.05*float64(len(whole)) {
				t.Fatalf("%v: %d bytes in slices, %d whole", tc.c, len(out), len(whole))
			}
		}
		again, _ := e.AppendEncoded(nil, data)
		if got, err := decodeBody(tc.enc, again); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%v: whole batch after a sliced one: %v", tc.c, err)
		}
	}
}

// countZstdFrames counts the frames in a stream of complete zstd frames.
func countZstdFrames(b []byte) int {
	n := 0
	for len(b) > 0 {
		end := completeZstdFrames(b)
		// completeZstdFrames returns the end of all complete frames: peel
		// them one at a time by finding the shortest complete prefix.
		one := 0
		for i := 1; i <= end; i++ {
			if completeZstdFrames(b[:i]) == i {
				one = i
				break
			}
		}
		if one == 0 {
			return -1
		}
		b = b[one:]
		n++
	}
	return n
}
