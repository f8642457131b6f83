package loadgen

import "testing"

// BenchmarkFill is the client's cost of preparing one request of the mix,
// part of what the load generator spends per request besides the syscalls.
func BenchmarkFill(b *testing.B) {
	b.ReportAllocs()
	traffic, err := DefaultMix().Generate(1024)
	if err != nil {
		b.Fatal(err)
	}
	w := newWorker()
	i := 0
	for b.Loop() {
		w.fill("127.0.0.1:8080", &traffic[i%len(traffic)])
		i++
	}
}

// BenchmarkAccount is the cost of recording one answer.
func BenchmarkAccount(b *testing.B) {
	b.ReportAllocs()
	traffic, err := DefaultMix().Generate(64)
	if err != nil {
		b.Fatal(err)
	}
	w := newWorker()
	w.resp.SetStatusCode(204)
	for b.Loop() {
		w.account(&traffic[0], nil, true, 50_000)
	}
}
