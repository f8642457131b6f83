package consent

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize/consent/tctest"
)

func mask(ids ...int) uint32 {
	var m uint32
	for _, id := range ids {
		m |= 1 << uint(id-1)
	}
	return m
}

// TestCheckVendorMatrix runs one vendor (consent for purposes 1, 3 and 4,
// legitimate interest for 7, which is flexible, and special feature 1)
// through TC strings that switch vendor consent, vendor legitimate interest,
// purpose consent and legitimate interest, publisher restrictions and the
// special feature opt-in one at a time.
func TestCheckVendorMatrix(t *testing.T) {
	const id = 755
	vendor := Vendor{ID: id, Consent: mask(1, 3, 4), LI: mask(7), Flexible: mask(7), SpecialFeatures: 1}
	created := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	base := func() tctest.Spec {
		s := tctest.Valid(created)
		s.VendorConsent, s.VendorLI = []int{12, id}, []int{id}
		s.Disclosed = []int{12, id}
		return s
	}
	for _, c := range []struct {
		name   string
		change func(*tctest.Spec)
		v      *Vendor
		want   VendorVerdict
	}{
		{"everything granted", func(*tctest.Spec) {}, nil, VendorVerdict{}},
		{"vendor consent off", func(s *tctest.Spec) { s.VendorConsent = []int{12} }, nil, VendorVerdict{VendorNoConsent, 0}},
		{"vendor LI off", func(s *tctest.Spec) { s.VendorLI = nil }, nil, VendorVerdict{VendorNoLI, 0}},
		{"vendor consent off, LI-only vendor", func(s *tctest.Spec) { s.VendorConsent = nil },
			&Vendor{ID: id, LI: mask(7)}, VendorVerdict{}},
		{"purpose 3 consent off", func(s *tctest.Spec) { s.PurposesConsent = []int{1, 2, 4, 5, 6, 7, 8, 9, 10} }, nil, VendorVerdict{VendorNoPurposeConsent, 3}},
		{"purpose 7 LI off", func(s *tctest.Spec) { s.PurposesLI = []int{2} }, nil, VendorVerdict{VendorNoPurposeLI, 7}},
		{"restriction: purpose 3 not allowed", func(s *tctest.Spec) {
			s.Restrictions = []tctest.Restriction{{Purpose: 3, Type: 0, Vendors: []int{id}}}
		}, nil, VendorVerdict{VendorRestricted, 3}},
		{"restriction on another vendor", func(s *tctest.Spec) {
			s.Restrictions = []tctest.Restriction{{Purpose: 3, Type: 0, Vendors: []int{12}}}
		}, nil, VendorVerdict{}},
		{"restriction: flexible 7 requires consent, granted", func(s *tctest.Spec) {
			s.Restrictions = []tctest.Restriction{{Purpose: 7, Type: 1, Vendors: []int{id}}}
			s.PurposesLI = nil // LI no longer matters
		}, nil, VendorVerdict{}},
		{"restriction: flexible 7 requires consent, no vendor consent", func(s *tctest.Spec) {
			s.Restrictions = []tctest.Restriction{{Purpose: 7, Type: 1, Vendors: []int{id}}}
			s.VendorConsent = nil
		}, &Vendor{ID: id, LI: mask(7), Flexible: mask(7)}, VendorVerdict{VendorNoConsent, 0}},
		{"restriction: non-flexible 7 requires consent", func(s *tctest.Spec) {
			s.Restrictions = []tctest.Restriction{{Purpose: 7, Type: 1, Vendors: []int{id}}}
		}, &Vendor{ID: id, Consent: mask(1), LI: mask(7)}, VendorVerdict{VendorRestricted, 7}},
		{"restriction: purpose 1 requires LI", func(s *tctest.Spec) {
			s.Restrictions = []tctest.Restriction{{Purpose: 1, Type: 2, Vendors: []int{id}}}
		}, &Vendor{ID: id, Consent: mask(1), Flexible: mask(1)}, VendorVerdict{VendorRestricted, 1}},
		{"special feature 1 off", func(s *tctest.Spec) { s.SpecialFeatures = nil }, nil, VendorVerdict{VendorNoSpecialFeature, 1}},
		{"special feature 1 off, vendor without it", func(s *tctest.Spec) { s.SpecialFeatures = nil },
			&Vendor{ID: id, Consent: mask(1, 3, 4), LI: mask(7)}, VendorVerdict{}},
		{"declares nothing, no vendor consent", func(s *tctest.Spec) { s.VendorConsent = nil }, &Vendor{ID: id}, VendorVerdict{VendorNoConsent, 0}},
		// TCF v2.3: a vendor the CMP did not disclose was never shown to the
		// visitor, so its consent and legitimate interest bits count for nothing.
		{"not disclosed", func(s *tctest.Spec) { s.Disclosed = []int{12} }, nil, VendorVerdict{VendorNotDisclosed, 0}},
		{"not disclosed, LI-only vendor", func(s *tctest.Spec) { s.Disclosed = []int{12, id + 1} },
			&Vendor{ID: id, LI: mask(7)}, VendorVerdict{VendorNotDisclosed, 0}},
		{"not disclosed, declares nothing", func(s *tctest.Spec) { s.Disclosed = []int{} }, &Vendor{ID: id}, VendorVerdict{VendorNotDisclosed, 0}},
		{"disclosed, nothing else", func(s *tctest.Spec) { s.Disclosed = []int{id} }, nil, VendorVerdict{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := base()
			c.change(&s)
			var tc TCString
			if err := tc.Decode([]byte(s.Encode())); err != nil {
				t.Fatal(err)
			}
			if p := tc.Problems(); p != 0 {
				t.Fatalf("test string breaks TCF 2.2: %v", p)
			}
			v := &vendor
			if c.v != nil {
				v = c.v
			}
			if got := CheckVendor(&tc, v); got != c.want {
				t.Fatalf("verdict %v %d (%s); want %v %d", got.Reason, got.ID, got.Explain(id), c.want.Reason, c.want.ID)
			}
		})
	}
	if got := (VendorVerdict{VendorNoConsent, 0}).Explain(id); got != "no vendor consent for vendor 755" {
		t.Errorf("Explain: %q", got)
	}
	if got := (VendorVerdict{VendorNotDisclosed, 0}).Explain(id); !strings.Contains(got, "vendor 755 is not in the TC string's disclosed vendors") {
		t.Errorf("Explain: %q", got)
	}
	if VendorNotDisclosed.String() != "not_disclosed" {
		t.Errorf("String: %q", VendorNotDisclosed.String())
	}
}

// TestCheckVendorBeforeTCF23: a string last updated before 2026-02-28 may
// lack the disclosed vendors segment (the TCF v2.3 transition); it is then
// valid and its vendor bits count as before.
func TestCheckVendorBeforeTCF23(t *testing.T) {
	const id = 755
	s := tctest.Valid(time.Date(2026, 2, 27, 23, 59, 59, 0, time.UTC))
	s.VendorConsent, s.VendorLI, s.Disclosed = []int{id}, []int{id}, nil
	var tc TCString
	if err := tc.Decode([]byte(s.Encode())); err != nil {
		t.Fatal(err)
	}
	if p := tc.Problems(); p != 0 || tc.HasDisclosedVendors() {
		t.Fatalf("problems %v, segment %v", p, tc.HasDisclosedVendors())
	}
	v := Vendor{ID: id, Consent: mask(1, 3, 4), LI: mask(7), SpecialFeatures: 1}
	if got := CheckVendor(&tc, &v); got != (VendorVerdict{}) {
		t.Fatalf("verdict %v", got.Explain(id))
	}
}

const sampleGVL = `{"gvlSpecificationVersion":3,"vendorListVersion":141,"vendors":{
 "755":{"id":755,"name":"Partner","purposes":[1,3,4],"legIntPurposes":[7],"flexiblePurposes":[7],"specialPurposes":[1],"features":[],"specialFeatures":[1]},
 "12":{"id":12,"name":"Gone","purposes":[1],"deletedDate":"2025-01-01T00:00:00Z"}}}`

// TestParseGVL reads a vendor list and refuses malformed ones with errors
// that name the field.
func TestParseGVL(t *testing.T) {
	g, err := ParseGVL([]byte(sampleGVL))
	if err != nil {
		t.Fatal(err)
	}
	v, ok := g.Vendor(755)
	want := Vendor{ID: 755, Consent: mask(1, 3, 4), LI: mask(7), Flexible: mask(7), SpecialFeatures: 1}
	if !ok || v != want || g.Version != 141 {
		t.Fatalf("vendor 755 %+v %v, version %d; want %+v", v, ok, g.Version, want)
	}
	if _, ok := g.Vendor(12); ok {
		t.Error("a deleted vendor is listed")
	}
	for _, c := range []struct{ in, want string }{
		{`{`, "not JSON"},
		{`{"vendorListVersion":"x"}`, "vendorListVersion: string where a whole number is wanted"},
		{`{"vendors":{"1":{"id":1}}}`, "vendorListVersion"},
		{`{"vendorListVersion":3}`, "vendors missing"},
		{`{"vendorListVersion":3,"vendors":{"1":{"id":2}}}`, "key is not the vendor's id"},
		{`{"vendorListVersion":3,"vendors":{"1":{"id":1,"purposes":[25]}}}`, "vendor 1: purposes"},
		{`{"vendorListVersion":3,"vendors":{"1":{"id":1,"legIntPurposes":[1]}}}`, "purpose 1"},
		{`{"vendorListVersion":3,"vendors":{"1":{"id":1,"purposes":[2],"legIntPurposes":[2]}}}`, "both"},
		{`{"vendorListVersion":3,"vendors":{"1":null}}`, "null"},
	} {
		if _, err := ParseGVL([]byte(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v; want one containing %q", c.in, err, c.want)
		}
	}
}

// TestGVLTypeErrorNamesTheField: a field of the wrong JSON type was
// "a field has the wrong JSON type", naming none: in a list of 1.5 MB
// (the IAB's, or one edited by hand) nothing said where to look. The
// error names the field, and never the value.
func TestGVLTypeErrorNamesTheField(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"vendorListVersion":3,"vendors":{"7":{"id":7,"purposes":[1,"2"]}}}`, "vendor list: vendors.purposes: string where a whole number is wanted"},
		{`{"vendorListVersion":3,"vendors":{"7":{"id":7,"specialFeatures":{}}}}`, "vendor list: vendors.specialFeatures: object where a list is wanted"},
		{`{"vendorListVersion":3,"vendors":{"7":{"id":1e99}}}`, "vendor list: vendors.id: number where a whole number is wanted"},
		{`{"vendorListVersion":3,"vendors":[]}`, "vendor list: vendors: array where an object is wanted"},
		{`{"vendorListVersion":3,"vendors":{"7":{"id":7,"deletedDate":20240101}}}`, "vendor list: vendors.deletedDate: number where a string is wanted"},
		{`[1]`, "vendor list: the top level: array where an object is wanted"},
	} {
		_, err := ParseGVL([]byte(c.in))
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: error %v; want %q", c.in, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "1e99") {
			t.Errorf("%s: the error quotes the value: %v", c.in, err)
		}
	}
}

// FuzzParseGVL: any input gives a list or an error, never a panic; an
// error names the field at fault (or the offset, the size), and a list's
// vendors never declare legitimate interest for purpose 1.
func FuzzParseGVL(f *testing.F) {
	f.Add([]byte(sampleGVL))
	f.Add([]byte(`{"vendorListVersion":1,"vendors":{"1":{"id":1,"purposes":[1,2],"specialFeatures":[2]}}}`))
	f.Add([]byte(`{"vendorListVersion":1,"vendors":{"65535":{"id":65535}}}`))
	f.Add([]byte(`{"vendorListVersion":1,"vendors":{"1":{"id":1,"legIntPurposes":[true]}}}`))
	names := regexp.MustCompile(`^vendor list: (not JSON \(offset [0-9]+\)|larger than|vendorListVersion|vendors|vendor [0-9]+: |the top level)`)
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ParseGVL(data)
		if err != nil {
			if !names.MatchString(err.Error()) {
				t.Fatalf("the error names no field: %v", err)
			}
			return
		}
		for id := range g.vendors {
			if v, _ := g.Vendor(id); v.LI&1 != 0 || v.Consent&v.LI != 0 {
				t.Fatalf("vendor %d: %+v", id, v)
			}
		}
	})
}
