package consent

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// MergeRule says how the answers of several present signals combine.
type MergeRule uint8

// Merge rules.
const (
	// MergeMostRestrictive (the default): a purpose is allowed only if every
	// present signal that speaks for it allows it.
	MergeMostRestrictive MergeRule = iota
	// MergePriority: for each purpose, the first present signal in
	// Options.Priority that speaks for it decides.
	MergePriority
)

// String returns "most_restrictive" or "priority".
func (m MergeRule) String() string {
	if m == MergePriority {
		return "priority"
	}
	if m == MergeMostRestrictive {
		return "most_restrictive"
	}
	return fmt.Sprintf("merge(%d)", uint8(m))
}

// ParseMergeRule parses "most_restrictive" or "priority". It is for config.
func ParseMergeRule(s string) (MergeRule, error) {
	switch s {
	case "most_restrictive", "":
		return MergeMostRestrictive, nil
	case "priority":
		return MergePriority, nil
	}
	return 0, fmt.Errorf("consent: unknown merge rule %q (want most_restrictive or priority)", s)
}

// GPPMode says what to do with a GPP string.
type GPPMode uint8

// GPP modes.
const (
	// GPPHonour (the default) decodes the header and the applicable sections
	// it can read (tcfeuv2, uspv1, usnat) and fails closed on the others.
	GPPHonour GPPMode = iota
	// GPPIgnore records that a GPP string was present and otherwise ignores it.
	GPPIgnore
	// GPPReject treats any GPP string (or gpp_sid without one) as no
	// consent (Options.Default for every purpose), without decoding it.
	GPPReject
)

// String returns "honour", "ignore" or "reject".
func (m GPPMode) String() string {
	switch m {
	case GPPHonour:
		return "honour"
	case GPPIgnore:
		return "ignore"
	case GPPReject:
		return "reject"
	}
	return fmt.Sprintf("gpp_mode(%d)", uint8(m))
}

// ParseGPPMode parses "honour", "ignore" or "reject". It is for config.
func ParseGPPMode(s string) (GPPMode, error) {
	switch s {
	case "honour", "honor", "":
		return GPPHonour, nil
	case "ignore":
		return GPPIgnore, nil
	case "reject":
		return GPPReject, nil
	}
	return 0, fmt.Errorf("consent: unknown GPP mode %q (want honour, ignore or reject)", s)
}

// TCFRule says what a TC string must contain for one of our purposes.
type TCFRule struct {
	// Purposes are TCF purpose ids (1-24) that must all have consent.
	Purposes []int
	// LegitimateInterest lists those of Purposes for which legitimate
	// interest is accepted instead of consent. TCF 2.2 forbids it for
	// purposes 1 and 3-6, so those are rejected here.
	LegitimateInterest []int
	// SpecialFeatures are TCF special feature ids (1-12) that must be opted in.
	SpecialFeatures []int
}

// DefaultTCFRule returns the default TCF requirement for p:
//
//	analytics        purposes 1 (store/access on device), 8 (measure content
//	                 performance), 9 (understand audiences)
//	ads              purposes 1, 3 (create personalised ads profile), 4 (use
//	                 profiles to select personalised ads), 7 (measure ad performance)
//	personalization  purposes 1, 5 (create personalised content profile),
//	                 6 (use profiles to select personalised content)
//	precise_geo      special feature 1 (use precise geolocation data)
//	device_storage   purpose 1
//
// All on consent: no legitimate interest is accepted by default.
func DefaultTCFRule(p Purpose) TCFRule {
	switch p {
	case Analytics:
		return TCFRule{Purposes: []int{1, 8, 9}}
	case Ads:
		return TCFRule{Purposes: []int{1, 3, 4, 7}}
	case Personalization:
		return TCFRule{Purposes: []int{1, 5, 6}}
	case PreciseGeo:
		return TCFRule{SpecialFeatures: []int{1}}
	case DeviceStorage:
		return TCFRule{Purposes: []int{1}}
	}
	return TCFRule{}
}

// defaultPriority is the order of the signals that can grant purposes.
var defaultPriority = []Signal{SignalExplicit, SignalTCF, SignalGPP, SignalConsentMode}

// Options configures an Evaluator. The zero value is the default
// configuration (DefaultOptions spells it out).
type Options struct {
	// Merge is how signals combine; default MergeMostRestrictive.
	Merge MergeRule
	// Priority orders the signals that can grant purposes (explicit, tcf,
	// gpp, consent_mode). MergePriority uses it to pick the deciding signal
	// per purpose; both rules use it to name Answer.Decider. Signals left out
	// follow in the default order explicit, tcf, gpp, consent_mode.
	Priority []Signal
	// Default is what is allowed for a purpose no present signal speaks for,
	// and what a malformed or rejected signal allows (fail closed). Default:
	// none, i.e. nothing personal without a signal.
	Default Purposes
	// IgnoreGPC and IgnoreDNT switch off the opt-out signals. By default
	// Sec-GPC: 1 and DNT: 1 each remove ads and personalization whatever any
	// other signal says.
	IgnoreGPC bool
	IgnoreDNT bool
	// GPP is what to do with GPP strings; default GPPHonour.
	GPP GPPMode
	// GPPOptOutsOnly leaves out what a GPP string says as a grant signal
	// (its tcfeuv2 section, GPPReject, a consent regime it cannot read)
	// and keeps its opt-outs (uspv1, usnat, the US state sections), which,
	// like US Privacy's, apply in both merge modes: for a priority list
	// that does not list gpp.
	GPPOptOutsOnly bool `json:",omitempty"`
	// TCF maps our purposes to TCF requirements. A purpose missing from the
	// map uses DefaultTCFRule.
	TCF map[Purpose]TCFRule
	// VendorID, if not 0, is our IAB vendor id: a TC string then grants a
	// purpose only if this vendor has consent (or legitimate interest, where
	// the rule accepts it), and publisher restrictions on this vendor apply.
	// A string with a disclosed vendors segment that does not list this
	// vendor grants nothing (TCF v2.3: the vendor was not shown).
	VendorID int
	// PublisherTC reads the purposes from the Publisher TC segment instead of
	// the core segment, for a gateway run by the publisher as first party. A
	// TC string without that segment then grants nothing. Not allowed with
	// VendorID: the publisher is not a vendor.
	PublisherTC bool
	// MaxAge is the oldest TC string (by its last update, at the request's
	// Signals.ReceivedAt) that grants anything; 0: no limit. A string older
	// than that, or dated in the future, decodes but is rejected.
	MaxAge time.Duration
}

// DefaultOptions returns the default configuration, with every default
// written out: most restrictive signal wins, priority explicit > tcf > gpp >
// consent_mode, no purposes without a signal, GPC and DNT honoured, GPP
// honoured, the DefaultTCFRule mapping, no vendor check, core segment purposes.
func DefaultOptions() Options {
	o := Options{
		Merge:    MergeMostRestrictive,
		Priority: slices.Clone(defaultPriority),
		GPP:      GPPHonour,
		TCF:      map[Purpose]TCFRule{},
	}
	for p := Purpose(1); int(p) <= numPurposes; p++ {
		o.TCF[p] = DefaultTCFRule(p)
	}
	return o
}

// tcfRule is a TCFRule compiled to masks (bit id-1).
type tcfRule struct {
	purposes, li uint32
	sf           uint16
}

// Evaluator turns Signals into an Answer. It is immutable after NewEvaluator
// and safe for concurrent use.
type Evaluator struct {
	merge    MergeRule
	priority [4]Signal
	def      Purposes
	gpc, dnt bool
	gpp      GPPMode
	gppOpts  bool // GPPOptOutsOnly
	rules    [numPurposes]tcfRule
	vendor   int
	pubTC    bool
	maxAge   time.Duration
}

// NewEvaluator checks o and compiles it. It reports every problem at once.
func NewEvaluator(o Options) (*Evaluator, error) {
	var errs []error
	e := &Evaluator{merge: o.Merge, def: o.Default & AllPurposes, gpc: !o.IgnoreGPC, dnt: !o.IgnoreDNT,
		gpp: o.GPP, gppOpts: o.GPPOptOutsOnly, vendor: o.VendorID, pubTC: o.PublisherTC, maxAge: o.MaxAge}
	if o.MaxAge < 0 {
		errs = append(errs, fmt.Errorf("consent: max age %v is negative", o.MaxAge))
	}
	if o.Merge > MergePriority {
		errs = append(errs, fmt.Errorf("consent: unknown merge rule %d", o.Merge))
	}
	if o.GPP > GPPReject {
		errs = append(errs, fmt.Errorf("consent: unknown GPP mode %d", o.GPP))
	}
	if o.Default&^AllPurposes != 0 {
		errs = append(errs, fmt.Errorf("consent: default purposes have unknown bits %#x", uint8(o.Default&^AllPurposes)))
	}
	if o.VendorID < 0 || o.VendorID > 65535 {
		errs = append(errs, fmt.Errorf("consent: vendor id %d is not 0-65535", o.VendorID))
	}
	if o.VendorID != 0 && o.PublisherTC {
		errs = append(errs, errors.New("consent: vendor_id and publisher_tc exclude each other: the publisher is not a vendor"))
	}
	n := 0
	for _, s := range o.Priority {
		if !slices.Contains(defaultPriority, s) {
			errs = append(errs, fmt.Errorf("consent: priority lists %v, which cannot grant purposes (want explicit, tcf, gpp, consent_mode)", s))
			continue
		}
		if slices.Contains(e.priority[:n], s) {
			errs = append(errs, fmt.Errorf("consent: priority lists %v twice", s))
			continue
		}
		e.priority[n] = s
		n++
	}
	for _, s := range defaultPriority {
		if !slices.Contains(e.priority[:n], s) && n < len(e.priority) {
			e.priority[n] = s
			n++
		}
	}
	for p := range o.TCF {
		if p.bit() == 0 {
			errs = append(errs, fmt.Errorf("consent: TCF mapping for unknown purpose %d", p))
		}
	}
	for p := Purpose(1); int(p) <= numPurposes; p++ {
		r, ok := o.TCF[p]
		if !ok {
			r = DefaultTCFRule(p)
		}
		c, err := compileRule(p, r)
		if err != nil {
			errs = append(errs, err)
		}
		e.rules[p-1] = c
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return e, nil
}

func compileRule(p Purpose, r TCFRule) (tcfRule, error) {
	var c tcfRule
	var errs []error
	for _, id := range r.Purposes {
		if id < 1 || id > 24 {
			errs = append(errs, fmt.Errorf("consent: TCF rule for %v: purpose %d is not 1-24", p, id))
			continue
		}
		c.purposes |= 1 << uint(id-1)
	}
	for _, id := range r.LegitimateInterest {
		switch {
		case !slices.Contains(r.Purposes, id):
			errs = append(errs, fmt.Errorf("consent: TCF rule for %v: legitimate interest for purpose %d, which the rule does not require", p, id))
		case id == 1 || (id >= 3 && id <= 6):
			errs = append(errs, fmt.Errorf("consent: TCF rule for %v: TCF 2.2 forbids legitimate interest for purpose %d", p, id))
		default:
			c.li |= 1 << uint(id-1)
		}
	}
	for _, id := range r.SpecialFeatures {
		if id < 1 || id > 12 {
			errs = append(errs, fmt.Errorf("consent: TCF rule for %v: special feature %d is not 1-12", p, id))
			continue
		}
		c.sf |= 1 << uint(id-1)
	}
	if c.purposes == 0 && c.sf == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("consent: TCF rule for %v requires nothing: any TC string would grant it", p))
	}
	return c, errors.Join(errs...)
}
