package anonymize

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/event"
)

// BenchmarkMix runs the seeded traffic mix of TestCachesDifferential (pixel
// hits and BLE sightings from bench/loadgen, cacheConfig's three
// destinations; "all", and its pixel hits alone) through the
// per-destination path, without and with the engine's caches, in one run;
// ns/op is per event. The cached runs report each cache's hit rate.
//
//	go test ./anonymize -run XXX -bench 'Mix|BLEBatch' -count 6
func BenchmarkMix(b *testing.B) {
	var all, pixels []*event.Event
	for _, batch := range mixEvents(b, 4000, 1) {
		for _, e := range batch {
			// Arrivals of today, as in a running gateway: the
			// differential tests' year of dates would measure key
			// derivation for past periods.
			e.ReceivedAt = clocktest.Golden
			all = append(all, e)
			if e.Kind == event.KindPixel {
				pixels = append(pixels, e)
			}
		}
	}
	for _, w := range []struct {
		name   string
		events []*event.Event
	}{{"all", all}, {"pixel", pixels}} {
		cached := newTestEngine(b, cacheConfig)
		for _, c := range []struct {
			name string
			en   *Engine
		}{{"uncached", uncached(cached)}, {"cached", cached}} {
			benchEvents(b, w.name+"/"+c.name, c.en, w.events)
		}
	}
}

// benchEvents runs events in turn through en's AppendRecords, after one
// warming pass.
func benchEvents(b *testing.B, name string, en *Engine, all []*event.Event) {
	b.Run(name, func(b *testing.B) {
		out := &nullEmitter{}
		buf := make([]byte, 0, 16<<10)
		for _, e := range all { // warm: the steady state of a running gateway
			buf, _, _ = en.AppendRecords(buf[:0], e, out)
		}
		c0, ua0, u0, tx0 := en.CachesStats()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			buf, _, _ = en.AppendRecords(buf[:0], all[i], out)
			if i++; i == len(all) {
				i = 0
			}
		}
		if en.caches.ua != nil {
			c1, ua1, u1, tx1 := en.CachesStats()
			b.ReportMetric(hitRate(c0, c1), "consent-hit-%")
			b.ReportMetric(hitRate(ua0, ua1), "ua-hit-%")
			b.ReportMetric(hitRate(u0, u1), "url-hit-%")
			b.ReportMetric(hitRate(tx0, tx1), "text-hit-%")
		}
	})
}

func hitRate(before, after CacheStats) float64 {
	h, m := after.Hits-before.Hits, after.Misses-before.Misses
	if h+m == 0 {
		return 0
	}
	return 100 * float64(h) / float64(h+m)
}

// BenchmarkBLEBatch is the per-sighting cost of a BLE batch of 40
// sightings (one store box: the same consent, agent and address, a
// different device each) as delivery hands them to the engine one by one:
// without caches each sighting decides consent again, with them only the
// first of a batch does. ns/op is per sighting.
func BenchmarkBLEBatch(b *testing.B) {
	cached := newTestEngine(b, testConfig+`
destinations:
  - {name: warehouse, type: file}
`)
	batch := bleBatch(40)
	for _, c := range []struct {
		name string
		en   *Engine
	}{{"uncached", uncached(cached)}, {"cached", cached}} {
		b.Run(c.name, func(b *testing.B) {
			out := &nullEmitter{}
			buf := make([]byte, 0, 16<<10)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				buf, _, _ = c.en.AppendRecords(buf[:0], batch[i], out)
				if i++; i == len(batch) {
					i = 0
				}
			}
		})
	}
}

// bleBatch returns n sightings of one BLE request as the gateway makes
// them: the request's fields copied into each event, a device each.
func bleBatch(n int) []*event.Event {
	batch := make([]*event.Event, n)
	for i := range batch {
		e := &event.Event{}
		e.Reset()
		e.ReceivedAt = clocktest.Golden
		e.ClientIP = netip.MustParseAddr("81.2.69.142")
		e.Site = []byte("store-chain")
		e.Name = []byte("ble_sighting")
		e.UserAgent = []byte("storebox/2.3 (Linux; armv7l)")
		e.Consent.Explicit = []byte("analytics")
		e.Consent.GCS = []byte("G111")
		makeBLE(e)
		e.Sighting.DeviceID = fmt.Appendf(nil, "02:00:00:00:00:%02x", i)
		batch[i] = e
	}
	return batch
}

// BenchmarkCacheGet is one hit of a 120-byte key (a user agent) and a miss,
// on one goroutine and on all cores: the price of the sharded mutex.
func BenchmarkCacheGet(b *testing.B) {
	c := newCache[uint64](1024, 512, 0)
	keys := make([][]byte, 256)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%03d.0.0.0 Safari/537.36", i)
		c.put(keys[i], nil, uint64(i))
	}
	miss := []byte("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 never")
	b.Run("hit", func(b *testing.B) {
		i := 0
		for b.Loop() {
			c.get(nil, keys[i&255])
			i++
		}
	})
	b.Run("miss", func(b *testing.B) {
		for b.Loop() {
			c.get(nil, miss)
		}
	})
	b.Run("hit/parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				c.get(nil, keys[i&255])
				i++
			}
		})
	})
}
