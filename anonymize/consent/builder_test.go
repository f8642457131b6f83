package consent

import (
	"encoding/base64"
	"time"
)

// A small TC string encoder for tests, written from the TCF v2 spec, so tests
// can build strings with exactly the feature or defect they are about.

type bitWriter struct {
	b []byte
	n int
}

func (w *bitWriter) put(v uint64, n int) {
	for i := n - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.b = append(w.b, 0)
		}
		if v>>uint(i)&1 == 1 {
			w.b[w.n/8] |= 0x80 >> uint(w.n%8)
		}
		w.n++
	}
}

func (w *bitWriter) bool(b bool) {
	if b {
		w.put(1, 1)
	} else {
		w.put(0, 1)
	}
}

func (w *bitWriter) ids(ids []int, n int) {
	var m uint64
	for _, id := range ids {
		m |= 1 << uint(n-id)
	}
	w.put(m, n)
}

func (w *bitWriter) letters(s string) {
	for i := 0; i < 2; i++ {
		w.put(uint64(s[i]-'A'), 6)
	}
}

func (w *bitWriter) String() string { return base64.RawURLEncoding.EncodeToString(w.b) }

type vendorSpec struct {
	max    int
	ranges [][2]int // range encoding when non-nil
	isRng  bool     // force range encoding with no entries
	ids    []int    // bit field
}

func (w *bitWriter) vendors(v vendorSpec) {
	w.put(uint64(v.max), 16)
	if v.ranges == nil && !v.isRng {
		w.put(0, 1)
		for id := 1; id <= v.max; id++ {
			w.bool(contains(v.ids, id))
		}
		return
	}
	w.put(1, 1)
	w.ranges(v.ranges)
}

func (w *bitWriter) ranges(rs [][2]int) {
	w.put(uint64(len(rs)), 12)
	for _, r := range rs {
		if r[0] == r[1] {
			w.put(0, 1)
			w.put(uint64(r[0]), 16)
		} else {
			w.put(1, 1)
			w.put(uint64(r[0]), 16)
			w.put(uint64(r[1]), 16)
		}
	}
}

func contains(ids []int, id int) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

type restriction struct {
	purpose, typ int
	ranges       [][2]int
}

type tcSpec struct {
	version        int
	created        time.Time
	updated        time.Time // zero: created
	cmpID, cmpVer  int
	screen         int
	lang, cc       string
	vlv, policy    int
	ss, nst, p1t   bool
	sf, pc, pli    []int
	vc, vli        vendorSpec
	restrictions   []restriction
	segments       []string // appended after dots, already encoded
	omitPubRestrct bool
}

// goodSpec is a valid TCF 2.2 string: service-specific, policy 5, created
// 2026-01-13, consent for purposes 1-11, LI only for 2 and 7.
func goodSpec() tcSpec {
	return tcSpec{
		version: 2, created: time.Date(2026, 1, 13, 10, 0, 0, 0, time.UTC),
		cmpID: 18, cmpVer: 2, screen: 2, lang: "EN", cc: "DE", vlv: 141, policy: 5, ss: true,
		sf: []int{1, 2}, pc: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, pli: []int{2, 7},
		vc:  vendorSpec{max: 755, ranges: [][2]int{{12, 12}, {14, 20}, {755, 755}}},
		vli: vendorSpec{max: 14, ids: []int{14}},
	}
}

func (s tcSpec) encode() string {
	var w bitWriter
	w.put(uint64(s.version), 6)
	ds := uint64(s.created.UnixMilli() / 100)
	w.put(ds, 36)
	if !s.updated.IsZero() {
		ds = uint64(s.updated.UnixMilli() / 100)
	}
	w.put(ds, 36)
	w.put(uint64(s.cmpID), 12)
	w.put(uint64(s.cmpVer), 12)
	w.put(uint64(s.screen), 6)
	w.letters(s.lang)
	w.put(uint64(s.vlv), 12)
	w.put(uint64(s.policy), 6)
	w.bool(s.ss)
	w.bool(s.nst)
	w.ids(s.sf, 12)
	w.ids(s.pc, 24)
	w.ids(s.pli, 24)
	w.bool(s.p1t)
	w.letters(s.cc)
	w.vendors(s.vc)
	w.vendors(s.vli)
	if !s.omitPubRestrct {
		w.put(uint64(len(s.restrictions)), 12)
		for _, r := range s.restrictions {
			w.put(uint64(r.purpose), 6)
			w.put(uint64(r.typ), 2)
			w.ranges(r.ranges)
		}
	}
	out := w.String()
	for _, seg := range s.segments {
		out += "." + seg
	}
	return out
}

func oobSegment(typ int, v vendorSpec) string {
	var w bitWriter
	w.put(uint64(typ), 3)
	w.vendors(v)
	return w.String()
}

func publisherTCSegment(pc, pli []int, custom int, cc, cli []int) string {
	var w bitWriter
	w.put(3, 3)
	w.ids(pc, 24)
	w.ids(pli, 24)
	w.put(uint64(custom), 6)
	if custom > 0 {
		for id := 1; id <= custom; id++ {
			w.bool(contains(cc, id))
		}
		for id := 1; id <= custom; id++ {
			w.bool(contains(cli, id))
		}
	}
	return w.String()
}

// builtSeeds are strings built to reach every branch of the decoder: both
// encodings in every vendor section, publisher restrictions, all three later
// segments, more than 32 custom purposes.
func builtSeeds() []string {
	a := goodSpec()
	b := goodSpec()
	b.vc = vendorSpec{max: 40, ids: []int{1, 7, 40}}
	b.vli = vendorSpec{max: 300, ranges: [][2]int{{2, 9}, {100, 100}, {200, 300}}}
	b.restrictions = []restriction{
		{purpose: 7, typ: 0, ranges: [][2]int{{7, 7}, {20, 40}}},
		{purpose: 2, typ: 1, ranges: [][2]int{{1, 1}}},
		{purpose: 4, typ: 2, ranges: [][2]int{{40, 40}, {7, 7}}}, // unsorted is fine here
	}
	b.segments = []string{
		oobSegment(1, vendorSpec{max: 50, ranges: [][2]int{{1, 3}, {30, 50}}}),
		oobSegment(2, vendorSpec{max: 9, ids: []int{2, 9}}),
		publisherTCSegment([]int{1, 7, 24}, []int{2}, 40, []int{1, 33, 40}, []int{2, 39}),
	}
	c := goodSpec()
	c.vc = vendorSpec{max: 0, isRng: true}
	c.vli = vendorSpec{max: 0}
	c.segments = []string{publisherTCSegment([]int{1}, nil, 0, nil, nil)}
	return []string{a.encode(), b.encode(), c.encode()}
}

// gppHeader encodes a GPP header listing ids (ascending), each as a single
// Fibonacci-coded entry.
func gppHeader(ids ...int) string {
	var w charWriter
	w.put(3, 6)
	w.put(1, 6)
	w.put(uint64(len(ids)), 12)
	last := 0
	for _, id := range ids {
		w.put(0, 1)
		w.fib(id - last)
		last = id
	}
	return w.String()
}

// charWriter writes bits into base64url characters with no byte rounding.
type charWriter struct{ bits []byte }

func (w *charWriter) put(v uint64, n int) {
	for i := n - 1; i >= 0; i-- {
		w.bits = append(w.bits, byte(v>>uint(i)&1))
	}
}

func (w *charWriter) fib(n int) {
	f := []int{1, 2}
	for f[len(f)-1] <= n {
		f = append(f, f[len(f)-1]+f[len(f)-2])
	}
	code := make([]byte, len(f))
	top := 0
	for i := len(f) - 1; i >= 0; i-- {
		if f[i] <= n {
			code[i] = 1
			n -= f[i]
			if i > top {
				top = i
			}
		}
	}
	w.bits = append(w.bits, code[:top+1]...)
	w.bits = append(w.bits, 1)
}

func (w *charWriter) String() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var out []byte
	for i := 0; i < len(w.bits); i += 6 {
		v := 0
		for j := 0; j < 6; j++ {
			v <<= 1
			if i+j < len(w.bits) {
				v |= int(w.bits[i+j])
			}
		}
		out = append(out, alphabet[v])
	}
	return string(out)
}
