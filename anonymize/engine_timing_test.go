package anonymize

import (
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/event"
)

// realTC is a real CMP's TC string granting purposes 1-10 (public vector).
const realTC = "CQd924AQd924AASACCENCNFsAP_gAEIAACiQL6QBAAGAAOANmAcAF9IAIADgAA"

func makeBLE(e *event.Event) {
	e.Kind = event.KindBLE
	e.Store = append(e.Store[:0], "berlin-01"...)
	e.Sensor = append(e.Sensor[:0], "gate-3"...)
	s := &e.Sighting
	s.UUID = append(s.UUID[:0], "f7826da6-4fa2-4e98-8024-bc5b71e0893e"...)
	s.Major, s.Minor, s.RSSI, s.HasRSSI = 100, 7, -67, true
	s.SeenAtMS = time.Date(2026, 11, 24, 9, 59, 0, 0, time.UTC).UnixMilli()
	s.DeviceID = append(s.DeviceID[:0], plantedMAC...)
	s.DeviceKind = event.DeviceMAC
}

var sinkRecord []byte

// BenchmarkAppendRecord is the whole per-event anonymization path, per
// consent state.
func BenchmarkAppendRecord(b *testing.B) {
	en := newTestEngine(b, testConfig)
	for _, c := range []struct{ name, explicit, tc string }{
		{"none", "", ""}, {"analytics", "analytics", ""}, {"ads", "analytics,ads", ""}, {"tcf", "", realTC},
	} {
		b.Run(c.name, func(b *testing.B) {
			e := plantedEvent(c.explicit)
			e.Consent.TCString = []byte(c.tc)
			buf := make([]byte, 0, 16<<10)
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = en.AppendRecord(buf[:0], e)
			}
			b.SetBytes(int64(len(buf)))
			sinkRecord = buf
		})
	}
}

// BenchmarkAppendRecordParallel runs the analytics path on all cores.
func BenchmarkAppendRecordParallel(b *testing.B) {
	en := newTestEngine(b, testConfig)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		e := plantedEvent("analytics")
		buf := make([]byte, 0, 16<<10)
		for pb.Next() {
			buf, _ = en.AppendRecord(buf[:0], e)
		}
	})
}

// BenchmarkAppendRecords is the per-destination path for an ads event with
// one distinct policy among its destinations and with three: the cost of
// an extra distinct policy is the difference, divided by two.
func BenchmarkAppendRecords(b *testing.B) {
	for _, c := range []struct{ name, yaml string }{
		{"policies=1", testConfig + `
destinations:
  - {name: a, type: file}
  - {name: b, type: file, requires: [analytics, ads]}
`},
		{"policies=3", destConfig},
	} {
		b.Run(c.name, func(b *testing.B) {
			en := newTestEngine(b, c.yaml)
			e := plantedEvent("analytics,ads")
			out := &nullEmitter{}
			buf := make([]byte, 0, 16<<10)
			b.ReportAllocs()
			for b.Loop() {
				buf, _, _ = en.AppendRecords(buf[:0], e, out)
			}
			sinkRecord = buf
		})
	}
	// The shop example under ads: 5 distinct policies, a web event and a
	// BLE sighting (user, client or device pseudonyms, visitor hash).
	for _, ble := range []bool{false, true} {
		name := "policies=5/shop"
		if ble {
			name += "-ble"
		}
		b.Run(name, func(b *testing.B) {
			cfg, err := config.Load("../examples/shop-retargeting.yaml")
			if err != nil {
				b.Fatal(err)
			}
			en := newTestEngineFor(b, cfg, clocktest.Golden)
			e := senderEvent("shop", chromeUA, ble)
			out := &nullEmitter{}
			buf := make([]byte, 0, 16<<10)
			b.ReportAllocs()
			for b.Loop() {
				buf, _, _ = en.AppendRecords(buf[:0], e, out)
			}
			if out.n == 0 {
				b.Fatal("no record")
			}
			sinkRecord = buf
		})
	}
}
