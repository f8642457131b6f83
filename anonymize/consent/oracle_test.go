package consent

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/LiveRamp/iabconsent"
)

// The differential tests feed the same strings to Decode and to
// github.com/LiveRamp/iabconsent v0.6.0 (test-only oracle: strict and
// fuzz-clean, but it allocates per field) and compare every field both decode.
//
// Where the two disagree on acceptance, the difference must be one of these,
// all deliberate:
//   - we are stricter: range entries that start at 0, run backwards, pass
//     MaxVendorId, overlap or are unsorted; language/country letters outside
//     A-Z; strings longer than MaxTCStringLen;
//   - iabconsent returns only the last segment's reader error, so a
//     truncated segment followed by another segment passes there;
//   - iabconsent rejects TCF 2.2 strings with legitimate interest for
//     purposes 3-6 while decoding; we decode them and report Problems.

func oracleCompare(t *testing.T, s string) {
	t.Helper()
	var tc TCString
	err := tc.Decode([]byte(s))
	p, oerr := iabconsent.ParseV2(s)
	var de *DecodeError
	switch {
	case err != nil && oerr != nil:
		return
	case err == nil && oerr != nil:
		if strings.Contains(oerr.Error(), "invalid PurposesLIT") &&
			tc.Problems()&(ProblemLIPurpose3|ProblemLIPurpose4|ProblemLIPurpose5|ProblemLIPurpose6) != 0 {
			return
		}
		t.Fatalf("%q: we decode, iabconsent says %v", s, oerr)
	case err != nil:
		if !errors.As(err, &de) {
			t.Fatalf("%q: error %v is not a *DecodeError", s, err)
		}
		switch de.Reason {
		case ReasonRangeZero, ReasonRangeReversed, ReasonRangePastMax, ReasonRangeUnsorted, ReasonLetter, ReasonTooLong:
			return // stricter than iabconsent
		case ReasonTruncated:
			if de.Segment < strings.Count(s, ".") {
				return // iabconsent drops errors of all but the last segment
			}
		}
		t.Fatalf("%q: we fail with %v (%v), iabconsent decodes it", s, err, de.Reason)
	}

	fail := func(name string, got, want any) {
		t.Helper()
		t.Fatalf("%q: %s = %v; iabconsent %v", s, name, got, want)
	}
	eq := func(name string, got, want any) {
		t.Helper()
		if got != want {
			fail(name, got, want)
		}
	}
	eq("Version", int(tc.Version), p.Version)
	if !tc.Created.Equal(p.Created) {
		fail("Created", tc.Created, p.Created)
	}
	if !tc.LastUpdated.Equal(p.LastUpdated) {
		fail("LastUpdated", tc.LastUpdated, p.LastUpdated)
	}
	eq("CMPID", int(tc.CMPID), p.CMPID)
	eq("CMPVersion", int(tc.CMPVersion), p.CMPVersion)
	eq("ConsentScreen", int(tc.ConsentScreen), p.ConsentScreen)
	eq("ConsentLanguage", string(tc.ConsentLanguage[:]), p.ConsentLanguage)
	eq("VendorListVersion", int(tc.VendorListVersion), p.VendorListVersion)
	eq("PolicyVersion", int(tc.PolicyVersion), p.TCFPolicyVersion)
	eq("IsServiceSpecific", tc.IsServiceSpecific, p.IsServiceSpecific)
	eq("UseNonStandardTexts", tc.UseNonStandardTexts, p.UseNonStandardStacks)
	eq("SpecialFeatureOptIns", uint64(tc.SpecialFeatureOptIns), mapMask(p.SpecialFeaturesOptIn))
	eq("PurposesConsent", uint64(tc.PurposesConsent), mapMask(p.PurposesConsent))
	eq("PurposesLI", uint64(tc.PurposesLI), mapMask(p.PurposesLITransparency))
	eq("PurposeOneTreatment", tc.PurposeOneTreatment, p.PurposeOneTreatment)
	eq("PublisherCC", string(tc.PublisherCC[:]), p.PublisherCC)

	eq("MaxVendorConsent", tc.MaxVendorConsent(), p.MaxConsentVendorID)
	eq("VendorConsentIsRange", tc.VendorConsentIsRange(), p.IsConsentRangeEncoding)
	vc := oracleSet(p.MaxConsentVendorID, p.ConsentedVendors, p.IsConsentRangeEncoding, p.ConsentedVendorsRange)
	for id := 0; id <= tc.MaxVendorConsent()+1; id++ {
		eq("VendorConsent", tc.VendorConsent(id), vc[id])
	}
	eq("MaxVendorLI", tc.MaxVendorLI(), p.MaxInterestsVendorID)
	eq("VendorLIIsRange", tc.VendorLIIsRange(), p.IsInterestsRangeEncoding)
	vli := oracleSet(p.MaxInterestsVendorID, p.InterestsVendors, p.IsInterestsRangeEncoding, p.InterestsVendorsRange)
	for id := 0; id <= tc.MaxVendorLI()+1; id++ {
		eq("VendorLI", tc.VendorLI(id), vli[id])
	}

	eq("NumPubRestrictions", tc.NumPubRestrictions(), p.NumPubRestrictions)
	probe := map[int]bool{0: true, 1: true, 65535: true}
	// Probe around the first entries' bounds: PubRestrictions scans every
	// record, so probing all of thousands of entries would be quadratic.
	for _, r := range p.PubRestrictionEntries {
		for _, e := range r.RestrictionsRange {
			if len(probe) > 200 {
				break
			}
			for _, id := range []int{e.StartVendorID - 1, e.StartVendorID, e.EndVendorID, e.EndVendorID + 1} {
				probe[id] = true
			}
		}
	}
	for id := range probe {
		var want [4]uint32
		for _, r := range p.PubRestrictionEntries {
			if r.PurposeID >= 1 && r.PurposeID <= 24 && inOracleRanges(id, r.RestrictionsRange) {
				want[r.RestrictionType] |= 1 << uint(r.PurposeID-1)
			}
		}
		eq("PubRestrictions", tc.PubRestrictions(id), want)
	}

	oob := func(name string, has bool, in func(int) bool, l *iabconsent.OOBVendorList) {
		t.Helper()
		eq(name+" present", has, l != nil)
		if l == nil {
			return
		}
		set := oracleSet(l.MaxVendorID, l.Vendors, l.IsRangeEncoding, l.VendorEntries)
		for id := 1; id <= l.MaxVendorID+1; id++ { // 0 is no vendor; later segments may name it
			eq(name, in(id), set[id])
		}
	}
	oob("DisclosedVendors", tc.HasDisclosedVendors(), tc.VendorDisclosed, p.OOBDisclosedVendors)
	oob("AllowedVendors", tc.HasAllowedVendors(), tc.VendorAllowed, p.OOBAllowedVendors)

	eq("HasPublisherTC", tc.HasPublisherTC, p.PublisherTCEntry != nil)
	if p.PublisherTCEntry != nil {
		eq("PubPurposesConsent", uint64(tc.PubPurposesConsent), mapMask(p.PubPurposesConsent))
		eq("PubPurposesLI", uint64(tc.PubPurposesLI), mapMask(p.PubPurposesLITransparency))
		eq("NumCustomPurposes", int(tc.NumCustomPurposes), p.NumCustomPurposes)
		eq("CustomPurposesConsent", tc.CustomPurposesConsent, mapMask(p.CustomPurposesConsent))
		eq("CustomPurposesLI", tc.CustomPurposesLI, mapMask(p.CustomPurposesLITransparency))
	}
}

func mapMask(m map[int]bool) uint64 {
	var v uint64
	for id, ok := range m {
		if ok {
			v |= 1 << uint(id-1)
		}
	}
	return v
}

// oracleSet expands iabconsent's bit field map or range entries into a
// lookup table for ids 0 to max+1, in time linear in max and the entries
// (a difference array, so overlapping ranges cost nothing extra).
func oracleSet(maxID int, bits map[int]bool, isRange bool, rs []*iabconsent.RangeEntry) []bool {
	set := make([]bool, maxID+2)
	if !isRange {
		for id, ok := range bits {
			if ok && id >= 0 && id < len(set) {
				set[id] = true
			}
		}
		return set
	}
	diff := make([]int, len(set)+1)
	for _, r := range rs {
		lo, hi := max(r.StartVendorID, 0), min(r.EndVendorID, len(set)-1)
		if lo <= hi {
			diff[lo]++
			diff[hi+1]--
		}
	}
	n := 0
	for id := range set {
		n += diff[id]
		set[id] = n > 0
	}
	return set
}

func inOracleRanges(id int, rs []*iabconsent.RangeEntry) bool {
	for _, r := range rs {
		if r.StartVendorID <= id && id <= r.EndVendorID {
			return true
		}
	}
	return false
}

func TestOracleVectors(t *testing.T) {
	for _, v := range loadTCFVectors(t) {
		oracleCompare(t, v.TCString)
	}
	for _, s := range builtSeeds() {
		oracleCompare(t, s)
	}
}

// FuzzTCStringOracle is the differential fuzz test: the fuzzer mutates the
// decoded bytes of the core segment and of one later segment, so that its
// mutations hit the bit structure rather than the base64 text.
func FuzzTCStringOracle(f *testing.F) {
	for _, v := range loadTCFVectors(f) {
		core, seg, _ := strings.Cut(v.TCString, ".")
		seg, _, _ = strings.Cut(seg, ".")
		c, err1 := base64.RawURLEncoding.DecodeString(core)
		s, err2 := base64.RawURLEncoding.DecodeString(seg)
		if err1 == nil && err2 == nil {
			f.Add(c, s)
		}
	}
	for _, s := range builtSeeds() {
		core, seg, _ := strings.Cut(s, ".")
		c, _ := base64.RawURLEncoding.DecodeString(core)
		sg, _ := base64.RawURLEncoding.DecodeString(seg)
		f.Add(c, sg)
	}
	f.Fuzz(func(t *testing.T, core, seg []byte) {
		s := base64.RawURLEncoding.EncodeToString(core)
		if len(seg) > 0 {
			s += "." + base64.RawURLEncoding.EncodeToString(seg)
		}
		oracleCompare(t, s)
	})
}
