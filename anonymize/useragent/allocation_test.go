//go:build !race

package useragent

import "testing"

func TestNoAllocs(t *testing.T) {
	lines := readCorpus(t)
	buf := make([]byte, 0, 256)
	i := 0
	n := testing.AllocsPerRun(1000, func() {
		buf = Parse([]byte(lines[i%len(lines)].ua)).AppendJSON(buf[:0])
		i++
	})
	if n != 0 {
		t.Fatalf("allocs per Parse+AppendJSON = %v; want 0", n)
	}
}
