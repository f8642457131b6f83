package adplatform_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/upstream/adplatform"
)

// discard is an HTTP transport that answers every request as the platform
// does on success, without a network: the benchmark measures mapping and
// encoding, the part that runs on our core.
type discard struct{ body string }

func (d discard) RoundTrip(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(d.body)), Header: http.Header{}, Request: r}, nil
}

// BenchmarkSend maps and encodes a batch of 1,000 full records per
// iteration; events/s (wall clock) and events/cpu-s (process CPU time,
// which stays meaningful when other processes share the cores; run with
// -cpu 1) are the figures to hold against 100k per core.
func BenchmarkSend(b *testing.B) {
	tf := filepath.Join(b.TempDir(), "token")
	os.WriteFile(tf, []byte(token), 0o600)
	recs := records(1000, true)
	for _, c := range []struct {
		p    adplatform.Platform
		body string
	}{{adplatform.Meta, `{"events_received":1000}`}, {adplatform.GA4, ``}, {adplatform.TikTok, `{"code":0,"message":"OK"}`}} {
		b.Run(c.p.String(), func(b *testing.B) {
			s, err := adplatform.New(adplatform.Options{Destination: "ads", Platform: c.p, ID: pixelID, TokenFile: tf,
				Endpoint: "https://platform.invalid", Client: &http.Client{Transport: discard{c.body}},
				Origins: adplatform.NewOrigins(map[string]string{"shop": "https://shop.example"}), Clock: clock.Fixed(testNow)})
			if err != nil {
				b.Fatal(err)
			}
			bytes := 0
			for _, r := range recs {
				bytes += len(r) + 1
			}
			b.SetBytes(int64(bytes))
			b.ReportAllocs()
			bt := batch(0, recs...)
			cpu0 := cpuTime()
			for b.Loop() {
				bt.First, bt.End = bt.End, bt.End+1000 // a new batch each time: no progress is reused
				if err := s.Send(context.Background(), bt); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "events/s")
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(b.N)*1000/cpu.Seconds(), "events/cpu-s")
			}
		})
	}
	_ = upstream.Batch{}
}
