package delivery

import (
	"fmt"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/wiring"
)

type nullSpool struct{ longest int }

func (s *nullSpool) Append(rec []byte, _ upstream.Route) error {
	s.longest = max(s.longest, len(rec))
	return nil
}

// TestLongRecordPinsNoBuffer: a delivery state goes back to a free list the
// garbage collector never empties (up to 1,024), with its record buffer
// as the longest record it made grew it: a beacon of 60 properties of
// 1,000 '<' (each written \u003c) made a 352 KiB record and left a state
// holding 432 KiB for good, 1,024 of them 432 MiB. A buffer grown beyond
// maxKeptRecordBuffer is now given up when the state goes back.
func TestLongRecordPinsNoBuffer(t *testing.T) {
	var allow []string
	for i := range 60 {
		allow = append(allow, fmt.Sprintf("p%d", i))
	}
	cfg, err := config.Parse("t.yaml", []byte("consent: {purposes: [analytics]}\nproperties: {allow: ["+strings.Join(allow, ", ")+"]}\n"+
		"policies: {none: {properties: allowlist}, analytics: {properties: allowlist}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := wiring.Compile(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	en, err := anonymize.New(p, anonymize.Deps{Clock: clock.Fixed(clocktest.Golden)})
	if err != nil {
		t.Fatal(err)
	}
	sp := &nullSpool{}
	d := NewDeliverer(en, sp, NewMetrics(nil))
	var e event.Event
	e.Reset()
	e.Kind = event.KindBeacon
	e.ReceivedAt = clocktest.Golden
	e.Site = []byte("s")
	e.Name = []byte("e")
	for i := range 60 {
		e.AddProp([]byte(fmt.Sprintf("p%d", i)), []byte(strings.Repeat("<", 1000)), event.PropString)
	}
	if err := d.HandleEvent(&e); err != nil {
		t.Fatal(err)
	}
	if sp.longest < 256<<10 {
		t.Fatalf("longest record %d bytes: the test makes no long record", sp.longest)
	}
	// The free list is a stack: the state just put back comes first.
	dv := deliveries.Get()
	got := cap(dv.buf)
	deliveries.Put(dv)
	if got > 64<<10 {
		t.Fatalf("after a %d KiB record a delivery state keeps a %d KiB buffer; want at most 64 KiB", sp.longest>>10, got>>10)
	}
}
