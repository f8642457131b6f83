package jsonstr

import (
	"encoding/json"
	"testing"
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
