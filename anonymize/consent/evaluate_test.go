package consent

import (
	"strings"
	"testing"
	"time"
)

// Strings used by the evaluation tests.
var (
	tcAll = goodSpec().encode() // valid TCF 2.2, consent for purposes 1-11 and special features 1, 2; vendors 12, 14-20, 755

	tcAnalytics = func() string { // consent for purposes 1, 8, 9 only; LI for 8 and 9 too
		s := goodSpec()
		s.pc, s.pli, s.sf = []int{1, 8, 9}, []int{8, 9}, nil
		return s.encode()
	}()
	tcLIOnly = func() string { // consent for purpose 1, legitimate interest for 8 and 9
		s := goodSpec()
		s.pc, s.pli, s.sf = []int{1}, []int{8, 9}, nil
		return s.encode()
	}()
	tcGlobal = func() string { // breaks TCF 2.2: not service-specific
		s := goodSpec()
		s.ss = false
		return s.encode()
	}()
	tcRestricted = func() string { // vendor 7 consented, but purpose 7 not allowed for it by the publisher
		s := goodSpec()
		s.vc = vendorSpec{max: 10, ids: []int{7}}
		s.vli = vendorSpec{max: 10, ids: []int{7}}
		s.restrictions = []restriction{{purpose: 7, typ: 0, ranges: [][2]int{{5, 9}}}}
		return s.encode()
	}()
	tcDisclosed = func() string { // as tcAll, last updated after 2026-02-28, disclosing 12 and 755 only (not 14-20)
		s := goodSpec()
		s.updated = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		s.segments = []string{oobSegment(1, vendorSpec{max: 755, ids: []int{12, 755}})}
		return s.encode()
	}()
	tcLIUndisclosed = func() string { // as tcLIOnly, last updated after 2026-02-28, disclosing 12 and 755 only
		s := goodSpec()
		s.pc, s.pli, s.sf = []int{1}, []int{8, 9}, nil
		s.updated = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		s.segments = []string{oobSegment(1, vendorSpec{max: 755, ids: []int{12, 755}})}
		return s.encode()
	}()
	tcPublisher = func() string { // core grants everything; publisher TC only 1, 8, 9
		s := goodSpec()
		s.segments = []string{publisherTCSegment([]int{1, 8, 9}, nil, 0, nil, nil)}
		return s.encode()
	}()
)

func TestEvaluate(t *testing.T) {
	type want struct {
		purposes   Purposes
		decider    Signal
		present    SignalSet
		malformed  SignalSet
		rejected   SignalSet
		noProblems bool
	}
	set := func(ss ...Signal) SignalSet {
		var s SignalSet
		for _, x := range ss {
			s = s.With(x)
		}
		return s
	}
	f := func(o Options, s Signals, w want) {
		t.Helper()
		e, err := NewEvaluator(o)
		if err != nil {
			t.Fatal(err)
		}
		var tc TCString
		a := e.Evaluate(&s, &tc)
		if a.Purposes != w.purposes || a.Decider != w.decider || a.Present != w.present || a.Malformed != w.malformed || a.Rejected != w.rejected {
			t.Fatalf("got purposes %v decider %v present %v malformed %v rejected %v\nwant purposes %v decider %v present %v malformed %v rejected %v",
				a.Purposes, a.Decider, a.Present, a.Malformed, a.Rejected,
				w.purposes, w.decider, w.present, w.malformed, w.rejected)
		}
		if w.noProblems && a.TCFProblems != 0 {
			t.Fatalf("problems %v", a.TCFProblems)
		}
	}
	b := func(s string) []byte { return []byte(s) }
	def := Options{}
	all := AllPurposes
	noAdsPers := all.Without(Ads).Without(Personalization)

	// No signal at all: the default, strict unless configured.
	f(def, Signals{}, want{purposes: 0, decider: SignalNone})
	f(Options{Default: Of(Analytics)}, Signals{}, want{purposes: Of(Analytics), decider: SignalNone})
	f(def, Signals{GDPR: b("0")}, want{purposes: 0, decider: SignalNone})

	// TCF alone, and the opt-outs on top of it.
	f(def, Signals{GDPR: b("1"), TCString: b(tcAll)}, want{purposes: all, decider: SignalTCF, present: set(SignalTCF), noProblems: true})
	f(def, Signals{TCString: b(tcAnalytics)}, want{purposes: Of(Analytics, DeviceStorage), decider: SignalTCF, present: set(SignalTCF)})
	f(def, Signals{TCString: b(tcAll), GPC: true}, want{purposes: noAdsPers, decider: SignalGPC, present: set(SignalTCF, SignalGPC)})
	f(def, Signals{TCString: b(tcAll), DNT: true}, want{purposes: noAdsPers, decider: SignalDNT, present: set(SignalTCF, SignalDNT)})
	f(Options{IgnoreDNT: true}, Signals{TCString: b(tcAll), DNT: true}, want{purposes: all, decider: SignalTCF, present: set(SignalTCF, SignalDNT)})
	f(Options{IgnoreGPC: true}, Signals{TCString: b(tcAll), GPC: true}, want{purposes: all, decider: SignalTCF, present: set(SignalTCF, SignalGPC)})
	// An opt-out with nothing to remove does not decide.
	f(def, Signals{GPC: true}, want{purposes: 0, decider: SignalNone, present: set(SignalGPC)})

	// Malformed and invalid TC strings fail closed to Options.Default.
	f(def, Signals{TCString: b("${GDPR_CONSENT_755}")}, want{purposes: 0, decider: SignalTCF, present: set(SignalTCF), malformed: set(SignalTCF)})
	f(Options{Default: Of(Analytics)}, Signals{TCString: b(tcAll[:40])},
		want{purposes: Of(Analytics), decider: SignalTCF, present: set(SignalTCF), malformed: set(SignalTCF)})
	f(def, Signals{TCString: b(tcGlobal)}, want{purposes: 0, decider: SignalTCF, present: set(SignalTCF), rejected: set(SignalTCF)})
	f(def, Signals{GDPR: b("1")}, want{purposes: 0, decider: SignalTCF, present: set(SignalTCF), malformed: set(SignalTCF)})
	// gdpr=1 without a string beats an explicit grant under most restrictive.
	f(def, Signals{GDPR: b("1"), Consent: b("analytics")}, want{purposes: 0, decider: SignalTCF, present: set(SignalTCF, SignalExplicit), malformed: set(SignalTCF)})

	// Explicit field.
	f(def, Signals{Consent: b("analytics, ads")}, want{purposes: Of(Analytics, Ads), decider: SignalExplicit, present: set(SignalExplicit)})
	f(def, Signals{Consent: b("none")}, want{purposes: 0, decider: SignalExplicit, present: set(SignalExplicit)})
	f(def, Signals{Consent: b("analytics,cookies")}, want{purposes: 0, decider: SignalExplicit, present: set(SignalExplicit), malformed: set(SignalExplicit)})

	// Most restrictive merge: each purpose needs every signal speaking for it.
	f(def, Signals{TCString: b(tcAll), GCS: b("G100")},
		want{purposes: Of(Personalization, PreciseGeo), decider: SignalConsentMode, present: set(SignalTCF, SignalConsentMode)})
	// gcs alone does not grant ads (ad_user_data unknown): most restrictive.
	f(def, Signals{TCString: b(tcAll), GCS: b("G111")}, want{purposes: all &^ Of(Ads), decider: SignalConsentMode, present: set(SignalTCF, SignalConsentMode)})
	f(def, Signals{TCString: b(tcAll), Consent: b("analytics,ads")},
		want{purposes: Of(Analytics, Ads), decider: SignalExplicit, present: set(SignalTCF, SignalExplicit)})
	f(def, Signals{GCS: b("G101")}, want{purposes: Of(Analytics), decider: SignalConsentMode, present: set(SignalConsentMode)})
	f(def, Signals{GCS: b("G1x1"), GCD: b("11t1t1t1t5")},
		want{purposes: 0, decider: SignalConsentMode, present: set(SignalConsentMode), malformed: set(SignalConsentMode)})

	// Priority merge.
	f(Options{Merge: MergePriority}, Signals{TCString: b(tcAll), GCS: b("G100")}, want{purposes: all, decider: SignalTCF, present: set(SignalTCF, SignalConsentMode)})
	f(Options{Merge: MergePriority, Priority: []Signal{SignalConsentMode}}, Signals{TCString: b(tcAll), GCS: b("G100")},
		want{purposes: Of(Personalization, PreciseGeo), decider: SignalConsentMode, present: set(SignalTCF, SignalConsentMode)})
	f(Options{Merge: MergePriority}, Signals{TCString: b(tcAll), GCS: b("G111"), GPC: true},
		want{purposes: noAdsPers, decider: SignalGPC, present: set(SignalTCF, SignalConsentMode, SignalGPC)})

	// US Privacy: opting out of sale removes ads.
	f(def, Signals{Consent: b("analytics,ads"), USPrivacy: b("1YYN")},
		want{purposes: Of(Analytics), decider: SignalUSPrivacy, present: set(SignalExplicit, SignalUSPrivacy)})
	f(def, Signals{Consent: b("analytics,ads"), USPrivacy: b("1YNN")}, want{purposes: Of(Analytics, Ads), decider: SignalExplicit, present: set(SignalExplicit, SignalUSPrivacy)})
	f(def, Signals{Consent: b("analytics,ads"), USPrivacy: b("1XNN")},
		want{purposes: Of(Analytics), decider: SignalUSPrivacy, present: set(SignalExplicit, SignalUSPrivacy), malformed: set(SignalUSPrivacy)})

	// GPP.
	gppTCUSP := gppHeader(2, 6) + "~" + tcAll + "~1YYN"
	f(def, Signals{GPP: b(gppTCUSP)}, want{purposes: all.Without(Ads), decider: SignalGPP, present: set(SignalGPP)})
	f(def, Signals{GPP: b(gppTCUSP), GPPSID: b("2")}, want{purposes: all, decider: SignalGPP, present: set(SignalGPP)})
	f(def, Signals{GPP: b(gppTCUSP), GPPSID: b("6")}, want{purposes: 0, decider: SignalNone, present: set(SignalGPP)})
	f(def, Signals{GPP: b(gppTCUSP), GPPSID: b("two")}, want{purposes: 0, decider: SignalGPP, present: set(SignalGPP), malformed: set(SignalGPP)})
	// gpp_sid names a section the string does not carry: it applies, and
	// is read like one that does not decode (tcfeuv2: no consent; usnat:
	// opted out), never skipped.
	f(def, Signals{Consent: b("analytics,ads"), GPP: b(gppHeader(6) + "~1YNN"), GPPSID: b("2")},
		want{purposes: 0, decider: SignalGPP, present: set(SignalExplicit, SignalGPP), malformed: set(SignalGPP)})
	f(def, Signals{Consent: b("analytics,ads"), GPP: b(gppHeader(6) + "~1YNN"), GPPSID: b("7")},
		want{purposes: Of(Analytics), decider: SignalGPP, present: set(SignalExplicit, SignalGPP), malformed: set(SignalGPP)})
	// A standalone TC string and a different GPP tcfeuv2 section are two
	// TCF signals that disagree: a conflict, malformed, a refusal, under
	// either merge rule (as a cookie and a different gdpr_consent). Equal
	// copies count once.
	f(def, Signals{TCString: b(tcAnalytics), GPP: b(gppHeader(2) + "~" + tcAll)},
		want{purposes: 0, decider: SignalTCF, present: set(SignalTCF, SignalGPP), malformed: set(SignalTCF)})
	f(def, Signals{TCString: b(tcAll), GPP: b(gppHeader(2) + "~" + tcAnalytics)},
		want{purposes: 0, decider: SignalTCF, present: set(SignalTCF, SignalGPP), malformed: set(SignalTCF)})
	f(Options{Merge: MergePriority}, Signals{TCString: b(tcAll), GPP: b(gppHeader(2) + "~" + tcAnalytics)},
		want{purposes: 0, decider: SignalTCF, present: set(SignalTCF, SignalGPP), malformed: set(SignalTCF)})
	f(def, Signals{TCString: b(tcAnalytics), GPP: b(gppHeader(2) + "~" + tcAnalytics)},
		want{purposes: Of(Analytics, DeviceStorage), decider: SignalTCF, present: set(SignalTCF, SignalGPP)})
	f(def, Signals{GPP: b(gppHeader(2) + "~" + tcGlobal)}, want{purposes: 0, decider: SignalGPP, present: set(SignalGPP), rejected: set(SignalGPP)})
	f(def, Signals{GPP: b(gppHeader(2) + "~" + tcAll + "~1YNN")}, want{purposes: 0, decider: SignalGPP, present: set(SignalGPP), malformed: set(SignalGPP)})
	f(def, Signals{GPP: b("DBABM~")}, want{purposes: 0, decider: SignalGPP, present: set(SignalGPP), malformed: set(SignalGPP)})
	f(def, Signals{GPP: b("garbage")}, want{purposes: 0, decider: SignalGPP, present: set(SignalGPP), malformed: set(SignalGPP)})
	f(Options{GPP: GPPIgnore}, Signals{TCString: b(tcAll), GPP: b(gppTCUSP)}, want{purposes: all, decider: SignalTCF, present: set(SignalTCF, SignalGPP)})
	f(Options{GPP: GPPReject}, Signals{TCString: b(tcAll), GPP: b(gppTCUSP)},
		want{purposes: 0, decider: SignalGPP, present: set(SignalTCF, SignalGPP), rejected: set(SignalGPP)})
	// Its opt-outs only (a priority list without gpp): the tcfeuv2 section
	// grants nothing, the uspv1 opt-out still applies; reject refuses nothing.
	f(Options{GPPOptOutsOnly: true}, Signals{Consent: b("analytics,ads"), GPP: b(gppTCUSP)},
		want{purposes: Of(Analytics), decider: SignalGPP, present: set(SignalExplicit, SignalGPP)})
	f(Options{GPPOptOutsOnly: true, GPP: GPPReject}, Signals{Consent: b("analytics,ads"), GPP: b(gppTCUSP)},
		want{purposes: Of(Analytics, Ads), decider: SignalExplicit, present: set(SignalExplicit, SignalGPP)})
	// usnat: opted out of sale, sharing and targeted ads, with the GPC
	// sub-section set (sensitive data and known child fields: see
	// TestUSNatSensitiveDataAndKnownChild).
	usnat := gppHeader(7) + "~" + usnatSection(2, [3]uint64{1, 1, 1}, 0, []uint64{0, 0, 0}, true)
	f(def, Signals{Consent: b("analytics,ads,personalization"), GPP: b(usnat)},
		want{purposes: Of(Analytics), decider: SignalGPP, present: set(SignalExplicit, SignalGPP)})
	f(Options{IgnoreGPC: true}, Signals{Consent: b("analytics,ads,personalization"), GPP: b(usnat)},
		want{purposes: Of(Analytics, Personalization), decider: SignalGPP, present: set(SignalExplicit, SignalGPP)})
	f(def, Signals{Consent: b("analytics,ads"), GPP: b(gppHeader(7) + "~BVVqAAEABCA.QA")},
		want{purposes: Of(Analytics, Ads), decider: SignalExplicit, present: set(SignalExplicit, SignalGPP)})
	// A US state section we cannot read: opt-out assumed.
	f(def, Signals{Consent: b("analytics,ads,personalization"), GPP: b(gppHeader(8) + "~BVoYYZoI")},
		want{purposes: Of(Analytics), decider: SignalGPP, present: set(SignalExplicit, SignalGPP), rejected: set(SignalGPP)})
	// TCF Canada: a consent regime we cannot read, so no consent.
	f(def, Signals{Consent: b("analytics"), GPP: b(gppHeader(5) + "~BPXxRfAPXxRfAAfKABENB")},
		want{purposes: 0, decider: SignalGPP, present: set(SignalExplicit, SignalGPP), rejected: set(SignalGPP)})

	// Vendor checks and publisher restrictions.
	f(Options{VendorID: 755}, Signals{TCString: b(tcAll)}, want{purposes: all, decider: SignalTCF, present: set(SignalTCF)})
	f(Options{VendorID: 13}, Signals{TCString: b(tcAll)}, want{purposes: 0, decider: SignalTCF, present: set(SignalTCF)})
	f(Options{VendorID: 7}, Signals{TCString: b(tcRestricted)}, want{purposes: all.Without(Ads), decider: SignalTCF, present: set(SignalTCF)})
	f(Options{VendorID: 4}, Signals{TCString: b(tcRestricted)}, want{purposes: 0, decider: SignalTCF, present: set(SignalTCF)})
	// TCF v2.3: our vendor must be in the disclosed vendors segment when
	// there is one, or neither its consent nor its legitimate interest counts.
	f(Options{VendorID: 755}, Signals{TCString: b(tcDisclosed)}, want{purposes: all, decider: SignalTCF, present: set(SignalTCF)})
	f(Options{VendorID: 14}, Signals{TCString: b(tcDisclosed)}, want{purposes: 0, decider: SignalTCF, present: set(SignalTCF)})
	f(Options{VendorID: 14}, Signals{TCString: b(tcAll)}, want{purposes: all, decider: SignalTCF, present: set(SignalTCF)})

	// Legitimate interest only where the rule accepts it.
	liRule := map[Purpose]TCFRule{Analytics: {Purposes: []int{1, 8, 9}, LegitimateInterest: []int{8, 9}}}
	f(def, Signals{TCString: b(tcLIOnly)}, want{purposes: Of(DeviceStorage), decider: SignalTCF, present: set(SignalTCF)})
	f(Options{TCF: liRule}, Signals{TCString: b(tcLIOnly)}, want{purposes: Of(Analytics, DeviceStorage), decider: SignalTCF, present: set(SignalTCF)})
	// Vendor 14 has consent and legitimate interest, but is not disclosed.
	f(Options{TCF: liRule, VendorID: 14}, Signals{TCString: b(tcLIOnly)}, want{purposes: Of(Analytics, DeviceStorage), decider: SignalTCF, present: set(SignalTCF)})
	f(Options{TCF: liRule, VendorID: 14}, Signals{TCString: b(tcLIUndisclosed)}, want{purposes: 0, decider: SignalTCF, present: set(SignalTCF)})
	f(Options{TCF: liRule, VendorID: 755}, Signals{TCString: b(tcLIUndisclosed)}, want{purposes: Of(DeviceStorage), decider: SignalTCF, present: set(SignalTCF)})

	// Publisher TC segment.
	f(Options{PublisherTC: true}, Signals{TCString: b(tcPublisher)}, want{purposes: Of(Analytics, DeviceStorage, PreciseGeo), decider: SignalTCF, present: set(SignalTCF)})
	f(Options{PublisherTC: true}, Signals{TCString: b(tcAll)}, want{purposes: 0, decider: SignalTCF, present: set(SignalTCF)})
}

func TestEvaluateScratchHoldsDecodedString(t *testing.T) {
	e, _ := NewEvaluator(Options{})
	var tc TCString
	a := e.Evaluate(&Signals{TCString: []byte(tcAll)}, &tc)
	if a.GDPR != GDPRUnknown || tc.CMPID != 18 || !tc.VendorConsent(755) {
		t.Fatalf("%+v", a)
	}
	a = e.Evaluate(&Signals{GDPR: []byte("1"), TCString: []byte(tcGlobal)}, &tc)
	if a.GDPR != GDPRYes || a.TCFProblems != ProblemNotServiceSpecific {
		t.Fatalf("%+v", a)
	}
}

func TestNewEvaluatorErrors(t *testing.T) {
	f := func(o Options, wantSub ...string) {
		t.Helper()
		_, err := NewEvaluator(o)
		if err == nil {
			t.Fatalf("no error for %+v", o)
		}
		for _, s := range wantSub {
			if !strings.Contains(err.Error(), s) {
				t.Fatalf("error %q lacks %q", err, s)
			}
		}
	}
	f(Options{Merge: 9}, "merge rule")
	f(Options{GPP: 9}, "GPP mode")
	f(Options{Default: 0x80}, "unknown bits")
	f(Options{VendorID: 70000}, "vendor id")
	f(Options{VendorID: 5, PublisherTC: true}, "exclude")
	f(Options{Priority: []Signal{SignalGPC}}, "cannot grant")
	f(Options{Priority: []Signal{SignalTCF, SignalTCF}}, "twice")
	f(Options{TCF: map[Purpose]TCFRule{Ads: {Purposes: []int{0, 25}}}}, "purpose 0 is not 1-24", "purpose 25")
	f(Options{TCF: map[Purpose]TCFRule{Ads: {Purposes: []int{1, 3}, LegitimateInterest: []int{3}}}}, "forbids legitimate interest for purpose 3")
	f(Options{TCF: map[Purpose]TCFRule{Ads: {Purposes: []int{7}, LegitimateInterest: []int{8}}}}, "does not require")
	f(Options{TCF: map[Purpose]TCFRule{Ads: {SpecialFeatures: []int{13}}}}, "special feature 13")
	f(Options{TCF: map[Purpose]TCFRule{Ads: {}}}, "requires nothing")
	f(Options{TCF: map[Purpose]TCFRule{9: {Purposes: []int{1}}}}, "unknown purpose 9")
	// Several problems are reported together.
	f(Options{Merge: 9, VendorID: -1}, "merge rule", "vendor id")

	if _, err := NewEvaluator(DefaultOptions()); err != nil {
		t.Fatal(err)
	}
}

// TestDefaultOptionsAreTheZeroValue: DefaultOptions only spells out what
// the zero Options already mean.
func TestDefaultOptionsAreTheZeroValue(t *testing.T) {
	a, err1 := NewEvaluator(Options{})
	b, err2 := NewEvaluator(DefaultOptions())
	if err1 != nil || err2 != nil || *a != *b {
		t.Fatalf("%+v\n%+v", a, b)
	}
}

func TestEnumStrings(t *testing.T) {
	f := func(got, want string) {
		t.Helper()
		if got != want {
			t.Fatalf("%q; want %q", got, want)
		}
	}
	f(SignalConsentMode.String(), "consent_mode")
	f(Signal(99).String(), "signal(99)")
	f(SignalSet(0).With(SignalTCF).With(SignalDNT).String(), "tcf,dnt")
	f(SignalSet(0).String(), "none")
	f(MergePriority.String(), "priority")
	f(MergeMostRestrictive.String(), "most_restrictive")
	f(GPPReject.String(), "reject")
	f(GDPRYes.String(), "yes")
	f(ModeGranted.String(), "granted")
	f(RestrictRequireLI.String(), "require_li")
	f(FlagYes.String()+FlagNo.String()+FlagNA.String(), "YN-")
	f(OptedOut.String(), "opted_out")
	for s := SignalExplicit; s < numSignals; s++ {
		if p, err := ParseSignal(s.String()); p != s || err != nil {
			t.Fatalf("ParseSignal(%v)", s)
		}
	}
	if _, err := ParseSignal("none"); err == nil {
		t.Fatal("none is not a signal to configure")
	}
	for _, s := range []string{"most_restrictive", "priority"} {
		if m, err := ParseMergeRule(s); err != nil || m.String() != s {
			t.Fatal(s)
		}
	}
	for _, s := range []string{"honour", "ignore", "reject"} {
		if m, err := ParseGPPMode(s); err != nil || m.String() != s {
			t.Fatal(s)
		}
	}
	if _, err := ParseMergeRule("first"); err == nil {
		t.Fatal("first")
	}
	if _, err := ParseGPPMode("obey"); err == nil {
		t.Fatal("obey")
	}
}

// TestGPPSIDWithoutString: gpp_sid without a GPP string (a CMP that says
// which sections apply but has recorded nothing yet, as a tag sends
// "gpp":"" with "gpp_sid":"2") is a GPP signal whose applicable sections
// the string does not carry: tcfeuv2 is no consent, uspv1 and usnat are
// opt-outs, as when the string is there without them. It must not leave
// Consent Mode or an explicit field to grant ads alone.
func TestGPPSIDWithoutString(t *testing.T) {
	gpp := SignalSet(0).With(SignalGPP)
	cases := []struct {
		name      string
		o         Options
		s         Signals
		purposes  Purposes
		present   SignalSet
		malformed SignalSet
		rejected  SignalSet
	}{
		{"tcfeuv2 applies, Consent Mode grants", Options{},
			Signals{GPPSID: []byte("2"), GCS: []byte("G111"), GCD: []byte("11t1t1t1t5")},
			0, gpp.With(SignalConsentMode), gpp, 0},
		{"usnat applies, explicit grants", Options{},
			Signals{GPPSID: []byte("7"), Consent: []byte("analytics,ads,personalization")},
			Of(Analytics), gpp.With(SignalExplicit), gpp, 0},
		{"uspv1 applies, explicit grants", Options{},
			Signals{GPPSID: []byte("6"), Consent: []byte("analytics,ads")},
			Of(Analytics), gpp.With(SignalExplicit), gpp, 0},
		{"a gpp_sid that does not parse", Options{},
			Signals{GPPSID: []byte("2;7"), Consent: []byte("analytics,ads")},
			0, gpp.With(SignalExplicit), gpp, 0},
		{"no section applies", Options{},
			Signals{GPPSID: []byte("-1"), Consent: []byte("analytics,ads")},
			Of(Analytics, Ads), gpp.With(SignalExplicit), 0, 0},
		{"reject mode", Options{GPP: GPPReject},
			Signals{GPPSID: []byte("2"), Consent: []byte("analytics,ads")},
			0, gpp.With(SignalExplicit), 0, gpp},
	}
	for _, c := range cases {
		e, err := NewEvaluator(c.o)
		if err != nil {
			t.Fatal(err)
		}
		var tc TCString
		a := e.Evaluate(&c.s, &tc)
		if a.Purposes != c.purposes || a.Present != c.present || a.Malformed != c.malformed || a.Rejected != c.rejected {
			t.Errorf("%s: purposes %v present %v malformed %v rejected %v; want %v, %v, %v, %v", c.name,
				a.Purposes, a.Present, a.Malformed, a.Rejected, c.purposes, c.present, c.malformed, c.rejected)
		}
	}
}
