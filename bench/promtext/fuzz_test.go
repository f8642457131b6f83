package promtext

import "testing"

// FuzzParse: any page parses or fails with a ParseError, never panics, and
// every sample it returns has a name.
func FuzzParse(f *testing.F) {
	f.Add([]byte(page))
	f.Add([]byte("x{a=\"}\\\"\"} 1\n"))
	f.Add([]byte("x{"))
	f.Add([]byte("x{a=\"\\"))
	f.Add([]byte("# only a comment"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		for _, x := range s {
			if x.Name == "" {
				t.Fatalf("sample without a name from %q", b)
			}
			x.Label("code") // never panics
		}
	})
}
