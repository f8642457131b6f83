package anonymize

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/event"
)

// BenchmarkClickIDLandings is ad traffic: page views of 64 landing pages,
// each arriving with a click id of its own (gclid or fbclid) after the
// same campaign parameters, with the engine's caches on. ns/op is per
// event; url-hit-% counts the URLs answered from the cache (see
// benchEvents).
//
//	go test ./anonymize -run XXX -bench ClickIDLandings
func BenchmarkClickIDLandings(b *testing.B) {
	en := newTestEngine(b, cacheConfig)
	events := make([]*event.Event, 4096)
	for i := range events {
		e := &event.Event{}
		e.Reset()
		e.Kind = event.KindPixel
		e.ReceivedAt = clocktest.Golden
		e.ClientIP = netip.MustParseAddr("81.2.69.142")
		e.Site = []byte("shop-example")
		e.Name = []byte("pageview")
		e.UserAgent = []byte("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
		e.Consent.Explicit = []byte("analytics")
		click := fmt.Sprintf("gclid=Cj0KCQiA%064x_BwE", uint64(i)*0x9e3779b97f4a7c15)
		if i%4 == 3 {
			click = fmt.Sprintf("fbclid=IwAR%056x", uint64(i)*0x9e3779b97f4a7c15)
		}
		e.URL = fmt.Appendf(nil, "https://www.shop-example.com/de-de/damen/schuhe/sneaker/runner-pro-%d-black-white.html?utm_source=google&utm_medium=cpc&utm_campaign=black_friday_2024&%s&color=black&size=42", i%64, click)
		events[i] = e
	}
	benchEvents(b, "cached", en, events)
}
