package consent

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDecodeBuiltStrings(t *testing.T) {
	var tc TCString
	seeds := builtSeeds()

	// a: goodSpec, range-encoded consents, bit field LI.
	if err := tc.Decode([]byte(seeds[0])); err != nil {
		t.Fatal(err)
	}
	if got, want := tc.AppendVendorConsents(nil), []int{12, 14, 15, 16, 17, 18, 19, 20, 755}; !slices.Equal(got, want) {
		t.Fatalf("vendor consents %v; want %v", got, want)
	}
	if !tc.VendorConsentIsRange() || tc.VendorLIIsRange() || tc.MaxVendorConsent() != 755 || tc.MaxVendorLI() != 14 {
		t.Fatalf("vendor sections: range %v/%v max %d/%d", tc.VendorConsentIsRange(), tc.VendorLIIsRange(), tc.MaxVendorConsent(), tc.MaxVendorLI())
	}
	for id, want := range map[int]bool{0: false, 11: false, 12: true, 13: false, 14: true, 20: true, 21: false, 754: false, 755: true, 756: false, 65535: false, -1: false} {
		if tc.VendorConsent(id) != want {
			t.Fatalf("VendorConsent(%d) = %v", id, !want)
		}
	}
	if !tc.VendorLI(14) || tc.VendorLI(13) || tc.VendorLI(15) {
		t.Fatal("VendorLI")
	}
	if string(tc.ConsentLanguage[:]) != "EN" || string(tc.PublisherCC[:]) != "DE" || tc.CMPID != 18 || tc.PolicyVersion != 5 {
		t.Fatalf("header fields: %+v", tc)
	}
	if !tc.Created.Equal(time.Date(2026, 1, 13, 10, 0, 0, 0, time.UTC)) || tc.Created.Location() != time.UTC {
		t.Fatalf("created %v", tc.Created)
	}
	if !tc.SpecialFeatureOptIn(1) || !tc.SpecialFeatureOptIn(2) || tc.SpecialFeatureOptIn(3) || tc.SpecialFeatureOptIn(0) {
		t.Fatal("special features")
	}
	if !tc.PurposeConsent(11) || tc.PurposeConsent(12) || !tc.PurposeLI(7) || tc.PurposeLI(3) || tc.PurposeConsent(25) {
		t.Fatal("purposes")
	}
	if tc.HasDisclosedVendors() || tc.HasAllowedVendors() || tc.HasPublisherTC || tc.NumPubRestrictions() != 0 {
		t.Fatal("no later segments expected")
	}

	// b: bit field consents, range LI, restrictions and all later segments.
	if err := tc.Decode([]byte(seeds[1])); err != nil {
		t.Fatal(err)
	}
	if got := tc.AppendVendorConsents(nil); !slices.Equal(got, []int{1, 7, 40}) {
		t.Fatalf("vendor consents %v", got)
	}
	if !tc.VendorLI(2) || !tc.VendorLI(9) || tc.VendorLI(10) || !tc.VendorLI(100) || !tc.VendorLI(250) || tc.VendorLI(301) {
		t.Fatal("range LI lookups")
	}
	if tc.NumPubRestrictions() != 3 {
		t.Fatalf("restrictions %d", tc.NumPubRestrictions())
	}
	if r := tc.PubRestrictions(7); r != [4]uint32{1 << 6, 0, 1 << 3, 0} {
		t.Fatalf("restrictions on vendor 7: %v", r)
	}
	if r := tc.PubRestrictions(1); r != [4]uint32{0, 1 << 1, 0, 0} {
		t.Fatalf("restrictions on vendor 1: %v", r)
	}
	if r := tc.PubRestrictions(41); r != [4]uint32{} {
		t.Fatalf("restrictions on vendor 41: %v", r)
	}
	if !tc.HasDisclosedVendors() || !tc.VendorDisclosed(30) || !tc.VendorDisclosed(2) || tc.VendorDisclosed(4) || tc.VendorDisclosed(51) {
		t.Fatal("disclosed vendors")
	}
	if !tc.HasAllowedVendors() || !tc.VendorAllowed(9) || tc.VendorAllowed(3) {
		t.Fatal("allowed vendors")
	}
	if !tc.HasPublisherTC || tc.PubPurposesConsent != 1|1<<6|1<<23 || tc.PubPurposesLI != 1<<1 || tc.NumCustomPurposes != 40 ||
		tc.CustomPurposesConsent != 1|1<<32|1<<39 || tc.CustomPurposesLI != 1<<1|1<<38 {
		t.Fatalf("publisher TC: %+v", tc)
	}

	// Reuse: decoding a again gives a's answers, nothing left over from b.
	if err := tc.Decode([]byte(seeds[0])); err != nil {
		t.Fatal(err)
	}
	if tc.HasPublisherTC || tc.NumPubRestrictions() != 0 || tc.VendorConsent(1) || !tc.VendorConsent(755) {
		t.Fatal("state leaked between decodes")
	}
}

func TestDecodeErrors(t *testing.T) {
	f := func(s string, reason DecodeReason, msg string) {
		t.Helper()
		var tc TCString
		err := tc.Decode([]byte(s))
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("Decode(%.40q) = %v; want a *DecodeError", s, err)
		}
		if de.Reason != reason || err.Error() != msg {
			t.Fatalf("Decode(%.40q):\n got %v (%v)\nwant %s (%v)", s, err, de.Reason, msg, reason)
		}
	}
	good := goodSpec()
	enc := func(m func(*tcSpec)) string {
		s := goodSpec()
		m(&s)
		return s.encode()
	}
	core := good.encode()

	f("", ReasonEmpty, "character 0: empty segment")
	f(core+".", ReasonEmpty, "segment 2, character "+itoa(len(core)+1)+": empty segment")
	f(strings.Repeat("A", MaxTCStringLen+1), ReasonTooLong, "character 4096: string is 4097 characters, longer than the 4096 accepted")
	f("CO!x", ReasonBadChar, "character 2: '!' is not a base64url character")
	f(core[:20]+"="+core[21:], ReasonBadChar, "character 20: '=' is not a base64url character")
	f(core[:20]+"+"+core[21:], ReasonBadChar, "character 20: '+' is not a base64url character")
	f("COwGV", ReasonBadLength, "character 4: a base64url segment cannot be 5 characters long")
	f("BONJ5bvONJ5bvAMAPyFRAL7AAAAMhuqKklS-gAAAAAAAAAAAAAAAAAAAAAAAAAA", ReasonVersion, "bit 0: version is 1, only TCF v2 strings are supported")
	f("A", ReasonBadLength, "character 0: a base64url segment cannot be 1 characters long")
	f("AA", ReasonVersion, "bit 0: version is 0, only TCF v2 strings are supported")
	f(core[:8], ReasonTruncated, "bit 42: last updated runs past the end of the string")
	f(core[:34], ReasonTruncated, "bit 200: purpose one treatment runs past the end of the string")
	f(core[:35], ReasonTruncated, "bit 201: publisher country code runs past the end of the string")
	f(enc(func(s *tcSpec) { s.lang = "E[" }), ReasonLetter, "bit 114: consent language has letter value 26, not A-Z (0-25)")

	// Absurd MaxVendorId in a bit field: the string would need 65535 bits.
	f(enc(func(s *tcSpec) { s.vc = vendorSpec{max: 65535, ids: []int{1}}; s.omitPubRestrct = true })[:60],
		ReasonTruncated, "bit 230: vendor consent bit field of 65535 bits runs past the end of the string")
	// Absurd but harmless in a range encoding: 65535 is a legal vendor id.
	var tc TCString
	if err := tc.Decode([]byte(enc(func(s *tcSpec) { s.vc = vendorSpec{max: 65535, ranges: [][2]int{{65535, 65535}}} }))); err != nil || !tc.VendorConsent(65535) {
		t.Fatalf("range to 65535: %v", err)
	}

	f(enc(func(s *tcSpec) { s.vc.ranges = [][2]int{{0, 3}} }), ReasonRangeZero, "bit 242: vendor consent range entry starts at vendor 0")
	f(enc(func(s *tcSpec) { s.vc.ranges = [][2]int{{9, 5}} }), ReasonRangeReversed, "bit 242: vendor consent range entry ends at vendor 5, before its start 9")
	f(enc(func(s *tcSpec) { s.vc.ranges = [][2]int{{1, 756}} }), ReasonRangePastMax, "bit 242: vendor consent range entry ends at vendor 756, past MaxVendorId 755")
	f(enc(func(s *tcSpec) { s.vc.ranges = [][2]int{{1, 10}, {10, 12}} }), ReasonRangeUnsorted,
		"bit 275: vendor consent range entry starts at vendor 10, not after the previous entry's end 10 (entries must be sorted and not overlap)")
	f(enc(func(s *tcSpec) { s.vc.ranges = [][2]int{{20, 20}, {3, 3}} }), ReasonRangeUnsorted,
		"bit 259: vendor consent range entry starts at vendor 3, not after the previous entry's end 20 (entries must be sorted and not overlap)")
	f(enc(func(s *tcSpec) { s.vli = vendorSpec{max: 9, ranges: [][2]int{{2, 3}, {3, 4}}} }), ReasonRangeUnsorted,
		"bit 371: vendor legitimate interest range entry starts at vendor 3, not after the previous entry's end 3 (entries must be sorted and not overlap)")

	// A range entry cut off by the end of the string (the example).
	cut := enc(func(s *tcSpec) { s.vc.ranges = [][2]int{{1, 2}, {5, 9}}; s.omitPubRestrct = true; s.vli = vendorSpec{} })
	f(cut[:48], ReasonTruncated, "bit 275: vendor consent range entry runs past the end of the string")

	f(enc(func(s *tcSpec) { s.restrictions = []restriction{{purpose: 2, typ: 0, ranges: [][2]int{{8, 4}}}} }), ReasonRangeReversed,
		"bit 372: publisher restriction range entry ends at vendor 4, before its start 8")
	f(enc(func(s *tcSpec) { s.omitPubRestrct = true }), ReasonTruncated, "bit 340: publisher restriction runs past the end of the string")

	f(enc(func(s *tcSpec) { s.segments = []string{"AA"} }), ReasonSegmentType,
		"segment 2, bit 0: segment type 0 is not disclosed vendors (1), allowed vendors (2) or publisher TC (3)")
	f(enc(func(s *tcSpec) { s.segments = []string{"4A"} }), ReasonSegmentType,
		"segment 2, bit 0: segment type 7 is not disclosed vendors (1), allowed vendors (2) or publisher TC (3)")
	d := oobSegment(1, vendorSpec{max: 3, ids: []int{1}})
	f(enc(func(s *tcSpec) { s.segments = []string{d, d} }), ReasonSegmentRepeat, "segment 3, bit 0: segment type 1 appears twice")
	f(enc(func(s *tcSpec) {
		s.segments = []string{oobSegment(1, vendorSpec{max: 3, ranges: [][2]int{{2, 2}, {1, 1}}})}
	}), ReasonRangeUnsorted,
		"segment 2, bit 49: vendor list range entry starts at vendor 1, not after the previous entry's end 2 (entries must be sorted and not overlap)")
	f(enc(func(s *tcSpec) { s.segments = []string{oobSegment(1, vendorSpec{max: 700, ids: []int{1}})[:8]} }), ReasonTruncated,
		"segment 2, bit 20: vendor list bit field of 700 bits runs past the end of the string")
	f(enc(func(s *tcSpec) { s.segments = []string{publisherTCSegment(nil, nil, 40, nil, nil)[:12]} }), ReasonTruncated,
		"segment 2, bit 57: publisher TC segment runs past the end of the string")
}

func itoa(i int) string {
	b := []byte{}
	if i == 0 {
		return "0"
	}
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// TestDecodeNeverPanicsOnPrefixes decodes every prefix of every vector and
// built string: each must decode or fail with a *DecodeError.
func TestDecodeNeverPanicsOnPrefixes(t *testing.T) {
	var all []string
	for _, v := range loadTCFVectors(t) {
		all = append(all, v.TCString)
	}
	all = append(all, builtSeeds()...)
	var tc TCString
	for _, s := range all {
		for i := 0; i <= len(s); i++ {
			err := tc.Decode([]byte(s[:i]))
			var de *DecodeError
			if err != nil && (!errors.As(err, &de) || de.Error() == "") {
				t.Fatalf("%q: %v", s[:i], err)
			}
		}
	}
}

func TestDecodeReasonString(t *testing.T) {
	if ReasonRangeUnsorted.String() != "range_unsorted" || DecodeReason(200).String() != "reason(200)" {
		t.Fatal(ReasonRangeUnsorted.String())
	}
	for r := DecodeReason(0); r < numReasons; r++ {
		if r.String() == "" {
			t.Fatalf("reason %d has no name", r)
		}
	}
}

// TestFailedDecodeLeavesEmpty: after an error nothing from the partial
// decode is visible, and lookups stay inside the buffer.
func TestFailedDecodeLeavesEmpty(t *testing.T) {
	s := goodSpec()
	s.restrictions = []restriction{{purpose: 1, typ: 0, ranges: [][2]int{{1, 4095}}}}
	full := s.encode()
	var tc TCString
	if err := tc.Decode([]byte(full)); err != nil || tc.PubRestrictions(12)[0] != 1 {
		t.Fatalf("full string: %v %v", err, tc.PubRestrictions(12))
	}
	// Cut inside the restriction's range entry: the record count was read.
	if err := tc.Decode([]byte(full[:len(full)-4])); err == nil {
		t.Fatal("truncated string decoded")
	}
	if tc.NumPubRestrictions() != 0 || tc.PubRestrictions(12) != [4]uint32{} || tc.VendorConsent(12) || tc.CMPID != 0 || tc.Version != 0 {
		t.Fatalf("state after failure: %d restrictions, CMP %d", tc.NumPubRestrictions(), tc.CMPID)
	}
	// Evaluate empties the scratch when the event has no TC string.
	_ = tc.Decode([]byte(full))
	e, _ := NewEvaluator(Options{})
	e.Evaluate(&Signals{GCS: []byte("G111")}, &tc)
	if tc.Version != 0 || tc.VendorConsent(12) {
		t.Fatal("scratch kept the previous string")
	}
}
