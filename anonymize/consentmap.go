package anonymize

import (
	"errors"
	"fmt"

	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/config"
)

// ourPurposes lists our purposes in record order.
var ourPurposes = [...]consent.Purpose{consent.Analytics, consent.Ads, consent.Personalization, consent.PreciseGeo, consent.DeviceStorage}

// purposeOf maps a config purpose to the consent package's.
func purposeOf(p config.Purpose) (consent.Purpose, error) {
	return consent.ParsePurpose(p.String())
}

func purposesOf(ps []config.Purpose) (consent.Purposes, error) {
	var out consent.Purposes
	for _, p := range ps {
		cp, err := purposeOf(p)
		if err != nil {
			return 0, err
		}
		out = out.With(cp)
	}
	return out, nil
}

// ignoredSignals returns the grant signals a priority list leaves out. The
// config promises they are ignored, so the engine hands them to the
// evaluator as absent.
func ignoredSignals(c *config.Consent) consent.SignalSet {
	if c.Merge != config.MergePriority {
		return 0
	}
	var listed consent.SignalSet
	for _, s := range c.Priority {
		if sig, err := consent.ParseSignal(s.String()); err == nil {
			listed = listed.With(sig)
		}
	}
	var ignored consent.SignalSet
	for _, sig := range []consent.Signal{consent.SignalExplicit, consent.SignalTCF, consent.SignalGPP, consent.SignalConsentMode} {
		if !listed.Has(sig) {
			ignored = ignored.With(sig)
		}
	}
	return ignored
}

// newEvaluator compiles the consent section into an Evaluator, and returns
// the purposes the deployment uses (nothing else is ever granted).
func newEvaluator(c *config.Consent) (*consent.Evaluator, consent.Purposes, error) {
	var errs []error
	enabled, err := purposesOf(c.Purposes)
	errs = append(errs, err)
	def, err := purposesOf(c.Default)
	errs = append(errs, err)
	o := consent.Options{
		Default:   def,
		IgnoreGPC: !c.HonourOptOutSignals,
		IgnoreDNT: !c.HonourOptOutSignals,
		VendorID:  c.TCF.VendorID,
		MaxAge:    c.TCF.MaxAge.D(),
		TCF:       map[consent.Purpose]consent.TCFRule{},
	}
	o.Merge, err = consent.ParseMergeRule(c.Merge.String())
	errs = append(errs, err)
	o.GPP, err = consent.ParseGPPMode(c.GPP.String())
	errs = append(errs, err)
	for _, s := range c.Priority {
		sig, err := consent.ParseSignal(s.String())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch sig {
		case consent.SignalExplicit, consent.SignalTCF, consent.SignalGPP, consent.SignalConsentMode:
			o.Priority = append(o.Priority, sig)
		}
		// us_privacy, gpc and dnt only ever withdraw purposes, so their
		// place in the priority list does not matter.
	}
	m := &c.TCF.Mapping
	for p, rule := range map[consent.Purpose]*config.TCFRule{
		consent.Analytics: &m.Analytics, consent.Ads: &m.Ads, consent.Personalization: &m.Personalization,
		consent.PreciseGeo: &m.PreciseGeo, consent.DeviceStorage: &m.DeviceStorage,
	} {
		var r consent.TCFRule
		for _, id := range rule.Purposes {
			r.Purposes = append(r.Purposes, int(id))
		}
		for _, id := range rule.SpecialFeatures {
			r.SpecialFeatures = append(r.SpecialFeatures, int(id))
		}
		o.TCF[p] = r
	}
	if err := errors.Join(errs...); err != nil {
		return nil, 0, fmt.Errorf("consent settings: %w", err)
	}
	ev, err := consent.NewEvaluator(o)
	if err != nil {
		return nil, 0, fmt.Errorf("consent settings: %w", err)
	}
	return ev, enabled, nil
}
