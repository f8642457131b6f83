package consent

import "strconv"

// Vendor is what a TCF vendor (a recipient) declares: its Global Vendor List
// id and the TCF purposes it processes under consent, under legitimate
// interest, and those it may switch (flexible purposes), and the special
// features it uses. Masks hold bit id-1 for id.
type Vendor struct {
	ID              int
	Consent         uint32 // purposes under consent
	LI              uint32 // purposes under legitimate interest
	Flexible        uint32 // purposes whose basis a publisher restriction may switch
	SpecialFeatures uint16
}

// VendorReason says why a vendor may not process; VendorAllowed when it may.
type VendorReason uint8

// The reasons, in the order CheckVendor tests them.
const (
	VendorAllowed          VendorReason = iota
	VendorNoTCString                    // GDPR applies but no usable TC string came
	VendorNotDisclosed                  // the TC string's disclosed vendors segment does not list the vendor (TCF v2.3)
	VendorRestricted                    // a publisher restriction forbids a purpose (or its declared basis)
	VendorNoConsent                     // the vendor has no consent in the TC string
	VendorNoPurposeConsent              // a purpose the vendor uses under consent has none
	VendorNoLI                          // the vendor's legitimate interest was objected to
	VendorNoPurposeLI                   // a purpose the vendor uses under legitimate interest has none
	VendorNoSpecialFeature              // a special feature the vendor uses is not opted in
	VendorNoID                          // the recipient has no vendor id (and is not allowed without)
	NumVendorReasons
)

var vendorReasonNames = [NumVendorReasons]string{"allowed", "no_tc_string", "not_disclosed", "restricted", "no_vendor_consent",
	"no_purpose_consent", "no_vendor_li", "no_purpose_li", "no_special_feature", "no_vendor_id"}

// String returns the reason's metric label.
func (r VendorReason) String() string {
	if r < NumVendorReasons {
		return vendorReasonNames[r]
	}
	return "unknown"
}

// VendorVerdict is CheckVendor's answer: the reason and, where it names
// one, the purpose or special feature id it is about.
type VendorVerdict struct {
	Reason VendorReason
	ID     int
}

// Explain returns the verdict in words for vendor id vendor, e.g. "no
// vendor consent for vendor 755".
func (v VendorVerdict) Explain(vendor int) string {
	n, id := strconv.Itoa(vendor), strconv.Itoa(v.ID)
	switch v.Reason {
	case VendorAllowed:
		return "vendor " + n + " allowed"
	case VendorNoTCString:
		return "GDPR applies and no usable TC string came, so vendor " + n + " has no consent"
	case VendorNotDisclosed:
		return "vendor " + n + " is not in the TC string's disclosed vendors segment: the visitor was not shown it, so neither its consent nor its legitimate interest counts (TCF v2.3)"
	case VendorRestricted:
		return "a publisher restriction forbids TCF purpose " + id + " for vendor " + n
	case VendorNoConsent:
		return "no vendor consent for vendor " + n
	case VendorNoPurposeConsent:
		return "no consent for TCF purpose " + id + " (vendor " + n + " uses it under consent)"
	case VendorNoLI:
		return "legitimate interest objected to for vendor " + n
	case VendorNoPurposeLI:
		return "no legitimate interest for TCF purpose " + id + " (vendor " + n + " uses it under legitimate interest)"
	case VendorNoSpecialFeature:
		return "special feature " + id + " not opted in (vendor " + n + " uses it)"
	case VendorNoID:
		return "GDPR applies and the destination has no TCF vendor id (set tcf.vendor_id, or tcf.without_vendor for our own processing)"
	}
	return "unknown"
}

// CheckVendor reports whether the decoded, valid TC string t lets vendor v
// process for every purpose and special feature it declares, in the manner
// of Prebid Server's full enforcement, failing closed where that fails open:
//
//   - a vendor that a disclosed vendors segment, when the string has one,
//     does not list is refused whatever else the string says: under TCF
//     v2.3 it was never shown to the visitor, so neither its consent nor
//     its legitimate interest may be relied on (a string without the
//     segment is valid only if last updated before 2026-02-28, see
//     Problems, and is then read as before);
//   - a purpose under a "not allowed" publisher restriction refuses;
//   - a restriction requiring the other basis switches a flexible purpose
//     and refuses one that is not flexible;
//   - a purpose under consent needs the purpose's consent and the vendor's;
//   - a purpose under legitimate interest needs the purpose's legitimate
//     interest and the vendor's (purpose 1 never qualifies);
//   - a special feature needs its opt-in and the vendor's consent;
//   - a vendor that declares nothing needs its consent.
//
// It does not allocate.
func CheckVendor(t *TCString, v *Vendor) VendorVerdict {
	if t.disclosed.present && !t.VendorDisclosed(v.ID) {
		return VendorVerdict{VendorNotDisclosed, 0}
	}
	var r [4]uint32
	if t.nRestrict > 0 {
		r = t.PubRestrictions(v.ID)
	}
	vc, vli := t.VendorConsent(v.ID), t.VendorLI(v.ID)
	for id := 1; id <= 24; id++ {
		bit := uint32(1) << uint(id-1)
		byConsent, byLI := v.Consent&bit != 0, v.LI&bit != 0
		if !byConsent && !byLI {
			continue
		}
		if r[RestrictNotAllowed]&bit != 0 {
			return VendorVerdict{VendorRestricted, id}
		}
		switch {
		case byLI && r[RestrictRequireConsent]&bit != 0:
			if v.Flexible&bit == 0 {
				return VendorVerdict{VendorRestricted, id}
			}
			byConsent, byLI = true, false
		case byConsent && r[RestrictRequireLI]&bit != 0:
			if v.Flexible&bit == 0 || id == 1 {
				return VendorVerdict{VendorRestricted, id}
			}
			byConsent, byLI = false, true
		}
		if byConsent {
			if !vc {
				return VendorVerdict{VendorNoConsent, 0}
			}
			if !t.PurposeConsent(id) {
				return VendorVerdict{VendorNoPurposeConsent, id}
			}
			continue
		}
		if !vli {
			return VendorVerdict{VendorNoLI, 0}
		}
		if id == 1 || !t.PurposeLI(id) {
			return VendorVerdict{VendorNoPurposeLI, id}
		}
	}
	for id := 1; id <= 12; id++ {
		if v.SpecialFeatures&(1<<uint(id-1)) == 0 {
			continue
		}
		if !vc {
			return VendorVerdict{VendorNoConsent, 0}
		}
		if !t.SpecialFeatureOptIn(id) {
			return VendorVerdict{VendorNoSpecialFeature, id}
		}
	}
	if v.Consent|v.LI == 0 && v.SpecialFeatures == 0 && !vc {
		return VendorVerdict{VendorNoConsent, 0}
	}
	return VendorVerdict{}
}
