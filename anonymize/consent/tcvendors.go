package consent

// The lookup methods below read the decoded buffer of a TCString; they are
// valid only after Decode returned nil, and allocate nothing.

// PurposeConsent reports whether TCF purpose id (1-24) has consent.
func (t *TCString) PurposeConsent(id int) bool { return hasID(uint64(t.PurposesConsent), id, 24) }

// PurposeLI reports whether legitimate interest is established for TCF purpose id (1-24).
func (t *TCString) PurposeLI(id int) bool { return hasID(uint64(t.PurposesLI), id, 24) }

// SpecialFeatureOptIn reports whether special feature id (1-12) is opted in.
func (t *TCString) SpecialFeatureOptIn(id int) bool {
	return hasID(uint64(t.SpecialFeatureOptIns), id, 12)
}

func hasID(mask uint64, id, n int) bool {
	return id >= 1 && id <= n && mask>>uint(id-1)&1 == 1
}

// VendorConsent reports whether vendor id has consent. Range encodings are
// binary-searched, bit fields indexed: no list is built.
func (t *TCString) VendorConsent(id int) bool { return t.vendorIn(&t.vendors, id) }

// VendorLI reports whether vendor id has legitimate interest established.
func (t *TCString) VendorLI(id int) bool { return t.vendorIn(&t.vendorsLI, id) }

// MaxVendorConsent returns MaxVendorId of the vendor consent section.
func (t *TCString) MaxVendorConsent() int { return t.vendors.maxID }

// MaxVendorLI returns MaxVendorId of the vendor legitimate interest section.
func (t *TCString) MaxVendorLI() int { return t.vendorsLI.maxID }

// VendorConsentIsRange reports whether the vendor consent section used range encoding.
func (t *TCString) VendorConsentIsRange() bool { return t.vendors.isRange }

// VendorLIIsRange reports whether the vendor legitimate interest section used range encoding.
func (t *TCString) VendorLIIsRange() bool { return t.vendorsLI.isRange }

// HasDisclosedVendors reports whether the string carried a disclosed vendors segment.
func (t *TCString) HasDisclosedVendors() bool { return t.disclosed.present }

// VendorDisclosed reports whether the disclosed vendors segment lists vendor id.
func (t *TCString) VendorDisclosed(id int) bool { return t.vendorIn(&t.disclosed, id) }

// HasAllowedVendors reports whether the string carried an allowed vendors segment.
func (t *TCString) HasAllowedVendors() bool { return t.allowed.present }

// VendorAllowed reports whether the allowed vendors segment lists vendor id.
func (t *TCString) VendorAllowed(id int) bool { return t.vendorIn(&t.allowed, id) }

// entryBounds returns the first and last vendor of the range entry at bit off.
func (t *TCString) entryBounds(off int) (first, last int) {
	v := t.get(off, 33) // IsARange(1) StartOrOnlyVendorId(16) [EndVendorId(16)]
	first = int(v >> 16 & 0xffff)
	if v>>32 == 0 {
		return first, first
	}
	return first, int(v & 0xffff)
}

func (t *TCString) vendorIn(vl *vendorList, id int) bool {
	if !vl.present || id < 1 || id > vl.maxID {
		return false
	}
	if !vl.isRange {
		return t.get(vl.off+id-1, 1) == 1
	}
	// Sorted, non-overlapping (checked by Decode): find the last entry
	// starting at or before id.
	lo, hi := vl.off, vl.off+vl.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if first, _ := t.entryBounds(int(t.entries[m])); first <= id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == vl.off {
		return false
	}
	_, last := t.entryBounds(int(t.entries[lo-1]))
	return id <= last
}

// AppendVendorConsents appends the ids of the vendors with consent to dst, in
// ascending order. It is for reports and tests: a range of 65535 vendors
// appends 65535 ids.
func (t *TCString) AppendVendorConsents(dst []int) []int { return t.appendVendors(dst, &t.vendors) }

// AppendVendorLI appends the ids of the vendors with legitimate interest to
// dst, in ascending order.
func (t *TCString) AppendVendorLI(dst []int) []int { return t.appendVendors(dst, &t.vendorsLI) }

// AppendDisclosedVendors appends the ids the disclosed vendors segment lists
// to dst, in ascending order (none if the string has no such segment).
func (t *TCString) AppendDisclosedVendors(dst []int) []int { return t.appendVendors(dst, &t.disclosed) }

func (t *TCString) appendVendors(dst []int, vl *vendorList) []int {
	if !vl.isRange {
		for id := 1; id <= vl.maxID; id++ {
			if t.get(vl.off+id-1, 1) == 1 {
				dst = append(dst, id)
			}
		}
		return dst
	}
	for i := vl.off; i < vl.off+vl.n; i++ {
		first, last := t.entryBounds(int(t.entries[i]))
		for id := first; id <= last; id++ {
			dst = append(dst, id)
		}
	}
	return dst
}

// RestrictionType is the kind of a TCF publisher restriction.
type RestrictionType uint8

// Publisher restriction types, as numbered by the TCF.
const (
	RestrictNotAllowed     RestrictionType = 0 // purpose flatly not allowed for the vendor
	RestrictRequireConsent RestrictionType = 1 // vendor must use consent, not legitimate interest
	RestrictRequireLI      RestrictionType = 2 // vendor must use legitimate interest, not consent
	RestrictUndefined      RestrictionType = 3 // reserved
)

// String returns the restriction type's name.
func (r RestrictionType) String() string {
	switch r {
	case RestrictNotAllowed:
		return "not_allowed"
	case RestrictRequireConsent:
		return "require_consent"
	case RestrictRequireLI:
		return "require_li"
	}
	return "undefined"
}

// NumPubRestrictions returns the number of publisher restriction records.
func (t *TCString) NumPubRestrictions() int { return t.nRestrict }

// PubRestrictions returns, for vendor id, the TCF purposes under each
// publisher restriction type, indexed by RestrictionType, as 24-bit purpose
// masks (bit 0 = purpose 1). Records naming purposes above 24 are ignored.
// It scans all records once.
func (t *TCString) PubRestrictions(id int) (m [4]uint32) {
	off := t.restrictOff
	for i := 0; i < t.nRestrict; i++ {
		h := t.get(off, 20) // PurposeId(6) RestrictionType(2) NumEntries(12)
		purpose, typ, n := int(h>>14), h>>12&3, int(h&0xfff)
		off += 20
		hit := false
		for j := 0; j < n; j++ {
			first, last := t.entryBounds(off)
			if first <= id && id <= last {
				hit = true
			}
			if t.get(off, 1) == 0 {
				off += 17
			} else {
				off += 33
			}
		}
		if hit && purpose >= 1 && purpose <= 24 {
			m[typ] |= 1 << uint(purpose-1)
		}
	}
	return m
}
