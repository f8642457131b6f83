package consent

import (
	"bytes"
	"math/bits"
)

// Answer is the consent decision for one event.
type Answer struct {
	// Purposes are the purposes allowed for this event.
	Purposes Purposes
	// Decider is the signal that determined the answer: an opt-out signal
	// that removed purposes, else the grant signal that restricted the merge
	// (or, if none restricted, the first present one in priority order), else
	// SignalNone when only Options.Default applied.
	Decider Signal
	// Present holds every signal that arrived, used or not.
	Present SignalSet
	// Malformed holds present signals that did not decode (or gdpr=1 without
	// a TC string, or two TC strings that differ: see TCConflict); each was
	// treated as no consent.
	Malformed SignalSet
	// Rejected holds signals that decoded but were not relied on: a TC string
	// breaking the TCF 2.2 rules, a GPP signal in GPPReject mode or with
	// applicable sections this package cannot read.
	Rejected SignalSet
	// AdPersonalization reports that Ads is allowed for personalised
	// advertising too (remarketing, ads chosen from a profile: what Google
	// calls ad_personalization): every grant signal that decided Ads (each
	// present one that speaks for it under MergeMostRestrictive, the first
	// under MergePriority) allowed Ads and, for a TC string (alone or in
	// GPP), consent to TCF purposes 3 and 4 (create and use a personalised
	// advertising profile) as tcfPurposes reads them, for Consent Mode
	// ad_personalization granted, for the explicit field ads listed (our
	// ads is advertising and retargeting). Ads from Options.Default, or
	// from a signal that is malformed or rejected, is not personalised.
	// It is false whenever Purposes lacks Ads.
	AdPersonalization bool
	// GDPR is the gdpr flag.
	GDPR GDPRApplies
	// TCFProblems are the TCF 2.2 rules the TC string breaks, if it decoded.
	TCFProblems Problems
	// TCSource is the signal that carried the TC string the scratch holds:
	// SignalTCF (gdpr_consent, the euconsent-v2 cookie) or SignalGPP (its
	// tcfeuv2 section); SignalNone when no TC string came. A TC string
	// means GDPR applies unless gdpr=0 says otherwise, whichever signal
	// carried it. It is SignalGPP too when the GPP signal makes its
	// tcfeuv2 section apply without carrying a TC string there (gpp_sid=2
	// alone, or over a string without that section, or an empty section):
	// GDPR applies and no consent was recorded, as with gdpr=1 alone; the
	// scratch is then empty and SignalGPP is in Malformed.
	TCSource Signal
	// TCConflict reports that a separate TC string and the applicable
	// tcfeuv2 section of a GPP string both came and differ: two TCF signals
	// that disagree, a conflict as a euconsent-v2 cookie and a different
	// gdpr_consent are. SignalTCF is then in Malformed (no consent, under
	// either merge rule), TCSource is SignalTCF and the scratch is empty, so
	// no vendor is allowed where GDPR applies.
	TCConflict bool
}

// Allowed reports whether purpose p is allowed.
func (a *Answer) Allowed(p Purpose) bool { return a.Purposes.Has(p) }

// Purposes each opt-out signal removes.
const (
	optOutGPC  = Purposes(1<<(Ads-1) | 1<<(Personalization-1)) // GPC, DNT, the GPP GPC sub-section
	optOutSale = Purposes(1 << (Ads - 1))                      // US Privacy / MSPA opt-out of sale, sharing, targeted ads (or no notice of it, or Service Provider Mode); a known child's refusal of them
	optOutGeo  = Purposes(1 << (PreciseGeo - 1))               // MSPA: no consent to process precise geolocation
	optOutAll  = AllPurposes                                   // MSPA: a known child under 13 without parental consent
	// A US state section we cannot read: its opt-outs (as optOutGPC) and
	// its consent to process sensitive data, precise geolocation among it.
	optOutState = optOutGPC | optOutGeo
)

// grants collects what each grant signal (explicit, tcf, gpp, consent_mode)
// says: which purposes it speaks for (cover) and which of those it allows.
type grants struct {
	present SignalSet
	cover   [numSignals]Purposes
	allow   [numSignals]Purposes
	// adPersonal holds the signals every reading of which that speaks for
	// Ads allows it for personalised advertising (Answer.AdPersonalization).
	adPersonal SignalSet
	// unreadable holds the signals a reading of which was malformed or
	// rejected and so said the configured default (addDefault).
	unreadable SignalSet
	// refused holds what a readable reading refuses, of any signal: one
	// with an unreadable reading too (a GPP string whose tcfeuv2 section
	// is valid next to a section it cannot read) refuses it all the same.
	refused Purposes
}

// addDefault records a reading of sig that was malformed or rejected: it
// says the configured default def for the purposes it covers, and, under
// the priority merge, never overrides a readable reading's refusal
// (mergeGrants).
func (g *grants) addDefault(sig Signal, cover, def Purposes) {
	g.record(sig, cover, def, false)
	g.unreadable = g.unreadable.With(sig)
}

// add records a readable reading of sig; adPersonal says that, where it
// allows Ads, it allows personalised advertising.
func (g *grants) add(sig Signal, cover, allow Purposes, adPersonal bool) {
	g.refused |= cover &^ allow
	g.record(sig, cover, allow, adPersonal)
}

// record records a reading of sig. A second reading of the same signal
// (GPP can give several) combines most restrictively.
func (g *grants) record(sig Signal, cover, allow Purposes, adPersonal bool) {
	allow &= cover
	adPersonal = adPersonal && allow.Has(Ads)
	if !g.present.Has(sig) {
		g.present = g.present.With(sig)
		g.cover[sig], g.allow[sig] = cover, allow
		if adPersonal {
			g.adPersonal = g.adPersonal.With(sig)
		}
		return
	}
	oc, oa := g.cover[sig], g.allow[sig]
	g.cover[sig] = oc | cover
	g.allow[sig] = (oc | cover) & (oa | ^oc) & (allow | ^cover)
	switch {
	case !cover.Has(Ads):
	case !oc.Has(Ads) && adPersonal:
		g.adPersonal = g.adPersonal.With(sig)
	case !adPersonal:
		g.adPersonal &^= 1 << sig
	}
}

// Evaluate decodes the signals in s and returns the consent answer. scratch
// receives the decoded TC string and may be inspected afterwards (it is
// emptied when the event carried none, or it did not decode); it is
// overwritten on every call, so give each goroutine its own. Evaluate reads
// s only during the call and does not allocate.
func (e *Evaluator) Evaluate(s *Signals, scratch *TCString) Answer {
	var a Answer
	var g grants
	var removed [numSignals]Purposes
	a.GDPR = parseGDPR(s.GDPR)

	if len(s.Consent) > 0 {
		a.Present = a.Present.With(SignalExplicit)
		if p, err := ParseExplicit(s.Consent); err != nil {
			a.Malformed = a.Malformed.With(SignalExplicit)
			g.addDefault(SignalExplicit, AllPurposes, e.def)
		} else {
			g.add(SignalExplicit, AllPurposes, p, true) // our ads is advertising and retargeting
		}
	}

	var gppTC []byte
	gppTCF := false // the tcfeuv2 section applies, whether or not it carries a string
	// gpp_sid alone is a GPP signal too: the sections it names apply, and
	// the (absent) string carries none of them.
	if len(s.GPP) > 0 || len(s.GPPSID) > 0 {
		a.Present = a.Present.With(SignalGPP)
		switch {
		case e.gppOpts && e.gpp == GPPHonour:
			// Its opt-outs only: what it grants goes nowhere.
			var dropped grants
			e.gppHonour(s, &a, &dropped, &removed)
		case e.gppOpts:
		case e.gpp == GPPReject:
			a.Rejected = a.Rejected.With(SignalGPP)
			g.addDefault(SignalGPP, AllPurposes, e.def)
		case e.gpp == GPPHonour:
			gppTC, gppTCF = e.gppHonour(s, &a, &g, &removed)
		}
	}

	// TCF: the standalone TC string, else a tcfeuv2 section in GPP; both,
	// differing, conflict (fail closed: neither is relied on).
	src, sig := s.TCString, SignalTCF
	if len(src) == 0 && len(gppTC) > 0 {
		src, sig = gppTC, SignalGPP
	}
	switch {
	case len(src) > 0 && len(gppTC) > 0 && !bytes.Equal(src, gppTC):
		scratch.reset()
		a.TCConflict = true
		a.Present = a.Present.With(SignalTCF)
		a.TCSource = SignalTCF
		a.Malformed = a.Malformed.With(SignalTCF)
		g.addDefault(SignalTCF, AllPurposes, e.def)
	case len(src) > 0:
		a.Present = a.Present.With(sig)
		a.TCSource = sig
		if err := scratch.Decode(src); err != nil {
			a.Malformed = a.Malformed.With(sig)
			g.addDefault(sig, AllPurposes, e.def)
		} else if a.TCFProblems = scratch.Problems() | scratch.DateProblems(s.ReceivedAt, e.maxAge); a.TCFProblems != 0 {
			a.Rejected = a.Rejected.With(sig)
			g.addDefault(sig, AllPurposes, e.def)
		} else {
			p, personal := e.tcfPurposes(scratch)
			g.add(sig, AllPurposes, p, personal)
		}
	case a.GDPR == GDPRYes:
		// GDPR applies but no TC string came: no consent was recorded.
		scratch.reset()
		a.Present = a.Present.With(SignalTCF)
		a.Malformed = a.Malformed.With(SignalTCF)
		g.addDefault(SignalTCF, AllPurposes, e.def)
	case gppTCF:
		// GPP says the TCF EU applies and carries no TC string for it
		// (gppHonour counted that as malformed): GDPR applies, as with
		// gdpr=1 alone, so vendors are checked and find no usable string.
		scratch.reset()
		a.TCSource = SignalGPP
	default:
		scratch.reset()
	}

	if len(s.GCS) > 0 || len(s.GCD) > 0 {
		a.Present = a.Present.With(SignalConsentMode)
		var m ConsentMode
		bad := false
		if len(s.GCS) > 0 {
			x, err := ParseGCS(s.GCS)
			bad = err != nil
			m = m.Merge(x)
		}
		if len(s.GCD) > 0 {
			x, err := ParseGCD(s.GCD)
			bad = bad || err != nil
			m = m.Merge(x)
		}
		if bad {
			a.Malformed = a.Malformed.With(SignalConsentMode)
			g.addDefault(SignalConsentMode, consentModeCovers, e.def)
		} else {
			g.add(SignalConsentMode, consentModeCovers, m.Purposes(), m.AdPersonalization == ModeGranted)
		}
	}

	if len(s.USPrivacy) > 0 {
		a.Present = a.Present.With(SignalUSPrivacy)
		if u, err := ParseUSPrivacy(s.USPrivacy); err != nil {
			a.Malformed = a.Malformed.With(SignalUSPrivacy)
			removed[SignalUSPrivacy] |= optOutSale
		} else if u.OptedOutOfSale() {
			removed[SignalUSPrivacy] |= optOutSale
		}
	}
	if s.GPC {
		a.Present = a.Present.With(SignalGPC)
		if e.gpc {
			removed[SignalGPC] |= optOutGPC
		}
	}
	if s.DNT {
		a.Present = a.Present.With(SignalDNT)
		if e.dnt {
			removed[SignalDNT] |= optOutGPC
		}
	}

	merged := e.mergeGrants(&g)
	var rem Purposes
	for _, r := range removed {
		rem |= r
	}
	a.Purposes = merged &^ rem
	a.AdPersonalization = a.Purposes.Has(Ads) && e.adPersonal(&g)
	a.Decider = e.decider(&g, &removed, merged)
	return a
}

// adPersonal reports whether the grant signals that decide Ads under the
// merge rule allow it for personalised advertising: each present one that
// speaks for Ads (MergeMostRestrictive), or the first (MergePriority). No
// such signal (Ads from Options.Default) is no.
func (e *Evaluator) adPersonal(g *grants) bool {
	decided := false
	for _, sig := range e.priority {
		if !g.present.Has(sig) || !g.cover[sig].Has(Ads) {
			continue
		}
		if !g.adPersonal.Has(sig) {
			return false
		}
		decided = true
		if e.merge == MergePriority {
			break
		}
	}
	return decided
}

// mergeGrants combines the grant signals by the configured rule.
func (e *Evaluator) mergeGrants(g *grants) Purposes {
	var covered, merged Purposes
	if e.merge == MergePriority {
		// What a readable reading refuses (g.refused): an unreadable
		// signal, saying the default, does not grant it, wherever it
		// stands in the order (fail closed; under most_restrictive every
		// refusal counts anyway).
		for _, sig := range e.priority {
			if g.present.Has(sig) {
				c := g.cover[sig] &^ covered
				allow := g.allow[sig]
				if g.unreadable.Has(sig) {
					allow &^= g.refused
				}
				merged |= allow & c
				covered |= c
			}
		}
	} else {
		allow := AllPurposes
		for _, sig := range e.priority {
			if g.present.Has(sig) {
				covered |= g.cover[sig]
				allow &= g.allow[sig] | ^g.cover[sig]
			}
		}
		merged = covered & allow
	}
	return (merged | ^covered&e.def) & AllPurposes
}

// decider names the signal that determined the answer (see Answer.Decider).
func (e *Evaluator) decider(g *grants, removed *[numSignals]Purposes, merged Purposes) Signal {
	for _, sig := range [...]Signal{SignalGPC, SignalDNT, SignalUSPrivacy, SignalGPP} {
		if removed[sig]&merged != 0 {
			return sig
		}
	}
	if g.present == 0 {
		return SignalNone
	}
	if e.merge == MergeMostRestrictive {
		var anyAllow Purposes
		for _, sig := range e.priority {
			if g.present.Has(sig) {
				anyAllow |= g.allow[sig]
			}
		}
		for _, sig := range e.priority {
			if g.present.Has(sig) && (g.cover[sig]&^g.allow[sig])&anyAllow != 0 {
				return sig // it denied what another signal allowed
			}
		}
	}
	for _, sig := range e.priority {
		if g.present.Has(sig) {
			return sig
		}
	}
	return SignalNone
}

// gppHonour reads the applicable sections of a GPP string: those gpp_sid
// lists, else all of the header's. Without a string (gpp_sid alone) no
// section is carried, so each one gpp_sid lists reads as empty. It records
// opt-outs in removed and grants in g, and returns the tcfeuv2 section (a TC
// string) if one applies; tcf reports that the section applies, carried or
// not (then tc is empty).
func (e *Evaluator) gppHonour(s *Signals, a *Answer, g *grants, removed *[numSignals]Purposes) (tc []byte, tcf bool) {
	malformed := func() {
		a.Malformed = a.Malformed.With(SignalGPP)
		g.addDefault(SignalGPP, AllPurposes, e.def)
	}
	var h GPPHeader // no string: no section carried
	if len(s.GPP) > 0 {
		var err error
		if h, err = ParseGPPHeader(s.GPP); err != nil {
			malformed()
			return nil, false
		}
	}
	applicable := h.Sections
	if len(s.GPPSID) > 0 {
		sid, err := ParseGPPSID(s.GPPSID)
		if err != nil {
			malformed()
			return nil, false
		}
		// gpp_sid says which sections apply; one the string does not
		// carry (a CMP that has recorded nothing yet) still applies, and
		// is read below as an empty section, which fails closed.
		applicable = sid
	}
	if _, err := GPPSection(s.GPP, h, 0); err != nil { // checks the section count
		malformed()
		return nil, false
	}
	for rest := uint64(applicable); rest != 0; rest &= rest - 1 {
		id := bits.TrailingZeros64(rest)
		sec, _ := GPPSection(s.GPP, h, id)
		switch {
		case id == GPPSectionTCFEU:
			if len(sec) == 0 {
				malformed()
			}
			tc, tcf = sec, true
		case id == GPPSectionUSP:
			u, err := ParseUSPrivacy(sec)
			if err != nil {
				a.Malformed = a.Malformed.With(SignalGPP)
				removed[SignalGPP] |= optOutSale
			} else if u.OptedOutOfSale() {
				removed[SignalGPP] |= optOutSale
			}
		case id == GPPSectionUSNat:
			u, err := ParseUSNat(sec)
			switch {
			case err != nil:
				a.Malformed = a.Malformed.With(SignalGPP)
				removed[SignalGPP] |= optOutGPC
			default:
				if u.AdsRefused() || u.ChildAdsRefused() {
					removed[SignalGPP] |= optOutSale
				}
				if u.PreciseGeo == MSPANoConsent {
					removed[SignalGPP] |= optOutGeo
				}
				if u.ChildRefused() {
					removed[SignalGPP] |= optOutAll
				}
				if u.GPC && e.gpc {
					removed[SignalGPP] |= optOutGPC
				}
			}
		case id >= GPPSectionUSFirst:
			// A US state section we cannot read: assume the visitor opted
			// out of everything it covers, sale, sharing and targeted
			// advertising, and refused the processing of sensitive data
			// (each records consent to precise geolocation, as usnat does).
			a.Rejected = a.Rejected.With(SignalGPP)
			removed[SignalGPP] |= optOutState
		default:
			// tcfcav1 or a retired section: a consent regime we cannot read.
			a.Rejected = a.Rejected.With(SignalGPP)
			g.addDefault(SignalGPP, AllPurposes, e.def)
		}
	}
	return tc, tcf
}

// TCF purposes 3 (create profiles for personalised advertising) and 4 (use
// profiles to select personalised advertising), bit i-1 for purpose i.
const tcfPersonalAds = 1<<(3-1) | 1<<(4-1)

// tcfPurposes maps a decoded, valid TC string to our purposes, and reports
// whether it consents to personalised advertising: purposes 3 and 4 on the
// basis of consent, read as the purposes are (our vendor's consent and the
// publisher's restrictions on it, the publisher segment).
func (e *Evaluator) tcfPurposes(t *TCString) (Purposes, bool) {
	pc, pli, sf := t.PurposesConsent, t.PurposesLI, t.SpecialFeatureOptIns
	if e.pubTC {
		if !t.HasPublisherTC {
			return 0, false
		}
		pc, pli = t.PubPurposesConsent, t.PubPurposesLI
	}
	if e.vendor != 0 {
		if t.disclosed.present && !t.VendorDisclosed(e.vendor) {
			// TCF v2.3: our vendor was not shown to the visitor, so
			// neither its consent nor its legitimate interest counts.
			pc, pli, sf = 0, 0, 0
		}
		if !t.VendorConsent(e.vendor) {
			pc, sf = 0, 0
		}
		if !t.VendorLI(e.vendor) {
			pli = 0
		}
		if t.nRestrict > 0 {
			r := t.PubRestrictions(e.vendor)
			pc &^= r[RestrictNotAllowed] | r[RestrictRequireLI]
			pli &^= r[RestrictNotAllowed] | r[RestrictRequireConsent]
		}
	}
	var p Purposes
	for i, r := range e.rules {
		if r.purposes&^(pc|pli&r.li) == 0 && r.sf&^sf == 0 {
			p |= 1 << uint(i)
		}
	}
	return p, pc&tcfPersonalAds == tcfPersonalAds
}
