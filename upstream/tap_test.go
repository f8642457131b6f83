package upstream

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func tapRecord(id, site, state string) []byte {
	return []byte(`{"id":"` + id + `","site":"` + site + `","consent":{"state":"` + state + `","purposes":[]}}`)
}

// TestTapFilters: a tap sees the records that match its site, consent
// state and destination, as they are appended, and nothing else.
func TestTapFilters(t *testing.T) {
	a := &memSink{ids: newIDSet(), t: t}
	b := &memSink{ids: newIDSet(), t: t}
	p := openP(t, Options{Destinations: []DestinationOptions{
		{Name: "a", Sink: a, Batch: BatchOptions{MaxAge: 10 * time.Millisecond}},
		{Name: "b", Sink: b, Batch: BatchOptions{MaxAge: 10 * time.Millisecond}}}})
	defer closeP(t, p)
	if _, ok := p.Tap(TapFilter{Destination: "nope"}, 8); ok {
		t.Fatal("a tap on an unknown destination")
	}
	all, _ := p.Tap(TapFilter{}, 16)
	shopAds, _ := p.Tap(TapFilter{Site: "shop", Consent: "ads"}, 16)
	onlyB, _ := p.Tap(TapFilter{Destination: "b"}, 16)
	for _, r := range []struct {
		rec   []byte
		route Route
	}{
		{tapRecord("1", "shop", "ads"), RouteTo(0) | RouteTo(1)},
		{tapRecord("2", "shop", "none"), RouteTo(0)},
		{tapRecord("3", "blog", "ads"), RouteTo(1)},
		{tapRecord("4", "shop", "ads"), RouteTo(0)},
	} {
		if err := p.Append(r.rec, r.route); err != nil {
			t.Fatal(err)
		}
	}
	read := func(tp *Tap) string {
		var ids []string
		for {
			select {
			case rec := <-tp.C():
				ids = append(ids, string(jsonStringField(rec, "id")))
				tp.Done(rec)
			default:
				return strings.Join(ids, ",")
			}
		}
	}
	if got := read(all); got != "1,2,3,4" {
		t.Errorf("all: %s", got)
	}
	if got := read(shopAds); got != "1,4" {
		t.Errorf("site shop, consent ads: %s", got)
	}
	if got := read(onlyB); got != "1,3" {
		t.Errorf("destination b: %s", got)
	}
	all.Close()
	shopAds.Close()
	onlyB.Close()
	if p.taps.Load() != nil {
		t.Fatal("closed taps still listed")
	}
}

// TestTapSlowReaderIsCut: a tap whose reader does not read is cut once its
// buffers are full; Append goes on without an error or a wait, and the
// other tap keeps receiving.
func TestTapSlowReaderIsCut(t *testing.T) {
	s := &memSink{ids: newIDSet(), t: t}
	p := openP(t, Options{Destinations: []DestinationOptions{{Name: "a", Sink: s, Batch: BatchOptions{MaxAge: 10 * time.Millisecond}}}})
	defer closeP(t, p)
	slow, _ := p.Tap(TapFilter{}, 4)
	fast, _ := p.Tap(TapFilter{}, 4)
	got := 0
	for i := range 100 {
		if err := p.Append(tapRecord("x", "s", "none"), RouteTo(0)); err != nil {
			t.Fatal(err)
		}
		select {
		case rec := <-fast.C():
			got++
			fast.Done(rec)
		default:
			t.Fatalf("record %d not on the fast tap", i)
		}
	}
	select {
	case <-slow.Closed():
	default:
		t.Fatal("the slow tap was not cut")
	}
	if !slow.Cut() || fast.Cut() || got != 100 {
		t.Fatalf("slow cut %v, fast cut %v, fast got %d", slow.Cut(), fast.Cut(), got)
	}
	fast.Close()
}

// TestTapKeepsNoLongRecordBuffers: a record longer than a tap's 4 KiB
// buffers grew the buffer it landed in, and the tap kept it grown for as
// long as it ran: a tap left open (beacongate tap in a terminal) while
// beacons of 64 KiB came in ended up holding every one of its 1,024
// buffers at 64 KiB or more, 64 MiB a tap and 512 MiB for the 8 a gateway
// allows, where the README promised buffers of 4 KiB. A buffer a long
// record grew is now given up when the reader hands it back.
func TestTapKeepsNoLongRecordBuffers(t *testing.T) {
	s := &memSink{ids: newIDSet(), t: t}
	p := openP(t, Options{Destinations: []DestinationOptions{{Name: "a", Sink: s, Batch: BatchOptions{MaxAge: 10 * time.Millisecond}}}})
	defer closeP(t, p)
	const buffered = 16
	tp, _ := p.Tap(TapFilter{}, buffered)
	defer tp.Close()
	pad := strings.Repeat("x", 64<<10)
	for round := range 4 {
		for i := range buffered {
			rec := []byte(`{"id":"` + strconv.Itoa(round*buffered+i) + `","site":"shop","pad":"` + pad + `"}`)
			if err := p.Append(rec, RouteTo(0)); err != nil {
				t.Fatal(err)
			}
		}
		for range buffered {
			tp.Done(<-tp.C())
		}
	}
	if tp.Cut() {
		t.Fatal("the tap was cut: the test reads too slowly")
	}
	held := 0
	for range buffered {
		held += cap(<-tp.free)
	}
	if want := buffered * tapBufferBytes; held > want {
		t.Fatalf("the tap's %d buffers hold %d KiB after records of 64 KiB; want %d KiB", buffered, held>>10, want>>10)
	}
}
