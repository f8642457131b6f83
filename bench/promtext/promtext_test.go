package promtext

import (
	"context"
	"math"
	"net"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/bench/ceiling"
)

const page = `# HELP go_memstats_mallocs_total Total number of heap objects allocated, both live and gc-ed. Semantically a counter version for go_memstats_heap_objects gauge.
# TYPE go_memstats_mallocs_total counter
go_memstats_mallocs_total 1.234567e+06
# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.34

http_requests_total{code="200",path="/p.gif"} 10
http_requests_total{code="204",path="/b"} 5 1700000000000
weird_total{msg="a } brace, a \" quote and a \\ backslash"} 7
go_gc_duration_seconds{quantile="0.5"} NaN
up_ratio +Inf
`

func TestParse(t *testing.T) {
	s, err := Parse([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string, want float64) {
		t.Helper()
		v, ok := s.Get(name)
		if !ok || v != want {
			t.Fatalf("Get(%s) = %v, %v; want %v", name, v, ok, want)
		}
	}
	get(Mallocs, 1234567)
	get(CPUSeconds, 12.34)
	get("up_ratio", math.Inf(1))
	if _, ok := s.Get("http_requests_total"); ok {
		t.Fatal("Get found a labelled series")
	}
	if v, ok := s.Sum("http_requests_total"); !ok || v != 15 {
		t.Fatalf("Sum = %v, %v; want 15", v, ok)
	}
	if v, ok := s.Sum("weird_total"); !ok || v != 7 {
		t.Fatalf("weird_total = %v, %v", v, ok)
	}
	if v, ok := s.Sum("go_gc_duration_seconds"); !ok || !math.IsNaN(v) {
		t.Fatalf("NaN: %v %v", v, ok)
	}
	if _, ok := s.Sum("absent"); ok {
		t.Fatal("Sum found an absent series")
	}
	if len(s) != 7 {
		t.Fatalf("len = %d; want 7", len(s))
	}
}

func TestLabel(t *testing.T) {
	s, err := Parse([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sample      int
		label, want string
		ok          bool
	}{
		{2, "code", "200", true},
		{2, "path", "/p.gif", true},
		{2, "method", "", false},
		{3, "path", "/b", true},
		{4, "msg", `a } brace, a " quote and a \ backslash`, true},
		{5, "quantile", "0.5", true},
		{6, "code", "", false}, // no labels
	} {
		if got, ok := s[c.sample].Label(c.label); got != c.want || ok != c.ok {
			t.Errorf("%s{%s}.Label(%q) = %q, %v; want %q, %v", s[c.sample].Name, s[c.sample].Labels, c.label, got, ok, c.want, c.ok)
		}
	}
	for labels, want := range map[string]string{
		`a="x\ny"`:            "x\ny",
		`a="x\qy"`:            `x\qy`,
		`b="1",a="2"`:         "2",
		`b="1",a="2",`:        "2",
		`b="1", a="2"`:        "", // a space: not as Prometheus writes
		`a="1",garbage`:       "",
		`b="x",garbage,a="1"`: "",
		`a = "1"`:             "",
		`a="1"b="2"`:          "",
		`a="1",,b="2"`:        "",
		`a="unterminated`:     "",
		`a=1`:                 "",
	} {
		got, _ := Sample{Name: "x", Labels: labels}.Label("a")
		if got != want {
			t.Errorf("{%s}.Label(a) = %q; want %q", labels, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	f := func(in string, line int) {
		t.Helper()
		_, err := Parse([]byte(in))
		pe, ok := err.(*ParseError)
		if !ok || pe.Line != line {
			t.Fatalf("%q: err = %v; want a ParseError at line %d", in, err, line)
		}
	}
	f("ok 1\n{x=\"1\"} 2\n", 2)
	f("x{a=\"1\" 2\n", 1)
	f("x\n", 1)
	f("x one\n", 1)
	f("x 1 2 3\n", 1)
	f("# c\n\n9x 1\n", 3)
}

func TestFetch(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ceiling.ServeAdmin(ctx, ln, ceiling.NewRegistry()) }()
	defer func() { cancel(); <-done }()

	s, err := Fetch(ctx, "http://"+ln.Addr().String()+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{CPUSeconds, Mallocs} {
		if v, ok := s.Get(name); !ok || v < 0 || (name == Mallocs && v == 0) {
			t.Errorf("%s = %v, %v", name, v, ok)
		}
	}
	if _, err := Fetch(ctx, "http://"+ln.Addr().String()+"/nope"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404 page: err = %v", err)
	}
	if _, err := Fetch(ctx, "http://192.0.2.1:9100/metrics"); err == nil {
		t.Error("fetched from a non-loopback address")
	}
}
