package config

import (
	"os"
	"sync"
	"testing"
)

type rwMutex = sync.RWMutex

var benchSink int

func BenchmarkHolderLoad(b *testing.B) {
	h := NewHolder(Default(), Overrides{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		n := 0
		for pb.Next() {
			n += h.Load().Server.MaxEventsPerRequest
		}
		benchSink += n
	})
}

// BenchmarkMutexLoad is the naive alternative to Holder: a read lock per request.
func BenchmarkMutexLoad(b *testing.B) {
	var h struct {
		mu rwMutex
		c  *Config
	}
	h.c = Default()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		n := 0
		for pb.Next() {
			h.mu.RLock()
			n += h.c.Server.MaxEventsPerRequest
			h.mu.RUnlock()
		}
		benchSink += n
	})
}

func BenchmarkPolicyFor(b *testing.B) {
	c := Default()
	granted := NewPurposeSet(PurposeAnalytics)
	b.ReportAllocs()
	for b.Loop() {
		benchSink += c.Policies.Get(PolicyFor(granted)).IP.V4Prefix
	}
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("../examples/shop-retargeting.yaml")
	if err != nil {
		b.Skip(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("shop.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
