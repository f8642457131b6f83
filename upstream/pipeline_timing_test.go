package upstream

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// benchRecords returns n realistic records to append in turn.
func benchRecords(n int) [][]byte {
	rng := rand.New(rand.NewPCG(5, 6))
	recs := make([][]byte, n)
	for i := range recs {
		recs[i] = testRecord(rng, "b", i)
	}
	return recs
}

// BenchmarkPipelineAppend is the hot path as the gateway calls it, from
// many goroutines, while a file destination ships in the background.
func BenchmarkPipelineAppend(b *testing.B) {
	for _, d := range []Durability{DurabilityProcess, DurabilityFsync} {
		b.Run(d.String(), func(b *testing.B) {
			p, err := Open(Options{DataDir: b.TempDir(), Logger: slog.New(slog.DiscardHandler),
				Spool:        SpoolOptions{Durability: d},
				Destinations: []DestinationOptions{{Name: "file", File: &FileOptions{}}}})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close(context.Background())
			recs := benchRecords(1024)
			var next atomic.Uint64
			b.SetBytes(int64(len(recs[0])))
			b.ReportAllocs()
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := p.Append(recs[next.Add(1)%1024], 1); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkEndToEnd appends b.N records from 32 goroutines and waits until
// the destination has acknowledged all of them: events/s is the whole
// path (spool, batching, compression, sending, and the receiver, all on
// this machine).
func BenchmarkEndToEnd(b *testing.B) {
	b.Run("file", func(b *testing.B) {
		benchEndToEnd(b, DestinationOptions{Name: "file", File: &FileOptions{}}, nil)
	})
	b.Run("http", func(b *testing.B) {
		var got atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			data, err := decodeBody(r.Header.Get("Content-Encoding"), body)
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			got.Add(int64(bytes.Count(data, []byte("\n"))))
		}))
		defer srv.Close()
		benchEndToEnd(b, DestinationOptions{Name: "http", HTTP: &HTTPOptions{URL: srv.URL}}, got.Load)
	})
	b.Run("kafka", func(b *testing.B) {
		c := newKafka(b)
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(kafkaTopic))
		if err != nil {
			b.Fatal(err)
		}
		var got atomic.Int64
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			for ctx.Err() == nil {
				got.Add(int64(cl.PollFetches(ctx).NumRecords()))
			}
		}()
		defer func() { cancel(); <-done; cl.Close() }()
		benchEndToEnd(b, DestinationOptions{Name: "kafka",
			Kafka: &KafkaOptions{Brokers: c.ListenAddrs(), Topic: kafkaTopic, KeyField: "site"}}, got.Load)
	})
}

func benchEndToEnd(b *testing.B, d DestinationOptions, received func() int64) {
	// A short MaxAge so that the last, partial batch does not wait the
	// default second: the benchmark measures throughput, not batching.
	d.Batch.MaxAge = 5 * time.Millisecond
	p, err := Open(Options{DataDir: b.TempDir(), Logger: slog.New(slog.DiscardHandler), Destinations: []DestinationOptions{d}})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(context.Background())
	if received == nil {
		received = func() int64 { return int64(p.Stats()[0].Records) }
	}
	recs := benchRecords(1024)
	var next atomic.Uint64
	b.SetBytes(int64(len(recs[0])))
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := p.Append(recs[next.Add(1)%1024], 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
	for received() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	st := p.Stats()[0]
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if st.Bytes > 0 {
		b.ReportMetric(float64(st.RawBytes)/float64(st.Bytes), "ratio")
	}
}
