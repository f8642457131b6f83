package gateway

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/event"
)

// assignQueryReference is the pixel's query parsing (and the form beacon's
// body parsing) before assignQuery: fasthttp's Args, then assignArg for each
// argument in order. Kept as the reference of the differential tests.
func assignQueryReference(e *event.Event, q []byte) problem {
	var a fasthttp.Args
	a.ParseBytes(q)
	p := problem{}
	for k, v := range a.All() {
		if p = assignArg(e, k, v); p.bad() {
			break
		}
	}
	return p
}

// queryEvent returns a fresh event as a pixel request starts one.
func queryEvent() *event.Event {
	e := new(event.Event)
	e.Consent.GDPR = -1
	return e
}

// compareQuery parses q both ways and reports any difference: the same
// problem, and when there is none the same event.
func compareQuery(t *testing.T, q string) {
	t.Helper()
	want, got := queryEvent(), queryEvent()
	wp := assignQueryReference(want, []byte(q))
	gp := assignQuery(got, []byte(q))
	if wp != gp {
		t.Fatalf("query %q: problem %+v, want %+v", q, gp, wp)
	}
	if wp.bad() {
		return // the event is dropped, whatever it holds
	}
	if w, g := fmt.Sprintf("%+v", *want), fmt.Sprintf("%+v", *got); w != g {
		t.Fatalf("query %q:\nevent %s\nwant  %s", q, g, w)
	}
}

// queryCorpus is the seed corpus of the differential tests: realistic
// queries and every escape and split rule's edges.
func queryCorpus() []string {
	return []string{
		strings.TrimPrefix(pixelURI(), "/p.gif?"),
		"site=s&url=https%3A%2F%2Fshop.example%2Fa%3Fb%3Dc%26d&ref=https%3A%2F%2Fwww.google.com%2F",
		"site=s&p.name=red+shoes&p.size=42&p.price=129.5&p.ok=true&p.x%20y=1%2B2",
		"site=s&consent=analytics%2Cads&gcs=G1%31%31&event=add%5Fto%5Fcart&eid=abcdefgh%2D1234",
		"site=s&gdpr=1&gdpr_consent=A&gdpr_consent=B&gdpr=0&gdpr=%31",
		"", "&", "&&", "=", "==", "=x", "site", "site=", "site==", "site=a=b", "%", "%4", "%zz", "a%", "a%4", "a%+",
		"site=%", "site=%4", "site=%4g", "site=%%41", "site=%+41", "site=a%2", "site=+", "site=%ff", "site=%C3%A9",
		"s%69te=x", "si+te=x", "p.=1", "p.%=1", "p.a=%", "p.a=%ff", "p.%ff=1", "p.a=" + strings.Repeat("%41", 1025),
		"p.a=" + strings.Repeat("b", 1025), "p." + strings.Repeat("k", 65) + "=1", "p." + strings.Repeat("%6B", 65) + "=1",
		"site=" + strings.Repeat("%73", 129), "url=" + strings.Repeat("u", 4097), "uid=" + strings.Repeat("%75", 257),
		"event=a%00b", "event=a%7Fb", "event=" + strings.Repeat("e", 129),
		// Control characters in site, with a fault of another kind too.
		"site=a%00b", "site=a%1F", "site=%7F", "site=a%C2%85", "site=%C2%A0", "site=%00%ff", "site=" + strings.Repeat("%01", maxSiteLen+1), "eid=short", "eid=%41%42%43%44%45%46%47%48",
		"gdpr_consent=" + strings.Repeat("%43", 300), "unknown=%zz%ff&site=s", "#frag=1", "site=s#x",
		"gpp=DBABMA%7E" + strings.Repeat("C", 300), "gpp=" + strings.Repeat("%7E", maxConsentLen+1), "gpp=" + strings.Repeat("%7E", maxConsentLen),
		"gdpr_consent=" + strings.Repeat("%43", maxConsentLen+1) + "&site=s", "gpp=%ff" + strings.Repeat("A", 300),
		"p.a=1&p.b=2&p.c=3" + strings.Repeat("&p.d=4", 70),
		// Percent-encoded UTF-8 in every kind of field, and in a key.
		"site=%E2%82%AC&event=caf%C3%A9&uid=%F0%9F%98%80&url=https%3A%2F%2Fxn--mller-kva.example%2F%C3%BC&p.gr%C3%B6%C3%9Fe=%E2%82%AC5",
		"site=s&event=%E2%82&p.a=%C3", "site=s&p.%C3%A9=1&p.%C3=1",
		// Every field empty.
		"site=&event=&url=&ref=&uid=&cid=&eid=&gdpr=&gdpr_consent=&gcs=&gcd=&us_privacy=&gpp=&gpp_sid=&consent=&p.a=",
		// Values exactly at their limits, raw and percent-encoded; a
		// two-byte character that ends one byte past a limit.
		"site=" + strings.Repeat("s", maxSiteLen), "site=" + strings.Repeat("%73", maxSiteLen),
		"site=" + strings.Repeat("s", maxSiteLen-2) + "%C3%A9", "site=" + strings.Repeat("s", maxSiteLen-1) + "%C3%A9",
		"site=s&event=" + strings.Repeat("e", maxNameLen), "site=s&uid=" + strings.Repeat("u", maxIDLen),
		"site=s&url=" + strings.Repeat("u", maxURLLen), "site=s&gdpr_consent=" + strings.Repeat("C", maxConsentLen),
		"site=s&p." + strings.Repeat("k", maxPropKeyLen) + "=" + strings.Repeat("v", maxPropValueLen),
		"site=s&p." + strings.Repeat("%6B", maxPropKeyLen) + "=" + strings.Repeat("%76", maxPropValueLen),
		"site=s" + propsQuery(maxProps), "site=s" + propsQuery(maxProps+1),
	}
}

// propsQuery returns n distinct properties as query parameters, each
// after an '&'.
func propsQuery(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "&p.k%d=%d", i, i)
	}
	return b.String()
}

// TestAssignQueryMatchesArgs: the single pass gives the same events and
// problems as fasthttp's Args followed by assignArg, on the seed corpus.
func TestAssignQueryMatchesArgs(t *testing.T) {
	for _, q := range queryCorpus() {
		compareQuery(t, q)
	}
}

// FuzzAssignQuery differentially fuzzes assignQuery against the Args-based
// reference.
func FuzzAssignQuery(f *testing.F) {
	for _, q := range queryCorpus() {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		compareQuery(t, q)
	})
}

// TestAppendQueryUnescaped: the unescaping rules, as fasthttp applies them.
func TestAppendQueryUnescaped(t *testing.T) {
	for in, want := range map[string]string{
		"":         "",
		"a+b":      "a b",
		"%41%61":   "Aa",
		"%4a%4A":   "JJ",
		"%":        "%",
		"%4":       "%4",
		"a%+":      "a%+",
		"%zz":      "%zz",
		"%%41":     "%A",
		"%2B+%20":  "+  ",
		"%ff%00x":  "\xff\x00x",
		"100%+sur": "100% sur",
	} {
		if got := string(appendQueryUnescaped(nil, []byte(in))); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
		var a fasthttp.Args
		a.ParseBytes([]byte("k=" + in))
		if ref := string(a.Peek("k")); ref != want {
			t.Errorf("%q: fasthttp gives %q, the table says %q", in, ref, want)
		}
	}
}

// BenchmarkAssignQuery compares the single pass with the Args-based
// reference on the realistic pixel query (400-byte URL, TC string, 20
// properties), in one run: go test ./gateway -bench AssignQuery.
func BenchmarkAssignQuery(b *testing.B) {
	q := []byte(strings.TrimPrefix(pixelURI(), "/p.gif?"))
	e := queryEvent()
	var a fasthttp.Args // reused, as fasthttp reuses a request's
	b.Run("args", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e.Reset()
			a.ParseBytes(q)
			for k, v := range a.All() {
				if assignArg(e, k, v).bad() {
					b.Fatal("rejected")
				}
			}
		}
	})
	b.Run("single", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e.Reset()
			if assignQuery(e, q).bad() {
				b.Fatal("rejected")
			}
		}
	})
}

// FuzzQueryUnescapeMatchesReference: appendQueryUnescaped writes exactly
// what the run-by-run version it replaced wrote (kept below), after any
// prefix already in dst.
func FuzzQueryUnescapeMatchesReference(f *testing.F) {
	for _, s := range []string{"", "a+b", "%41%4a%4A", "%", "%4", "a%+", "%zz+%", "https%3A%2F%2Fshop.example%2Fp%3Fa%3D1%26b%3D2", "%%41", "+%2"} {
		f.Add([]byte("pre"), []byte(s))
	}
	f.Add([]byte("\xff"), []byte("abcdefgh%C3%A9abcdefgh\xc3\xa9z%e9"))
	f.Add([]byte(""), []byte("abcdefghabcdefgh%4"))
	f.Add([]byte(""), []byte("abcdefgh\xc3\xa9abcdefghij"))                     // no escape, not ASCII after eight bytes
	f.Add([]byte(""), []byte("CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA+x")) // a TC string, then an escape
	f.Add([]byte(""), []byte("abcdefg+hijklmnop"))                              // '+' inside the first word
	f.Add([]byte(""), []byte("abcdefghijk%41mnop"))                             // '%' inside the second word
	f.Fuzz(func(t *testing.T, prefix, s []byte) {
		got := appendQueryUnescaped(append([]byte(nil), prefix...), s)
		want := appendQueryUnescapedReference(append([]byte(nil), prefix...), s)
		if string(got) != string(want) {
			t.Fatalf("appendQueryUnescaped(%q, %q) = %q; the reference writes %q", prefix, s, got, want)
		}
		// With room for src as it is long, the eight-byte runs reach the
		// end of src rather than stop at the exact unescaped length.
		roomy := appendQueryUnescaped(append(make([]byte, 0, len(prefix)+len(s)), prefix...), s)
		if string(roomy) != string(want) {
			t.Fatalf("appendQueryUnescaped(%q, %q) with room = %q; the reference writes %q", prefix, s, roomy, want)
		}
		if i, want := indexQueryEscape(s), bytes.IndexAny(s, "%+"); i != want {
			t.Fatalf("indexQueryEscape(%q) = %d; bytes.IndexAny finds %d", s, i, want)
		}
		escaped, ascii := queryEscapeASCII(s)
		if wantEscaped := bytes.ContainsAny(s, "%+"); escaped != wantEscaped ||
			!escaped && ascii != !slices.ContainsFunc(s, func(b byte) bool { return b >= 0x80 }) {
			t.Fatalf("queryEscapeASCII(%q) = %v, %v", s, escaped, ascii)
		}
		if n := queryUnescapedLen(s); n != len(got)-len(prefix) {
			t.Fatalf("queryUnescapedLen(%q) = %d; unescaped it is %d bytes", s, n, len(got)-len(prefix))
		}
		// The ASCII report, with and without room: exactly whether every
		// byte written is below 0x80 (the prefix is not written).
		wantASCII := !slices.ContainsFunc(want[len(prefix):], func(b byte) bool { return b >= 0x80 })
		for _, room := range []int{0, len(s)} {
			_, ascii := appendQueryUnescapedASCII(append(make([]byte, 0, len(prefix)+room), prefix...), s)
			if ascii != wantASCII {
				t.Fatalf("appendQueryUnescapedASCII(%q, %q), room %d: ascii %v; want %v", prefix, s, room, ascii, wantASCII)
			}
		}
	})
}

// BenchmarkQueryUnescape unescapes the realistic pixel's encoded page URL
// (~500 bytes, an escape every few bytes) into a buffer with room, as
// assignQueryArg does into a pooled event: go test ./gateway -bench QueryUnescape.
func BenchmarkQueryUnescape(b *testing.B) {
	var raw []byte
	for _, v := range strings.Split(strings.TrimPrefix(pixelURI(), "/p.gif?"), "&") {
		if strings.HasPrefix(v, "url=") {
			raw = []byte(strings.TrimPrefix(v, "url="))
		}
	}
	if len(raw) == 0 {
		b.Fatal("the pixel has no url")
	}
	dst := make([]byte, 0, len(raw))
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		dst = appendQueryUnescaped(dst[:0], raw)
	}
}

// appendQueryUnescapedReference is appendQueryUnescaped as it was before
// it wrote by index: the reference of FuzzQueryUnescapeMatchesReference.
func appendQueryUnescapedReference(dst, src []byte) []byte {
	for {
		i := bytes.IndexAny(src, "%+")
		if i < 0 {
			return append(dst, src...)
		}
		dst = append(dst, src[:i]...) // the run without escapes, at once
		src = src[i:]
		if src[0] == '+' {
			dst = append(dst, ' ')
			src = src[1:]
			continue
		}
		if len(src) < 3 {
			return append(dst, src...)
		}
		hi, lo := unhex(src[1]), unhex(src[2])
		if hi > 15 || lo > 15 {
			dst = append(dst, '%')
			src = src[1:]
			continue
		}
		dst = append(dst, hi<<4|lo)
		src = src[3:]
	}
}

// TestOversizeQueryValueNotCopied: a value whose raw form is more than
// three times a field's limit is refused as too long, as before, without
// being unescaped into the pooled event, whose buffers would keep its size
// for every later request.
func TestOversizeQueryValueNotCopied(t *testing.T) {
	for _, tc := range []struct{ key, field string }{{"url", "url"}, {"uid", "uid"}, {"p.note", "props"}} {
		e := queryEvent()
		e.Reset()
		raw := strings.Repeat("%41", 4*maxPropValueLen) // unescaped: 4 KiB of "A"
		if tc.key == "url" {
			raw = strings.Repeat("a", 3*maxURLLen+1)
		}
		p := assignQuery(e, []byte(tc.key+"="+raw))
		if !p.bad() || p.reason != reasonFieldTooLong || p.field != tc.field {
			t.Fatalf("%s: problem %+v; want %s too long", tc.key, p, tc.field)
		}
		if c := cap(e.URL) + cap(e.UserID); c >= len(raw) {
			t.Fatalf("%s: the event grew to %d bytes for a refused value", tc.key, c)
		}
		for _, pr := range e.Props {
			if cap(pr.Value) >= len(raw) {
				t.Fatalf("%s: a property grew to %d bytes for a refused value", tc.key, cap(pr.Value))
			}
		}
		compareQuery(t, tc.key+"="+raw)
	}
}

// TestPixelShortFieldsRefuseInvalidUTF8: a short field's value that is not
// valid UTF-8, escaped or sent raw, short or past a full eight-byte word,
// is refused and the answer names the field; a valid non-ASCII value is
// taken. These fields skip the UTF-8 check only when their scan found
// nothing but ASCII.
func TestPixelShortFieldsRefuseInvalidUTF8(t *testing.T) {
	for _, field := range []string{"event", "gdpr_consent", "gcs", "gcd", "us_privacy", "gpp", "gpp_sid", "consent"} {
		for _, v := range []string{"%FF", "\xff", "abcdefgh\xffabcdefgh", "%C3", "abcdefgh%E2%82"} {
			e := new(event.Event)
			e.Reset()
			p := assignQuery(e, []byte("site=s&"+field+"="+v))
			if p.reason != reasonInvalidUTF8 || p.field != field {
				t.Errorf("%s=%q: reason %v, field %q; want invalid UTF-8 in %q", field, v, p.reason, p.field, field)
			}
		}
		e := new(event.Event)
		e.Reset()
		if p := assignQuery(e, []byte("site=s&"+field+"=abcdefgh%C3%A9\xc3\xa9")); p.bad() {
			t.Errorf("%s: valid UTF-8 refused: %v", field, p.reason)
		}
	}
}
