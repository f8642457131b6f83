package consent

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"time"
)

// MaxTCStringLen is the longest TC string, in characters (all segments and
// dots), that Decode accepts. Browsers store at most 4096 bytes per cookie,
// so a euconsent-v2 cookie cannot be longer, and the longest strings real
// CMPs write are 1-2 KB. A longer string is rejected rather than buffered, so
// that no input makes Decode allocate.
const MaxTCStringLen = 4096

// maxTCBytes is the most decoded bytes MaxTCStringLen characters give.
const maxTCBytes = MaxTCStringLen * 6 / 8

// maxRangeEntries bounds the vendor range entries of all segments: each
// entry takes at least 17 bits, and all segments together have at most
// maxTCBytes*8 bits, so this many always fit and the array never overflows.
const maxRangeEntries = maxTCBytes*8/17 + 1

// Bit layout of the fixed part of the core segment (TCF v2 "core string").
const (
	bitVersion      = 0
	bitCreated      = 6
	bitLastUpdated  = 42
	bitCMPID        = 78
	bitCMPVersion   = 90
	bitScreen       = 102
	bitLanguage     = 108
	bitVLV          = 120
	bitPolicy       = 132
	bitFlags        = 138
	bitSpecialFeat  = 140
	bitPurposes     = 152
	bitPurposesLI   = 176
	bitP1T          = 200
	bitPublisherCC  = 201
	bitVendorsStart = 213
)

// TCString is a decoded IAB TCF v2 TC string. Decode fills it in place and
// never allocates, so one TCString (about 6 KB) can be reused for every
// request: keep it in a sync.Pool or per worker. All lists (vendor consents
// and legitimate interests, range entries, publisher restrictions) stay in
// the TCString's own decoded buffer and are read by the lookup methods, so a
// TCString does not refer to the input after Decode returns.
//
// Purpose and feature sets are bitmasks: bit i-1 set means id i is set
// (purpose 1 is bit 0). The exported fields are only meaningful after Decode
// returned nil.
type TCString struct {
	Version              uint8     // encoding version, always 2
	Created              time.Time // when the string was first created, UTC, decisecond precision
	LastUpdated          time.Time // when it was last changed, UTC
	CMPID                uint16    // the CMP that last updated it
	CMPVersion           uint16
	ConsentScreen        uint8
	ConsentLanguage      [2]byte // ISO 639-1, upper case
	VendorListVersion    uint16  // the GVL version used
	PolicyVersion        uint8   // TCF policy version: 4 = TCF 2.2, 5 = current
	IsServiceSpecific    bool
	UseNonStandardTexts  bool
	SpecialFeatureOptIns uint16 // 12 bits: bit 0 = special feature 1 (precise geolocation)
	PurposesConsent      uint32 // 24 bits: bit 0 = purpose 1
	PurposesLI           uint32 // 24 bits: purposes with legitimate interest established
	PurposeOneTreatment  bool
	PublisherCC          [2]byte // ISO 3166-1 alpha-2, upper case

	// Publisher TC segment (segment type 3), when present.
	HasPublisherTC        bool
	PubPurposesConsent    uint32 // 24 bits, like PurposesConsent
	PubPurposesLI         uint32
	NumCustomPurposes     uint8  // 0-63
	CustomPurposesConsent uint64 // bit i-1 = custom purpose i
	CustomPurposesLI      uint64

	createdDs   int64 // Created in deciseconds since the epoch
	updatedDs   int64 // LastUpdated in deciseconds since the epoch
	vendors     vendorList
	vendorsLI   vendorList
	disclosed   vendorList // segment type 1
	allowed     vendorList // segment type 2
	nRestrict   int        // number of publisher restriction records
	restrictOff int        // bit offset of the first record
	nEntries    int        // used part of entries
	err         DecodeError
	entries     [maxRangeEntries]uint16 // bit offsets of core range entries
	buf         [maxTCBytes + 16]byte   // decoded segments; +16: get loads 8 bytes at a time
}

// vendorList locates one vendor section (bit field or range entries) in buf.
type vendorList struct {
	present bool
	isRange bool
	maxID   int
	off     int // bit field: bit offset of vendor 1 in buf; ranges: index of the first entry in entries
	n       int // number of range entries
}

// get returns the n (1-57) bits at bit offset off of buf. The caller has
// checked that they lie inside the segment; bits past its end are never
// returned because the shift drops them.
func (t *TCString) get(off, n int) uint64 {
	v := binary.BigEndian.Uint64(t.buf[off>>3:])
	return v << uint(off&7) >> uint(64-n)
}

func (t *TCString) fail(seg, pos int, r DecodeReason, f field, a, b int) error {
	t.err = DecodeError{Segment: seg, Pos: pos, Reason: r, field: f, a: a, b: b}
	return &t.err
}

func (t *TCString) reset() {
	t.Version, t.Created, t.LastUpdated = 0, time.Time{}, time.Time{}
	t.CMPID, t.CMPVersion, t.ConsentScreen = 0, 0, 0
	t.ConsentLanguage, t.PublisherCC = [2]byte{}, [2]byte{}
	t.VendorListVersion, t.PolicyVersion = 0, 0
	t.IsServiceSpecific, t.UseNonStandardTexts, t.PurposeOneTreatment = false, false, false
	t.SpecialFeatureOptIns, t.PurposesConsent, t.PurposesLI = 0, 0, 0
	t.HasPublisherTC, t.PubPurposesConsent, t.PubPurposesLI = false, 0, 0
	t.NumCustomPurposes, t.CustomPurposesConsent, t.CustomPurposesLI = 0, 0, 0
	t.createdDs, t.updatedDs = 0, 0
	t.vendors, t.vendorsLI, t.disclosed, t.allowed = vendorList{}, vendorList{}, vendorList{}, vendorList{}
	t.nRestrict, t.restrictOff, t.nEntries = 0, 0, 0
}

// Decode decodes the TC string s (base64url segments joined by dots, as found
// in gdpr_consent or the euconsent-v2 cookie) into t, replacing what t held.
// s is only read during the call. It decodes the whole core segment, walks
// the publisher restrictions, and parses the disclosed vendors, allowed
// vendors and publisher TC segments. The range entries of every vendor list
// must be sorted, must not overlap and must lie within 1..MaxVendorId.
//
// On failure it returns a *DecodeError that says where and why (valid until
// the next Decode on t), and t is left empty, as after a Decode of nothing:
// every lookup answers false. Decode does not check the TCF 2.2 policy
// rules: call Problems for that.
func (t *TCString) Decode(s []byte) error {
	t.reset()
	if err := t.decode(s); err != nil {
		t.reset() // drop fields and sections read before the failure
		return err
	}
	return nil
}

func (t *TCString) decode(s []byte) error {
	if len(s) > MaxTCStringLen {
		return t.fail(0, MaxTCStringLen, ReasonTooLong, fieldString, len(s), 0)
	}
	seg, start, byteOff := 0, 0, 0
	var seen [4]bool
	for {
		end := len(s)
		if i := bytes.IndexByte(s[start:], '.'); i >= 0 {
			end = start + i
		}
		src := s[start:end]
		if len(src) == 0 {
			return t.fail(seg, start, ReasonEmpty, fieldString, 0, 0)
		}
		if len(src)%4 == 1 { // 6 bits cannot make a byte: no encoder writes this
			return t.fail(seg, end-1, ReasonBadLength, fieldString, len(src), 0)
		}
		if byteOff+(len(src)*6+7)/8+8 > len(t.buf) {
			// Unreachable: at most 4 segments are decoded (a 5th must
			// repeat a type), and their bytes fit. Kept as a guard.
			return t.fail(seg, start, ReasonTooLong, fieldString, len(s), 0)
		}
		if _, bad := decodeB64(t.buf[byteOff:], src); bad >= 0 {
			return t.fail(seg, start+bad, ReasonBadChar, fieldString, int(src[bad]), 0)
		}
		// Only whole bytes count, as with every base64 decoder: the TCF
		// pads the bit string to a byte boundary before encoding.
		nbytes := len(src) * 6 / 8
		base, limit := byteOff*8, (byteOff+nbytes)*8
		var err error
		if seg == 0 {
			err = t.decodeCore(limit)
		} else {
			err = t.decodeSegment(seg, base, limit, &seen)
		}
		if err != nil {
			return err
		}
		byteOff += nbytes
		if end == len(s) {
			return nil
		}
		start = end + 1
		seg++
	}
}

// coreFieldAt names the fixed core field that contains bit off.
func coreFieldAt(off int) (field, int) {
	switch {
	case off < bitCreated:
		return fieldVersion, bitVersion
	case off < bitLastUpdated:
		return fieldCreated, bitCreated
	case off < bitCMPID:
		return fieldLastUpdated, bitLastUpdated
	case off < bitCMPVersion:
		return fieldCMPID, bitCMPID
	case off < bitScreen:
		return fieldCMPVersion, bitCMPVersion
	case off < bitLanguage:
		return fieldConsentScreen, bitScreen
	case off < bitVLV:
		return fieldConsentLanguage, bitLanguage
	case off < bitPolicy:
		return fieldVendorListVersion, bitVLV
	case off < bitFlags:
		return fieldPolicyVersion, bitPolicy
	case off < bitSpecialFeat:
		return fieldFlags, bitFlags
	case off < bitPurposes:
		return fieldSpecialFeatures, bitSpecialFeat
	case off < bitPurposesLI:
		return fieldPurposesConsent, bitPurposes
	case off < bitP1T:
		return fieldPurposesLI, bitPurposesLI
	case off < bitPublisherCC:
		return fieldPurposeOneTreatment, bitP1T
	default:
		return fieldPublisherCC, bitPublisherCC
	}
}

// decodeCore decodes the core segment, which starts at bit 0 of buf and
// ends at bit end.
func (t *TCString) decodeCore(end int) error {
	if end < 6 {
		return t.fail(0, 0, ReasonTruncated, fieldVersion, 0, 0)
	}
	if v := t.get(bitVersion, 6); v != 2 {
		return t.fail(0, 0, ReasonVersion, fieldVersion, int(v), 0)
	}
	if end < bitVendorsStart {
		f, pos := coreFieldAt(end)
		return t.fail(0, pos, ReasonTruncated, f, 0, 0)
	}
	t.Version = 2
	t.createdDs = int64(t.get(bitCreated, 36))
	t.Created = dsTime(t.createdDs)
	t.updatedDs = int64(t.get(bitLastUpdated, 36))
	t.LastUpdated = dsTime(t.updatedDs)
	t.CMPID = uint16(t.get(bitCMPID, 12))
	t.CMPVersion = uint16(t.get(bitCMPVersion, 12))
	t.ConsentScreen = uint8(t.get(bitScreen, 6))
	for i := 0; i < 2; i++ {
		if c := t.get(bitLanguage+6*i, 6); c > 25 {
			return t.fail(0, bitLanguage+6*i, ReasonLetter, fieldConsentLanguage, int(c), 0)
		} else {
			t.ConsentLanguage[i] = 'A' + byte(c)
		}
		if c := t.get(bitPublisherCC+6*i, 6); c > 25 {
			return t.fail(0, bitPublisherCC+6*i, ReasonLetter, fieldPublisherCC, int(c), 0)
		} else {
			t.PublisherCC[i] = 'A' + byte(c)
		}
	}
	t.VendorListVersion = uint16(t.get(bitVLV, 12))
	t.PolicyVersion = uint8(t.get(bitPolicy, 6))
	flags := t.get(bitFlags, 2)
	t.IsServiceSpecific = flags&2 != 0
	t.UseNonStandardTexts = flags&1 != 0
	t.SpecialFeatureOptIns = uint16(reverseBits(t.get(bitSpecialFeat, 12), 12))
	t.PurposesConsent = uint32(reverseBits(t.get(bitPurposes, 24), 24))
	t.PurposesLI = uint32(reverseBits(t.get(bitPurposesLI, 24), 24))
	t.PurposeOneTreatment = t.get(bitP1T, 1) == 1

	off, err := t.readVendors(0, 0, bitVendorsStart, end, &t.vendors,
		fieldVendorConsentHeader, fieldVendorConsentBits, fieldVendorConsentRange)
	if err != nil {
		return err
	}
	if off, err = t.readVendors(0, 0, off, end, &t.vendorsLI,
		fieldVendorLIHeader, fieldVendorLIBits, fieldVendorLIRange); err != nil {
		return err
	}
	// Publisher restrictions: NumPubRestrictions(12), then per record
	// PurposeId(6) RestrictionType(2) NumEntries(12) and range entries.
	if end-off < 12 {
		return t.fail(0, off, ReasonTruncated, fieldPubRestrictions, 0, 0)
	}
	t.nRestrict = int(t.get(off, 12))
	off += 12
	t.restrictOff = off
	for i := 0; i < t.nRestrict; i++ {
		if end-off < 20 {
			return t.fail(0, off, ReasonTruncated, fieldPubRestrictions, 0, 0)
		}
		n := int(t.get(off+8, 12))
		off += 20
		if off, err = t.skipRanges(0, 0, off, end, n, fieldPubRestrictionRange); err != nil {
			return err
		}
	}
	return nil
}

// readVendors reads a vendor section at bit off of a segment that starts at
// bit base: MaxVendorId(16), IsRangeEncoding(1), then a bit field of
// MaxVendorId bits or NumEntries(12) range entries. Range entries must be
// sorted, must not overlap, and must lie within 1..MaxVendorId; their bit
// offsets are recorded in t.entries for binary search. It returns the offset
// after the section.
func (t *TCString) readVendors(seg, base, off, end int, vl *vendorList, hdr, bitsF, rangeF field) (int, error) {
	if end-off < 17 {
		return 0, t.fail(seg, off-base, ReasonTruncated, hdr, 0, 0)
	}
	vl.present = true
	vl.maxID = int(t.get(off, 16))
	vl.isRange = t.get(off+16, 1) == 1
	off += 17
	if !vl.isRange {
		if end-off < vl.maxID {
			return 0, t.fail(seg, off-base, ReasonTruncated, bitsF, vl.maxID, 0)
		}
		vl.off = off
		return off + vl.maxID, nil
	}
	if end-off < 12 {
		return 0, t.fail(seg, off-base, ReasonTruncated, hdr, 0, 0)
	}
	vl.n = int(t.get(off, 12))
	off += 12
	vl.off = t.nEntries
	prev := 0
	for i := 0; i < vl.n; i++ {
		e := off
		if end-off < 17 || t.nEntries == len(t.entries) {
			return 0, t.fail(seg, e-base, ReasonTruncated, rangeF, 0, 0)
		}
		isRange := t.get(off, 1) == 1
		first := int(t.get(off+1, 16))
		last := first
		off += 17
		if isRange {
			if end-off < 16 {
				return 0, t.fail(seg, e-base, ReasonTruncated, rangeF, 0, 0)
			}
			last = int(t.get(off, 16))
			off += 16
		}
		switch {
		case first == 0:
			return 0, t.fail(seg, e-base, ReasonRangeZero, rangeF, 0, 0)
		case last < first:
			return 0, t.fail(seg, e-base, ReasonRangeReversed, rangeF, first, last)
		case last > vl.maxID:
			return 0, t.fail(seg, e-base, ReasonRangePastMax, rangeF, last, vl.maxID)
		case first <= prev:
			return 0, t.fail(seg, e-base, ReasonRangeUnsorted, rangeF, first, prev)
		}
		prev = last
		t.entries[t.nEntries] = uint16(e)
		t.nEntries++
	}
	return off, nil
}

// skipRanges walks the n range entries of a publisher restriction, checking
// only that they are complete and not reversed: restrictions are scanned
// linearly, and real CMPs repeat records and entries, so order is not checked.
func (t *TCString) skipRanges(seg, base, off, end, n int, f field) (int, error) {
	for i := 0; i < n; i++ {
		e := off
		if end-off < 17 {
			return 0, t.fail(seg, e-base, ReasonTruncated, f, 0, 0)
		}
		isRange := t.get(off, 1) == 1
		off += 17
		if isRange {
			if end-off < 16 {
				return 0, t.fail(seg, e-base, ReasonTruncated, f, 0, 0)
			}
			first, last := int(t.get(e+1, 16)), int(t.get(off, 16))
			if last < first {
				return 0, t.fail(seg, e-base, ReasonRangeReversed, f, first, last)
			}
			off += 16
		}
	}
	return off, nil
}

// decodeSegment decodes a later segment (bits base to end of buf): disclosed
// vendors (1), allowed vendors (2) or publisher TC (3), each at most once.
func (t *TCString) decodeSegment(seg, base, end int, seen *[4]bool) error {
	if end-base < 3 {
		return t.fail(seg, 0, ReasonTruncated, fieldSegmentType, 0, 0)
	}
	typ := int(t.get(base, 3))
	if typ < 1 || typ > 3 {
		return t.fail(seg, 0, ReasonSegmentType, fieldSegmentType, typ, 0)
	}
	if seen[typ] {
		return t.fail(seg, 0, ReasonSegmentRepeat, fieldSegmentType, typ, 0)
	}
	seen[typ] = true
	off := base + 3
	switch typ {
	case 1, 2:
		vl := &t.disclosed
		if typ == 2 {
			vl = &t.allowed
		}
		_, err := t.readVendors(seg, base, off, end, vl, fieldOOBHeader, fieldOOBBits, fieldOOBRange)
		return err
	}
	// Publisher TC: PubPurposesConsent(24) PubPurposesLITransparency(24)
	// NumCustomPurposes(6) CustomPurposesConsent(n) CustomPurposesLITransparency(n).
	if end-off < 54 {
		return t.fail(seg, off-base, ReasonTruncated, fieldPublisherTC, 0, 0)
	}
	t.PubPurposesConsent = uint32(reverseBits(t.get(off, 24), 24))
	t.PubPurposesLI = uint32(reverseBits(t.get(off+24, 24), 24))
	n := int(t.get(off+48, 6))
	off += 54
	if end-off < 2*n {
		return t.fail(seg, off-base, ReasonTruncated, fieldPublisherTC, 0, 0)
	}
	if n > 0 {
		t.CustomPurposesConsent = reverseBits(t.getLong(off, n), n)
		t.CustomPurposesLI = reverseBits(t.getLong(off+n, n), n)
	}
	t.NumCustomPurposes = uint8(n)
	t.HasPublisherTC = true
	return nil
}

// reverseBits turns an n-bit field read most significant bit first (the
// first id first) into a mask with id 1 in bit 0.
func reverseBits(v uint64, n int) uint64 {
	return bits.Reverse64(v) >> uint(64-n)
}

// getLong is get for n up to 64 bits.
func (t *TCString) getLong(off, n int) uint64 {
	if n <= 32 {
		return t.get(off, n)
	}
	return t.get(off, 32)<<uint(n-32) | t.get(off+32, n-32)
}

// dsTime converts deciseconds since the Unix epoch to UTC time.
func dsTime(ds int64) time.Time {
	return time.Unix(ds/10, ds%10*int64(100*time.Millisecond)).UTC()
}
