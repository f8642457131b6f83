package stages

import (
	"bytes"
	"testing"
)

// FuzzParse: any go test output parses without a panic, and the table
// built from it has a row for every stage.
func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("BenchmarkX-2\n 12 3 ns/op\n"))
	f.Add([]byte("BenchmarkX-\t1\t1 ns/op\t1 B/op\n"))
	f.Add([]byte("pkg: \nok  \t\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := Parse(bytes.NewReader(b))
		if err != nil {
			return // a line longer than the scanner's buffer
		}
		md := AppendMarkdown(nil, out, Header{})
		for s := ParsePixel; s < Unmapped; s++ {
			if !bytes.Contains(md, []byte("| "+s.String()+" |")) && !bytes.Contains(md, []byte("| **"+s.String()+"** |")) {
				t.Fatalf("stage %s has no row", s)
			}
		}
	})
}
