package svgchart

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"
)

// wellFormed parses doc to the end and counts elements by name.
func wellFormed(t *testing.T, doc []byte) map[string]int {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	counts := map[string]int{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, doc)
		}
		if se, ok := tok.(xml.StartElement); ok {
			counts[se.Name.Local]++
		}
	}
	if counts["svg"] != 1 {
		t.Fatalf("%d svg elements", counts["svg"])
	}
	return counts
}

func TestChart(t *testing.T) {
	c := Chart{
		Title: `Latency vs offered load <2 cores> & "pinned"`, XLabel: "offered load (req/s)", YLabel: "latency (µs)", LogY: true,
		Series: []Series{
			{Name: "gateway p50", Points: []Point{{1000, 40}, {5000, 45}, {10000, 60}}},
			{Name: "gateway p99", Dashed: true, Points: []Point{{1000, 120}, {5000, 150}, {10000, 2400}}},
			{Name: "ceiling p50 & <co>", Color: `"><script>`, Points: []Point{{1000, 30}, {5000, 0}, {10000, math.NaN()}}},
		},
	}
	doc := c.AppendSVG([]byte("prefix:"))
	if !bytes.HasPrefix(doc, []byte("prefix:<?xml")) {
		t.Fatal("AppendSVG does not append")
	}
	doc = doc[len("prefix:"):]
	counts := wellFormed(t, doc)
	if counts["polyline"] != 3 {
		t.Errorf("%d polylines; want 3", counts["polyline"])
	}
	if counts["circle"] != 7 { // 3 + 3 + 1: zero and NaN cannot be placed on a log axis
		t.Errorf("%d markers; want 7", counts["circle"])
	}
	s := string(doc)
	for _, want := range []string{"&lt;2 cores&gt; &amp; &#34;pinned&#34;", "ceiling p50 &amp; &lt;co&gt;", "stroke-dasharray", ">10k<", ">1k<", ">100<"} {
		if !strings.Contains(s, want) {
			t.Errorf("svg lacks %q", want)
		}
	}
	if strings.Contains(s, "<script") {
		t.Error("colour was not escaped")
	}
}

func TestChartEdgeCases(t *testing.T) {
	wellFormed(t, Chart{}.AppendSVG(nil))
	wellFormed(t, Chart{Series: []Series{{Name: "one", Points: []Point{{0, 5}}}}}.AppendSVG(nil))
	wellFormed(t, Chart{LogY: true, Width: 50, Height: 30, Series: []Series{{Name: "flat", Points: []Point{{1, 7}, {2, 7}}}}}.AppendSVG(nil))
	counts := wellFormed(t, Chart{Series: []Series{{Name: "neg", Points: []Point{{1, -3}, {2, 4}}}}}.AppendSVG(nil))
	if counts["circle"] != 2 {
		t.Errorf("linear axis dropped a negative value: %d markers", counts["circle"])
	}
}

func TestNiceTicks(t *testing.T) {
	f := func(lo, hi float64, want ...float64) {
		t.Helper()
		got := niceTicks(lo, hi)
		if len(got) != len(want) {
			t.Fatalf("niceTicks(%v, %v) = %v; want %v", lo, hi, got, want)
		}
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-9 {
				t.Fatalf("niceTicks(%v, %v) = %v; want %v", lo, hi, got, want)
			}
		}
	}
	f(0, 100, 0, 20, 40, 60, 80, 100)
	f(0, 93000, 0, 20000, 40000, 60000, 80000, 100000)
	f(0, 0, 0, 0.2, 0.4, 0.6, 0.8, 1)
	f(-3, 4, -4, -2, 0, 2, 4)
}

func TestMicros(t *testing.T) {
	f := func(v float64, want string) {
		t.Helper()
		if got := Micros(v); got != want {
			t.Fatalf("Micros(%v) = %q; want %q", v, got, want)
		}
	}
	f(10, "10 µs")
	f(1000, "1 ms")
	f(250000, "250 ms")
	f(1.5e6, "1.5 s")
	doc := Chart{LogY: true, FormatY: Micros, Series: []Series{{Name: "a", Points: []Point{{1, 20}, {2, 3000}}}}}.AppendSVG(nil)
	if !strings.Contains(string(doc), ">1 ms<") || !strings.Contains(string(doc), ">10 µs<") {
		t.Fatalf("FormatY not used:\n%s", doc)
	}
}

func TestFormatTick(t *testing.T) {
	f := func(v float64, want string) {
		t.Helper()
		if got := formatTick(v); got != want {
			t.Fatalf("formatTick(%v) = %q; want %q", v, got, want)
		}
	}
	f(0, "0")
	f(20, "20")
	f(1500, "1.5k")
	f(100000, "100k")
	f(2e6, "2M")
	f(0.5, "0.5")
}
