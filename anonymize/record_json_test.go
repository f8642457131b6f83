package anonymize

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/anonymize/recordtest"
	"github.com/beacongate/beacongate/event"
)

// TestRecordIsStrictJSON builds records from events whose values the JSON
// encoder must not copy blindly: numbers beyond float64, values that are not
// number or boolean literals at all, invalid UTF-8 (a lone surrogate encoded
// as UTF-8 among it), and control characters. Every record must decode with
// encoding/json and pass the strict RFC 8259 checker; a property that cannot
// be written is left out and counted.
func TestRecordIsStrictJSON(t *testing.T) {
	en := newTestEngine(t, testConfig)
	f := func(name string, key, value string, typ event.PropType, wantDropped int) {
		t.Helper()
		e := &event.Event{}
		e.Reset()
		e.Kind = event.KindBeacon
		e.ClientIP = netip.MustParseAddr("81.2.69.142")
		e.Site = []byte("s")
		e.Name = []byte(name)
		e.Consent.Explicit = []byte("analytics")
		e.AddProp([]byte("plan"), []byte("pro"), event.PropString)
		e.AddProp([]byte(key), []byte(value), typ)
		out, res := en.AppendRecord(nil, e)
		if err := recordtest.Check(out); err != nil {
			t.Fatalf("%s=%q: %v\n%s", key, value, err, out)
		}
		if res.DroppedProps != wantDropped {
			t.Fatalf("%s=%q: %d properties dropped; want %d", key, value, res.DroppedProps, wantDropped)
		}
		if !strings.Contains(string(out), `"plan":"pro"`) {
			t.Fatalf("%s=%q: the good property went too: %s", key, value, out)
		}
	}
	f("e", "cart_value", "129.5", event.PropNumber, 0)
	f("e", "cart_value", "1e308", event.PropNumber, 0)
	f("e", "cart_value", "1e999", event.PropNumber, 1)
	f("e", "cart_value", "-1e400", event.PropNumber, 1)
	f("e", "cart_value", "NaN", event.PropNumber, 1)
	f("e", "cart_value", "12,5", event.PropNumber, 1)
	f("e", "cart_value", "", event.PropNumber, 1)
	f("e", "cart_value", `1}{"x":1`, event.PropNumber, 1)
	f("e", "note", "yes", event.PropBool, 1)
	f("e", "note", "true", event.PropBool, 0)
	f("e", "note", "\xed\xa0\x80 lone surrogate as UTF-8", event.PropString, 0)
	f("e", "note", "\\ud800", event.PropString, 0)
	f("a\x00b\x1f\x7f", "note", "x", event.PropString, 0)
	f("\xff\xfe", "note", "\u2028", event.PropString, 0)
}
