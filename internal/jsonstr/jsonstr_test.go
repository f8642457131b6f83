package jsonstr

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzAppend: every output is a JSON string that decodes to what
// encoding/json's own encoding decodes to (invalid UTF-8 as U+FFFD), with
// <, > and & escaped as encoding/json escapes them. (encoding/json writes
// \b and \f where Append writes \u0008 and \u000c: the same string.)
func FuzzAppend(f *testing.F) {
	for _, s := range []string{"", "plain", `"quoted" \ back`, "\x00\x1f\n\r\t", "<a href='x'>&amp;</a>", "\u2028\u2029", "\xff\xfe", "é漢字😀", "a\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Append(nil, []byte(s))
		want, _ := json.Marshal(s)
		var g, w string
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("Append(%q) = %s: not JSON: %v", s, got, err)
		}
		if err := json.Unmarshal(want, &w); err != nil || g != w {
			t.Fatalf("Append(%q) = %s decodes to %q; encoding/json's %s to %q", s, got, g, want, w)
		}
		for _, c := range got {
			if c == '<' || c == '>' || c == '&' {
				t.Fatalf("Append(%q) = %s: unescaped %q", s, got, c)
			}
		}
	})
}

// TestAppendAllocs: with room in dst, Append does not allocate.
func TestAppendAllocs(t *testing.T) {
	dst := make([]byte, 0, 256)
	in := []byte("a <b> \"c\" \n é \xff")
	if n := testing.AllocsPerRun(100, func() { dst = Append(dst[:0], in) }); n != 0 {
		t.Fatalf("%v allocs", n)
	}
}

// FuzzAppendMatchesReference: Append and NeedsEscape write and judge every
// input exactly as the byte-by-byte version they replaced (kept below).
func FuzzAppendMatchesReference(f *testing.F) {
	for _, s := range []string{"", "plain", "https://a.example/p?x=1&y=<2>", `"q" \ b`, "\x00\x7f\x80", "é漢字😀\u2028", "\xff\xfe", "a\xc3"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		got, want := Append(nil, s), appendReference(nil, s)
		if string(got) != string(want) {
			t.Fatalf("Append(%q) = %s; the reference writes %s", s, got, want)
		}
		if !NeedsEscape(s) && string(got) != `"`+string(s)+`"` {
			t.Fatalf("NeedsEscape(%q) = false, but Append writes %s", s, got)
		}
	})
}

// appendReference is Append as it was before its table: the reference of
// FuzzAppendMatchesReference.
func appendReference(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"':
				dst = append(dst, '\\', '"')
			case '\\':
				dst = append(dst, '\\', '\\')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// BenchmarkAppend: a cleaned 400-byte page URL (a query, so '&' escapes)
// and plain text, by Append and by the byte-by-byte reference.
func BenchmarkAppend(b *testing.B) {
	url := []byte("https://shop.example.com/collections/summer-2026/products/linen-shirt-relaxed-fit-white?variant=4412&utm_source=newsletter&utm_medium=email&utm_campaign=summer_sale_2026&ref=homepage-banner-carousel-slot-3&section=new-arrivals&sort=price-ascending&page=2&filter=size%3AL%2Ccolor%3Awhite&x=1&x=1&x=1&x=1&x=1&x=1&x=1&x=1&x=1&x=1&x=1&x=1&x=1&x=1&x=1&x=1&x=1&x=1&x=1&x=1&x=1&x=1&x=1&x=1")
	text := []byte("Blue running shoes, size 42, delivered on 2024-01-15 for 129.99 EUR. Great fit!")
	dst := make([]byte, 0, 4096)
	for _, in := range []struct {
		name string
		s    []byte
	}{{"url", url}, {"text", text}} {
		b.Run(in.name+"/table", func(b *testing.B) {
			for b.Loop() {
				dst = Append(dst[:0], in.s)
			}
		})
		b.Run(in.name+"/reference", func(b *testing.B) {
			for b.Loop() {
				dst = appendReference(dst[:0], in.s)
			}
		})
	}
}
