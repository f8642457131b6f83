// Package tctest builds IAB TCF v2 TC strings for tests of the packages that
// read them: a core segment with bit-field vendor sections and publisher
// restrictions, and the disclosed vendors segment, written from the TCF v2
// specification.
package tctest

import (
	"encoding/base64"
	"slices"
	"time"
)

// Restriction is one publisher restriction record: Type (0 not allowed,
// 1 require consent, 2 require legitimate interest) for TCF purpose Purpose
// and the listed vendors.
type Restriction struct {
	Purpose, Type int
	Vendors       []int
}

// Spec describes a TC string. Lists hold ids (purpose 1 is 1).
type Spec struct {
	Created, LastUpdated time.Time // LastUpdated zero: Created
	CMPID, VendorListVer int
	Policy               int
	ServiceSpecific      bool
	SpecialFeatures      []int
	PurposesConsent      []int
	PurposesLI           []int
	VendorConsent        []int
	VendorLI             []int
	Restrictions         []Restriction
	// Disclosed lists the vendors of the disclosed vendors segment (segment
	// type 1), which TCF v2.3 makes mandatory in strings last updated on or
	// after 2026-02-28. nil writes no segment; an empty, non-nil list writes
	// one that discloses no vendor. A vendor missing from it counts as never
	// shown to the visitor: its consent and legitimate interest bits are
	// not relied on, so list the vendors a test expects to be allowed.
	Disclosed []int
}

// Valid returns a Spec of a valid TCF 2.2 and v2.3 string created at
// created: service-specific, policy 5, consent for purposes 1-10,
// legitimate interest for 2 and 7, special feature 1, no vendor at all,
// and an empty disclosed vendors segment (set Disclosed to the vendors a
// test adds, or to nil for a string from before TCF v2.3).
func Valid(created time.Time) Spec {
	return Spec{
		Created: created, CMPID: 18, VendorListVer: 141, Policy: 5, ServiceSpecific: true,
		SpecialFeatures: []int{1}, PurposesConsent: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, PurposesLI: []int{2, 7},
		Disclosed: []int{},
	}
}

// Encode returns the TC string (base64url): the core segment, then the
// disclosed vendors segment if Disclosed is not nil.
func (s Spec) Encode() string {
	var w writer
	updated := s.LastUpdated
	if updated.IsZero() {
		updated = s.Created
	}
	w.put(2, 6)
	w.put(uint64(s.Created.UnixMilli()/100), 36)
	w.put(uint64(updated.UnixMilli()/100), 36)
	w.put(uint64(s.CMPID), 12)
	w.put(1, 12) // CMP version
	w.put(1, 6)  // consent screen
	w.letters("EN")
	w.put(uint64(s.VendorListVer), 12)
	w.put(uint64(s.Policy), 6)
	w.bool(s.ServiceSpecific)
	w.bool(false) // non-standard texts
	w.ids(s.SpecialFeatures, 12)
	w.ids(s.PurposesConsent, 24)
	w.ids(s.PurposesLI, 24)
	w.bool(false) // purpose one treatment
	w.letters("DE")
	w.vendors(s.VendorConsent)
	w.vendors(s.VendorLI)
	w.put(uint64(len(s.Restrictions)), 12)
	for _, r := range s.Restrictions {
		w.put(uint64(r.Purpose), 6)
		w.put(uint64(r.Type), 2)
		w.put(uint64(len(r.Vendors)), 12)
		for _, v := range r.Vendors {
			w.put(0, 1)
			w.put(uint64(v), 16)
		}
	}
	out := base64.RawURLEncoding.EncodeToString(w.b)
	if s.Disclosed != nil {
		var d writer
		d.put(1, 3) // segment type: disclosed vendors
		d.vendors(s.Disclosed)
		out += "." + base64.RawURLEncoding.EncodeToString(d.b)
	}
	return out
}

type writer struct {
	b []byte
	n int // bits written
}

func (w *writer) put(v uint64, n int) {
	for i := n - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.b = append(w.b, 0)
		}
		if v>>uint(i)&1 == 1 {
			w.b[len(w.b)-1] |= 0x80 >> uint(w.n%8)
		}
		w.n++
	}
}

func (w *writer) bool(b bool) {
	if b {
		w.put(1, 1)
	} else {
		w.put(0, 1)
	}
}

func (w *writer) ids(ids []int, n int) {
	for id := 1; id <= n; id++ {
		w.bool(slices.Contains(ids, id))
	}
}

func (w *writer) letters(s string) {
	w.put(uint64(s[0]-'A'), 6)
	w.put(uint64(s[1]-'A'), 6)
}

// vendors writes a bit-field vendor section up to the largest id.
func (w *writer) vendors(ids []int) {
	top := 0
	for _, id := range ids {
		top = max(top, id)
	}
	w.put(uint64(top), 16)
	w.put(0, 1)
	for id := 1; id <= top; id++ {
		w.bool(slices.Contains(ids, id))
	}
}
