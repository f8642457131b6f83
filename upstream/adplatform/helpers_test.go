package adplatform_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/upstream/adplatform"
	"github.com/beacongate/beacongate/upstream/adplatform/contract"
)

const (
	pixelID = "1234567890"
	token   = "tok-secret-123"
	emHash  = "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d"
	phHash  = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"
)

// testNow is the pinned time of the sinks and contract servers: two hours
// after the records rec writes.
var testNow = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

var contractOf = map[adplatform.Platform]contract.Platform{
	adplatform.Meta: contract.Meta, adplatform.GA4: contract.GA4, adplatform.TikTok: contract.TikTok,
}

// setup starts p's contract server and a sink pointed at it.
func setup(t testing.TB, p adplatform.Platform, mod func(*adplatform.Options)) (*contract.Server, *adplatform.Sink, *adplatform.Metrics, *prometheus.Registry) {
	t.Helper()
	srv := contract.New(t, contractOf[p], pixelID, token)
	srv.SetNow(testNow)
	reg := prometheus.NewRegistry()
	m, err := adplatform.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	tf := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tf, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := adplatform.Options{Destination: "ads", Platform: p, ID: pixelID, TokenFile: tf, Endpoint: srv.URL(),
		TLS: &tls.Config{RootCAs: srv.CertPool()}, Metrics: m,
		Origins: adplatform.NewOrigins(map[string]string{"shop": "https://shop.example"}), Clock: clock.Fixed(testNow)}
	if mod != nil {
		mod(&o)
	}
	s, err := adplatform.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return srv, s, m, reg
}

// rec is a record as the engine writes it under ads consent, with the
// phase-2 fields (contact, click) when full.
func rec(i int, client string, full bool) []byte {
	r := fmt.Sprintf(`{"v":1,"id":"id%020d","received":"2026-12-04T10:00:%02d.123Z","kind":"pixel","site":"shop","event":"add_to_cart",`+
		`"consent":{"state":"ads","purposes":["analytics","ads","personalization"],"signal":"explicit"},"policy":"33cd4c5a2017",`+
		`"ip":"81.2.69.0","user_agent":"Mozilla/5.0 (X11; Linux x86_64)","url":"/p/%d","referrer":"https://news.example/a",`+
		`"user":"bdCsXP8rYIvgqcB6lLquEQ","client":%q,"eid":"eid-%06d","lang":"de","props":{"plan":"pro","cart_value":129.5,"session_id":1733306400}`,
		i, i%60, i, client, i)
	if full {
		r += `,"contact":{"em":"` + emHash + `","ph":"` + phHash + `","country":"79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621"}` +
			`,"click":{"fbc":"fb.1.1733306400123.AbCdEf","fbp":"fb.1.1733306400123.987654321","ttclid":"E.C.P.abc","ttp":"ttp-1","ga_client_id":"111.` + client + `"}`
	}
	return []byte(r + "}")
}

func batch(first uint64, recs ...[]byte) *upstream.Batch {
	b := &upstream.Batch{Destination: "ads", First: first, End: first + uint64(len(recs))}
	for _, r := range recs {
		b.Add(r)
	}
	return b
}

func records(n int, full bool) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = rec(i, fmt.Sprintf("client%d", i%3), full)
	}
	return out
}

func send(s *adplatform.Sink, b *upstream.Batch) error { return s.Send(context.Background(), b) }

func rejectedOf(err error) []int {
	var se *upstream.SendError
	if errors.As(err, &se) {
		return se.Rejected
	}
	return nil
}

func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			total += m.GetCounter().GetValue()
		}
	}
	return total
}
