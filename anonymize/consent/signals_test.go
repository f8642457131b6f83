package consent

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/LiveRamp/iabconsent"
)

// otherSignals is testdata/other-signals.json, copied from
// ../shared/testdata/consent (facts from the public specs and test suites).
type otherSignals struct {
	GCS struct {
		Vectors map[string]struct {
			AdStorage        bool `json:"ad_storage"`
			AnalyticsStorage bool `json:"analytics_storage"`
		} `json:"vectors"`
	} `json:"gcs"`
	GCD struct {
		Vectors map[string]string `json:"vectors"`
	} `json:"gcd"`
	USPrivacy struct {
		Vectors map[string]struct {
			Notice     *bool `json:"notice"`
			OptOutSale *bool `json:"opt_out_sale"`
			Applies    *bool `json:"applies"`
		} `json:"vectors"`
		Invalid []string `json:"invalid"`
	} `json:"us_privacy"`
	GPPHeader struct {
		Vectors         map[string][]int `json:"vectors"`
		ExampleURLQuery string           `json:"example_url_query"`
	} `json:"gpp_header"`
}

func loadOtherSignals(t testing.TB) otherSignals {
	t.Helper()
	b, err := os.ReadFile("testdata/other-signals.json")
	if err != nil {
		t.Fatal(err)
	}
	var o otherSignals
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

func state(granted bool) ModeState {
	if granted {
		return ModeGranted
	}
	return ModeDenied
}

func TestGCSVectors(t *testing.T) {
	o := loadOtherSignals(t)
	if len(o.GCS.Vectors) != 4 {
		t.Fatalf("%d gcs vectors", len(o.GCS.Vectors))
	}
	for s, v := range o.GCS.Vectors {
		m, err := ParseGCS([]byte(s))
		want := ConsentMode{AdStorage: state(v.AdStorage), AnalyticsStorage: state(v.AnalyticsStorage)}
		if err != nil || m != want {
			t.Fatalf("ParseGCS(%q) = %+v, %v; want %+v", s, m, err, want)
		}
	}
	for _, s := range []string{"", "G1", "G10", "G1000", "G120", "G2 11", "g111", "G1-1", "H111"} {
		if _, err := ParseGCS([]byte(s)); err != ErrGCS {
			t.Fatalf("ParseGCS(%q) err = %v", s, err)
		}
	}
}

func TestGCDVectors(t *testing.T) {
	o := loadOtherSignals(t)
	if len(o.GCD.Vectors) != 4 {
		t.Fatalf("%d gcd vectors", len(o.GCD.Vectors))
	}
	for s, desc := range o.GCD.Vectors {
		m, err := ParseGCD([]byte(s))
		if err != nil {
			t.Fatalf("ParseGCD(%q): %v", s, err)
		}
		want := ModeDenied
		if strings.Contains(desc, "granted") {
			want = ModeGranted
		}
		if m != (ConsentMode{want, want, want, want}) {
			t.Fatalf("ParseGCD(%q) = %+v; want all %v (%s)", s, m, want, desc)
		}
	}
	// Each letter: default (v>>2)&3, update v&3; 1 unset, 2 denied, 3 granted.
	letters := map[byte]ModeState{'l': ModeDenied, 'm': ModeDenied, 'n': ModeGranted, 'p': ModeDenied, 'q': ModeDenied,
		'r': ModeGranted, 't': ModeGranted, 'u': ModeDenied, 'v': ModeGranted}
	for c, want := range letters {
		s := []byte("13l3l3l3l5")
		s[6] = c // ad_user_data
		m, err := ParseGCD(s)
		if err != nil || m.AdUserData != want || m.AdStorage != ModeDenied {
			t.Fatalf("ParseGCD(%q) = %+v, %v; want ad_user_data %v", s, m, err, want)
		}
	}
	m, _ := ParseGCD([]byte("13v3q3n3p5l1"))
	if m != (ConsentMode{ModeGranted, ModeDenied, ModeGranted, ModeDenied}) {
		t.Fatalf("positions: %+v", m)
	}
	for _, s := range []string{"", "13l3l3l3", "13k3l3l3l5", "13l3o3l3l5", "13l3l3s3l5", "13l3l3l3A5", "13l3l3l3h5", "13l3l3l3l5!", "13l3l3l3l5" + strings.Repeat("1", 60)} {
		if _, err := ParseGCD([]byte(s)); err != ErrGCD {
			t.Fatalf("ParseGCD(%q) err = %v", s, err)
		}
	}
}

func TestConsentModePurposes(t *testing.T) {
	f := func(gcs, gcd string, want Purposes) {
		t.Helper()
		var m ConsentMode
		if gcs != "" {
			x, err := ParseGCS([]byte(gcs))
			if err != nil {
				t.Fatal(err)
			}
			m = m.Merge(x)
		}
		if gcd != "" {
			x, err := ParseGCD([]byte(gcd))
			if err != nil {
				t.Fatal(err)
			}
			m = m.Merge(x)
		}
		if got := m.Purposes(); got != want {
			t.Fatalf("gcs %q gcd %q: %v; want %v", gcs, gcd, got, want)
		}
	}
	f("G111", "", Of(Analytics, DeviceStorage)) // gcs alone says nothing of ad_user_data: no ads
	f("G101", "", Of(Analytics))
	f("G110", "", 0)
	f("G100", "", 0)
	f("", "11t1t1t1t5", Of(Analytics, Ads, DeviceStorage))
	f("", "13r3r3r3q5", Of(Analytics, DeviceStorage)) // ad_personalization denied: no ads
	f("", "13r3r3q3r5", Of(Analytics, DeviceStorage)) // ad_user_data denied: no ads
	f("G111", "13r3q3r3r5", Of(Ads))                  // gcd denies analytics: the more restrictive wins
	f("G101", "11t1t1t1t5", Of(Analytics))            // gcs denies ad_storage
}

func TestUSPrivacyVectors(t *testing.T) {
	o := loadOtherSignals(t)
	for s, v := range o.USPrivacy.Vectors {
		u, err := ParseUSPrivacy([]byte(s))
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if v.Notice != nil && (u.Notice == FlagYes) != *v.Notice {
			t.Fatalf("%q notice %v", s, u.Notice)
		}
		if v.OptOutSale != nil && u.OptedOutOfSale() != *v.OptOutSale {
			t.Fatalf("%q opt out %v", s, u.OptOutSale)
		}
		if v.Applies != nil && u.Applies() != *v.Applies {
			t.Fatalf("%q applies %v", s, u.Applies())
		}
	}
	if len(o.USPrivacy.Invalid) < 6 {
		t.Fatal("invalid vectors missing")
	}
	for _, s := range append(o.USPrivacy.Invalid, "1YN ", "0YNN") {
		if _, err := ParseUSPrivacy([]byte(s)); err != ErrUSPrivacy {
			t.Fatalf("%q: err %v", s, err)
		}
	}
}

func TestGPPHeaderVectors(t *testing.T) {
	o := loadOtherSignals(t)
	if len(o.GPPHeader.Vectors) != 3 {
		t.Fatal("gpp vectors missing")
	}
	for s, ids := range o.GPPHeader.Vectors {
		h, err := ParseGPPHeader([]byte(s))
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		var want GPPSections
		for _, id := range ids {
			want |= 1 << uint(id)
		}
		if h.Sections != want || h.Version != 1 {
			t.Fatalf("%q: %+v; want sections %v", s, h, ids)
		}
	}
	// The example query: gpp=DBACNYA~<TC string>~1YNN&gpp_sid=2
	q := o.GPPHeader.ExampleURLQuery
	gpp := q[len("gpp="):strings.Index(q, "&")]
	h, err := ParseGPPHeader([]byte(gpp))
	if err != nil || !h.Sections.Has(2) || !h.Sections.Has(6) || h.Sections.Len() != 2 {
		t.Fatalf("example header %+v %v", h, err)
	}
	tc, err1 := GPPSection([]byte(gpp), h, 2)
	usp, err2 := GPPSection([]byte(gpp), h, 6)
	none, err3 := GPPSection([]byte(gpp), h, 7)
	if err1 != nil || err2 != nil || err3 != nil || string(tc) != "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA" || string(usp) != "1YNN" || none != nil {
		t.Fatalf("sections %q %q %q %v %v %v", tc, usp, none, err1, err2, err3)
	}
	var d TCString
	if err := d.Decode(tc); err != nil {
		t.Fatalf("tcfeuv2 section: %v", err)
	}
	if _, err := GPPSection([]byte("DBACNYA~x"), h, 2); err != ErrGPPSections {
		t.Fatalf("count mismatch: %v", err)
	}
	if sid, err := ParseGPPSID([]byte(q[strings.Index(q, "gpp_sid=")+8:])); err != nil || sid != 1<<2 {
		t.Fatalf("gpp_sid %b %v", sid, err)
	}

	bad := map[string]error{"": ErrGPPHeader, "D": ErrGPPHeader, "DB!BM": ErrGPPHeader, "ABABM": ErrGPPHeader,
		"DCABM": ErrGPPVersion, "DBAB": ErrGPPHeader, "DBABRG": ErrGPPSection /* section 64 */}
	if h, err := ParseGPPHeader([]byte("DBABBG")); err != nil || h.Sections != 1<<63 {
		t.Fatalf("section 63: %b %v", h.Sections, err)
	}
	for s, want := range bad {
		if _, err := ParseGPPHeader([]byte(s)); err != want {
			t.Fatalf("ParseGPPHeader(%q) = %v; want %v", s, err, want)
		}
	}
}

func TestGPPSID(t *testing.T) {
	f := func(s string, want GPPSections, wantErr bool) {
		t.Helper()
		got, err := ParseGPPSID([]byte(s))
		if got != want || (err != nil) != wantErr {
			t.Fatalf("ParseGPPSID(%q) = %b, %v", s, got, err)
		}
	}
	f("2", 1<<2, false)
	f("2,6,7", 1<<2|1<<6|1<<7, false)
	f("-1", 0, false)
	f("63", 1<<63, false)
	f("", 0, true)
	f("0", 0, true)
	f("64", 0, true)
	f("2,", 0, true)
	f(",2", 0, true)
	f("2;6", 0, true)
	f("1000", 0, true)
	f("-2", 0, true)
}

// TestGPPAgainstOracle compares ParseGPPHeader and ParseUSNat with
// iabconsent on its own fixtures.
func TestGPPAgainstOracle(t *testing.T) {
	for _, s := range gppSeeds {
		gppOracleCompare(t, s)
	}
}

var gppSeeds = []string{
	"DBABM", "DBACNY", "DBABjw", "DBABLA~BVVqAAEABCA", "DBABLA~BVVqAAEABCA.QA", "DBABLA~BVVqAAEABCA.YA",
	"DBABLA~CVVVVVVVVVVW.YA", "DBABLA~BqqAqqqqqqA", "DBACLMA~BVVqAAEABCA~BVoYYYI", "DBABzw~1YNN~BVVqAAEABCA.QA",
	"DBABrGA~BVVqAAEABCA~BVoYYZoI~BVoYYYI~BVoYYQg~BVaGGGCA~BVoYYYQg",
	"DBACNY~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN",
}

// knownChildInvalid reports whether iabconsent kept the invalid value 3 in
// a KnownChildSensitiveDataConsents field, which ParseUSNat rejects.
func knownChildInvalid(p *iabconsent.MspaParsedConsent) bool {
	for _, c := range p.KnownChildSensitiveDataConsents {
		if c == 3 {
			return true
		}
	}
	return false
}

func gppOracleCompare(t *testing.T, s string) {
	t.Helper()
	if strings.ContainsAny(s, "\r\n") {
		// encoding/base64, under iabconsent, skips \r and \n; they are not
		// base64url characters, so we reject such a string as malformed.
		return
	}
	hdr, _, _ := strings.Cut(s, "~")
	h, err := ParseGPPHeader([]byte(s))
	if err != nil && len(hdr) > 8 {
		// iabconsent appends every id of a Fibonacci range, so a header we
		// reject for a huge range can make it allocate without bound
		// (found by FuzzGPP: it ran out of memory). Up to 8 characters
		// leave at most 24 bits of ranges, which it handles.
		return
	}
	oh, oerr := iabconsent.ParseGppHeader(hdr)
	switch {
	case err != nil && oerr != nil:
		return
	case err == nil && oerr != nil:
		// iabconsent appends one 'A' and decodes bytes, which fails when
		// the header length is a multiple of 4.
		if len(hdr)%4 == 0 {
			return
		}
		t.Fatalf("%q: we decode the header, iabconsent: %v", s, oerr)
	case err != nil:
		// iabconsent reads the bits of the padding 'A' as zeros, and
		// accepts section ids above 63.
		if errors.Is(err, ErrGPPSection) || errors.Is(err, ErrGPPHeader) {
			return
		}
		t.Fatalf("%q: header %v; iabconsent decodes %v", s, err, oh.Sections)
	}
	var want GPPSections
	for _, id := range oh.Sections {
		want |= 1 << uint(id)
	}
	if h.Sections != want || int(h.Version) != oh.Version {
		t.Fatalf("%q: sections %b; iabconsent %v", s, h.Sections, oh.Sections)
	}
	if !h.Sections.Has(GPPSectionUSNat) {
		return
	}
	sec, err := GPPSection([]byte(s), h, GPPSectionUSNat)
	if err != nil {
		return
	}
	u, err := ParseUSNat(sec)
	oc, oerr := iabconsent.NewMspa(GPPSectionUSNat, string(sec)).ParseConsent()
	if oerr != nil {
		// iabconsent also demands the exact padded length; we accept a
		// longer core. Nothing to compare.
		return
	}
	p := oc.(*iabconsent.MspaParsedConsent)
	if err != nil {
		if p.SaleOptOut == 3 || p.SharingOptOut == 3 || p.TargetedAdvertisingOptOut == 3 ||
			p.SensitiveDataProcessingConsents[7] == 3 || knownChildInvalid(p) || p.SharingNotice == 3 || p.SaleOptOutNotice == 3 ||
			p.SharingOptOutNotice == 3 || p.TargetedAdvertisingOptOutNotice == 3 || p.SensitiveDataProcessingOptOutNotice == 3 ||
			p.SensitiveDataLimitUseNotice == 3 || p.MspaServiceProviderMode == 3 {
			return // iabconsent keeps the invalid value 3; we reject it
		}
		if strings.Contains(string(sec), ".") {
			return // iabconsent ignores sub-sections of types other than GPC, and only reports the last error
		}
		t.Fatalf("%q: usnat %v; iabconsent decodes %+v", s, err, p)
	}
	if int(u.Version) != p.Version || int(u.SaleOptOut) != int(p.SaleOptOut) || int(u.SharingOptOut) != int(p.SharingOptOut) ||
		int(u.TargetedAdsOptOut) != int(p.TargetedAdvertisingOptOut) || u.GPC != p.Gpc ||
		int(u.PreciseGeo) != int(p.SensitiveDataProcessingConsents[7]) ||
		int(u.SharingNotice) != int(p.SharingNotice) || int(u.SaleOptOutNotice) != int(p.SaleOptOutNotice) ||
		int(u.SharingOptOutNotice) != int(p.SharingOptOutNotice) || int(u.TargetedAdsOptOutNotice) != int(p.TargetedAdvertisingOptOutNotice) ||
		u.ServiceProviderMode != (p.MspaServiceProviderMode == 1) {
		t.Fatalf("%q: usnat %+v; iabconsent %+v", s, u, p)
	}
	for i, c := range p.KnownChildSensitiveDataConsents {
		if int(u.KnownChild[i]) != int(c) {
			t.Fatalf("%q: usnat known child %v; iabconsent %v", s, u.KnownChild, p.KnownChildSensitiveDataConsents)
		}
	}
}

func TestUSNat(t *testing.T) {
	f := func(s string, want USNat, wantErr bool) {
		t.Helper()
		got, err := ParseUSNat([]byte(s))
		if got != want || (err != nil) != wantErr {
			t.Fatalf("ParseUSNat(%q) = %+v, %v", s, got, err)
		}
	}
	f("BVVqAAEABCA.QA", USNat{Version: 1, SharingNotice: NoticeGiven, SaleOptOutNotice: NoticeGiven, SharingOptOutNotice: NoticeGiven, TargetedAdsOptOutNotice: NoticeGiven, SaleOptOut: NotOptedOut, SharingOptOut: NotOptedOut, TargetedAdsOptOut: NotOptedOut, PreciseGeo: MSPANoConsent}, false)
	f("BVVqAAEABCA.YA", USNat{Version: 1, SharingNotice: NoticeGiven, SaleOptOutNotice: NoticeGiven, SharingOptOutNotice: NoticeGiven, TargetedAdsOptOutNotice: NoticeGiven, SaleOptOut: NotOptedOut, SharingOptOut: NotOptedOut, TargetedAdsOptOut: NotOptedOut, PreciseGeo: MSPANoConsent, GPC: true}, false)
	f("CVVVVVVVVVVW.YA", USNat{Version: 2, SharingNotice: NoticeGiven, SaleOptOutNotice: NoticeGiven, SharingOptOutNotice: NoticeGiven, TargetedAdsOptOutNotice: NoticeGiven, SaleOptOut: OptedOut, SharingOptOut: OptedOut, TargetedAdsOptOut: OptedOut,
		PreciseGeo: MSPANoConsent, KnownChild: [3]MSPAConsent{MSPANoConsent, MSPANoConsent, MSPANoConsent}, ServiceProviderMode: true, GPC: true}, false)
	f("BqqAqqqqqqA", USNat{Version: 1, SharingNotice: NoticeNotGiven, SaleOptOutNotice: NoticeNotGiven, SharingOptOutNotice: NoticeNotGiven, TargetedAdsOptOutNotice: NoticeNotGiven, PreciseGeo: MSPAConsented, KnownChild: [3]MSPAConsent{MSPAConsented, MSPAConsented}}, false)
	f("BVVqAAEABC", USNat{Version: 1, SharingNotice: NoticeGiven, SaleOptOutNotice: NoticeGiven, SharingOptOutNotice: NoticeGiven, TargetedAdsOptOutNotice: NoticeGiven, SaleOptOut: NotOptedOut, SharingOptOut: NotOptedOut, TargetedAdsOptOut: NotOptedOut, PreciseGeo: MSPANoConsent}, false)    // 60 bits: enough for v1
	f("BVVqAAEAB", USNat{}, true)                                                                                                                                                                                                                                                                   // 54 bits
	f("CVVVVVVVVVV", USNat{}, true)                                                                                                                                                                                                                                                                 // v2 needs 70 bits
	f("DVVqAAEABCA", USNat{}, true)                                                                                                                                                                                                                                                                 // version 3
	f("BVV_AAEABCA", USNat{}, true)                                                                                                                                                                                                                                                                 // opt-out value 3
	f("BVVqAAEABCA.", USNat{}, true)                                                                                                                                                                                                                                                                // empty sub-section
	f("BVVqAAEABCA.Y!", USNat{}, true)                                                                                                                                                                                                                                                              // bad character
	f("BVVqAAEABCA.Q", USNat{Version: 1, SharingNotice: NoticeGiven, SaleOptOutNotice: NoticeGiven, SharingOptOutNotice: NoticeGiven, TargetedAdsOptOutNotice: NoticeGiven, SaleOptOut: NotOptedOut, SharingOptOut: NotOptedOut, TargetedAdsOptOut: NotOptedOut, PreciseGeo: MSPANoConsent}, false) // 'Q': GPC type, bit 0
	f("BVVq!AEABCA", USNat{}, true)
}

// usnatSection builds a usnat core (version 1 or 2): the three opt-outs
// (sale, sharing, targeted advertising), SensitiveDataProcessing field
// precise geolocation (8) set to geo and the others 0, and the
// KnownChildSensitiveDataConsents given (2 fields in version 1, 3 in 2),
// every notice 1 and the MSPA fields 0; with the GPC sub-section if gpc.
func usnatSection(ver int, optOuts [3]uint64, geo uint64, child []uint64, gpc bool) string {
	var w charWriter
	w.put(uint64(ver), 6)
	for range 6 {
		w.put(1, 2)
	}
	for _, o := range optOuts {
		w.put(o, 2)
	}
	nSensitive := 12
	if ver == 2 {
		nSensitive = 16
	}
	for i := 1; i <= nSensitive; i++ {
		if i == 8 {
			w.put(geo, 2)
		} else {
			w.put(0, 2)
		}
	}
	for _, c := range child {
		w.put(c, 2)
	}
	w.put(0, 8) // PersonalDataConsents and the three MSPA fields
	s := w.String()
	if gpc {
		s += ".YA"
	}
	return s
}

// TestUSNatSensitiveDataAndKnownChild: a usnat section that records no
// consent to process precise geolocation removes precise_geo; no consent
// for a known child of 13 to 16 (or, in version 2, 16 to 17) to selling,
// sharing or targeted advertising removes ads; no verifiable parental
// consent for a known child under 13 removes every purpose. A value of 3
// in those fields is invalid: the section is malformed.
func TestUSNatSensitiveDataAndKnownChild(t *testing.T) {
	ev, err := NewEvaluator(Options{})
	if err != nil {
		t.Fatal(err)
	}
	all := "analytics,ads,personalization,precise_geo,device_storage"
	notOut := [3]uint64{2, 2, 2}
	for _, c := range []struct {
		name      string
		sec       string
		want      Purposes
		malformed bool
	}{
		{"v1 nothing refused", usnatSection(1, notOut, 2, []uint64{2, 2}, false), AllPurposes, false},
		{"v1 not applicable", usnatSection(1, notOut, 0, []uint64{0, 0}, false), AllPurposes, false},
		{"v1 precise geolocation refused", usnatSection(1, notOut, 1, []uint64{0, 0}, false), AllPurposes.Without(PreciseGeo), false},
		{"v2 precise geolocation refused", usnatSection(2, notOut, 1, []uint64{0, 0, 0}, false), AllPurposes.Without(PreciseGeo), false},
		{"v1 child 13-16 refused", usnatSection(1, notOut, 0, []uint64{1, 0}, false), AllPurposes.Without(Ads), false},
		{"v1 child under 13 refused", usnatSection(1, notOut, 0, []uint64{0, 1}, false), 0, false},
		{"v2 child under 13 refused", usnatSection(2, notOut, 0, []uint64{0, 1, 0}, false), 0, false},
		{"v2 child 16-17 refused", usnatSection(2, notOut, 0, []uint64{0, 0, 1}, false), AllPurposes.Without(Ads), false},
		{"v1 precise geolocation 3", usnatSection(1, notOut, 3, []uint64{0, 0}, false), AllPurposes.Without(Ads).Without(Personalization), true},
		{"v1 child value 3", usnatSection(1, notOut, 0, []uint64{3, 0}, false), AllPurposes.Without(Ads).Without(Personalization), true},
	} {
		var tc TCString
		a := ev.Evaluate(&Signals{Consent: []byte(all), GPP: []byte(gppHeader(7) + "~" + c.sec)}, &tc)
		if a.Purposes != c.want || a.Malformed.Has(SignalGPP) != c.malformed {
			t.Errorf("%s (%s): purposes %v, malformed %v; want %v, malformed %v", c.name, c.sec, a.Purposes, a.Malformed, c.want, c.malformed)
		}
		if c.want != AllPurposes && !c.malformed && a.Decider != SignalGPP {
			t.Errorf("%s: decided by %v; want gpp", c.name, a.Decider)
		}
	}
}

// vaSection builds a GPP usva (Virginia, section 9) core as its spec lays
// it out: Version 1, SharingNotice, SaleOptOutNotice and
// TargetedAdvertisingOptOutNotice given (1), SaleOptOut and
// TargetedAdvertisingOptOut "did not opt out" (2), the eight
// SensitiveDataProcessing fields (the 8th is precise geolocation) set to
// sensitive, KnownChildSensitiveDataConsents 0 and the three MSPA fields
// 0. Its consent values are 1 consent, 2 no consent (unlike usnat).
func vaSection(sensitive uint64) string {
	var w charWriter
	w.put(1, 6)
	w.put(1, 2)
	w.put(1, 2)
	w.put(1, 2)
	w.put(2, 2)
	w.put(2, 2)
	for range 8 {
		w.put(sensitive, 2)
	}
	w.put(0, 2)
	w.put(0, 6)
	return w.String()
}

// TestGPPStateSectionRefusesPreciseGeo: a US state section (8 and up) is not
// decoded, so what it records is assumed to be a refusal. Every state
// section carries consent to process sensitive data, precise geolocation
// among it (usva's SensitiveDataProcessing field 8): a visitor who gave
// none, or refused it, must not have precise_geo granted by another signal,
// as a usnat section that refuses it does not.
func TestGPPStateSectionRefusesPreciseGeo(t *testing.T) {
	ev, err := NewEvaluator(Options{})
	if err != nil {
		t.Fatal(err)
	}
	all := []byte("analytics,ads,personalization,precise_geo,device_storage")
	want := Of(Analytics, DeviceStorage)
	for _, sec := range []string{
		gppHeader(9) + "~" + vaSection(2), // Virginia: no consent to any sensitive data
		gppHeader(9) + "~" + vaSection(1), // Virginia: consent, but we cannot read it
		gppHeader(8) + "~BVoYYZoI",        // California
		gppHeader(7, 10) + "~" + usnatSection(1, [3]uint64{2, 2, 2}, 2, []uint64{0, 0}, false) + "~BVoYYYI", // usnat allows, Colorado applies too
	} {
		var tc TCString
		a := ev.Evaluate(&Signals{Consent: all, GPP: []byte(sec)}, &tc)
		if a.Purposes != want || a.Decider != SignalGPP || !a.Rejected.Has(SignalGPP) {
			t.Errorf("%s: purposes %v, decider %v, rejected %v; want %v from gpp, rejected", sec, a.Purposes, a.Decider, a.Rejected, want)
		}
	}
}

// usnatWith builds a version 1 or 2 usnat core with the given six notices
// (SharingNotice, SaleOptOutNotice, SharingOptOutNotice,
// TargetedAdvertisingOptOutNotice, SensitiveDataProcessingOptOutNotice,
// SensitiveDataLimitUseNotice), the three opt-outs, sensitive data and
// known child fields 0, PersonalDataConsents 0, and the MSPA fields
// MspaCoveredTransaction, MspaOptOutOptionMode, MspaServiceProviderMode.
func usnatWith(ver int, notices [6]uint64, optOuts [3]uint64, mspa [3]uint64) string {
	var w charWriter
	w.put(uint64(ver), 6)
	for _, n := range notices {
		w.put(n, 2)
	}
	for _, o := range optOuts {
		w.put(o, 2)
	}
	ns, nc := 12, 2
	if ver == 2 {
		ns, nc = 16, 3
	}
	w.put(0, 2*ns+2*nc+2)
	for _, m := range mspa {
		w.put(m, 2)
	}
	return w.String()
}

// TestUSNatNoticeAndServiceProviderMode: in a usnat section, an opt-out
// field reads 0 ("not applicable") when its notice "was not applicable or
// no notice was provided" (the MSPA US National spec), so a visitor who was
// never told of the right to opt out of sale, sharing or targeted
// advertising (a notice field 2, "notice was not provided") has not agreed
// to them: ads is removed. So it is when the publisher put the transaction
// in MSPA Service Provider Mode (MspaServiceProviderMode 1), under which
// nothing is sold, shared or used for targeted advertising. Prebid's MSPA
// rules read the fields the same way. A value 3 in those fields is invalid:
// the section is malformed.
func TestUSNatNoticeAndServiceProviderMode(t *testing.T) {
	ev, err := NewEvaluator(Options{})
	if err != nil {
		t.Fatal(err)
	}
	all := []byte("analytics,ads,personalization,precise_geo,device_storage")
	given := [6]uint64{1, 1, 1, 1, 1, 1}
	notOut := [3]uint64{2, 2, 2}
	covered := [3]uint64{1, 2, 2}
	noAds := AllPurposes.Without(Ads)
	for _, c := range []struct {
		name      string
		sec       string
		want      Purposes
		malformed bool
	}{
		{"v1 all notices given", usnatWith(1, given, notOut, covered), AllPurposes, false},
		{"v2 all notices given", usnatWith(2, given, notOut, covered), AllPurposes, false},
		{"v1 everything not applicable", usnatWith(1, [6]uint64{}, [3]uint64{}, [3]uint64{2, 0, 0}), AllPurposes, false},
		{"v1 sharing notice not given", usnatWith(1, [6]uint64{2, 1, 1, 1, 1, 1}, notOut, covered), noAds, false},
		{"v1 sale opt-out notice not given", usnatWith(1, [6]uint64{1, 2, 1, 1, 1, 1}, [3]uint64{0, 2, 2}, covered), noAds, false},
		{"v2 sharing opt-out notice not given", usnatWith(2, [6]uint64{1, 1, 2, 1, 1, 1}, [3]uint64{2, 0, 2}, covered), noAds, false},
		{"v2 targeted ads opt-out notice not given", usnatWith(2, [6]uint64{1, 1, 1, 2, 1, 1}, [3]uint64{2, 2, 0}, covered), noAds, false},
		{"v1 sensitive data notices not given", usnatWith(1, [6]uint64{1, 1, 1, 1, 2, 2}, notOut, covered), AllPurposes, false},
		{"v1 service provider mode", usnatWith(1, given, notOut, [3]uint64{1, 2, 1}), noAds, false},
		{"v2 service provider mode", usnatWith(2, given, notOut, [3]uint64{1, 2, 1}), noAds, false},
		{"v2 opt-out option mode", usnatWith(2, given, notOut, [3]uint64{1, 1, 2}), AllPurposes, false},
		{"v1 notice value 3", usnatWith(1, [6]uint64{1, 3, 1, 1, 1, 1}, notOut, covered), noAds.Without(Personalization), true},
		{"v2 service provider mode 3", usnatWith(2, given, notOut, [3]uint64{1, 2, 3}), noAds.Without(Personalization), true},
	} {
		var tc TCString
		a := ev.Evaluate(&Signals{Consent: all, GPP: []byte(gppHeader(7) + "~" + c.sec)}, &tc)
		if a.Purposes != c.want || a.Malformed.Has(SignalGPP) != c.malformed {
			t.Errorf("%s (%s): purposes %v, malformed %v; want %v, malformed %v", c.name, c.sec, a.Purposes, a.Malformed, c.want, c.malformed)
		}
		if c.want != AllPurposes && a.Decider != SignalGPP {
			t.Errorf("%s: decided by %v; want gpp", c.name, a.Decider)
		}
	}
}
