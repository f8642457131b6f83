package consent

import (
	"bytes"
	"errors"
	"math/bits"
)

// GPP section ids this package reads (IAB Global Privacy Platform).
const (
	GPPSectionTCFEU   = 2 // tcfeuv2: a TCF v2 TC string
	GPPSectionTCFCA   = 5 // tcfcav1: TCF Canada (not decoded)
	GPPSectionUSP     = 6 // uspv1: a US Privacy string
	GPPSectionUSNat   = 7 // usnat: US national (MSPA)
	GPPSectionUSFirst = 8 // usca (8), usva (9), … US state sections (not decoded)
)

// maxGPPSection is the largest section id we represent. Ids run to 27 today;
// a header naming one above 63 is rejected.
const maxGPPSection = 63

// GPPSections is a set of GPP section ids 1-63 (bit id set).
type GPPSections uint64

// Has reports whether section id is in s.
func (s GPPSections) Has(id int) bool { return id >= 1 && id <= maxGPPSection && s>>uint(id)&1 == 1 }

// Len returns the number of sections in s.
func (s GPPSections) Len() int { return bits.OnesCount64(uint64(s)) }

// GPPHeader is the decoded header of a GPP string.
type GPPHeader struct {
	Version  uint8       // GPP spec version, 1
	Sections GPPSections // the sections the string carries, in id order
}

// Errors of the GPP decoders.
var (
	ErrGPPHeader   = errors.New("consent: malformed GPP header (want base64url Type 3, Version 1, Fibonacci-coded section ids)")
	ErrGPPVersion  = errors.New("consent: unsupported GPP version (want 1)")
	ErrGPPSection  = errors.New("consent: GPP section id above 63")
	ErrGPPSections = errors.New("consent: GPP string has a different number of sections than its header lists")
	ErrGPPSID      = errors.New("consent: malformed gpp_sid (want comma-separated section ids 1-63, or -1)")
	ErrUSNat       = errors.New("consent: malformed GPP usnat section")
)

// charBits reads bits from base64url characters, 6 per character, with no
// byte rounding (GPP sections are not byte-aligned). The characters must
// have been checked with validB64.
type charBits struct {
	s   []byte
	off int
}

func validB64(s []byte) bool {
	for _, c := range s {
		if b64[c] == 0xff {
			return false
		}
	}
	return len(s) > 0
}

func (r *charBits) read(n int) (uint64, bool) {
	if r.off+n > len(r.s)*6 {
		return 0, false
	}
	var v uint64
	for i := r.off; i < r.off+n; i++ {
		v = v<<1 | uint64(b64[r.s[i/6]]>>uint(5-i%6)&1)
	}
	r.off += n
	return v, true
}

// fib reads a Fibonacci-coded integer: bit i stands for F(i+2) (1, 2, 3, 5,
// 8, …) and "11" ends the code. Values are capped to keep sums small.
func (r *charBits) fib() (int, bool) {
	total, f1, f2 := 0, 1, 2
	prev := false
	for {
		b, ok := r.read(1)
		if !ok {
			return 0, false
		}
		if b == 1 {
			if prev {
				return total, true
			}
			total += f1
		}
		prev = b == 1
		f1, f2 = f2, f1+f2
		if f1 > 1<<12 { // far past any section id
			return 0, false
		}
	}
}

// ParseGPPHeader decodes the header of a GPP string: Type (6 bits, 3),
// Version (6 bits, 1), then the section ids as a Fibonacci-coded range. b may
// be the whole GPP string; the header ends at the first '~'. It does not
// allocate.
func ParseGPPHeader(b []byte) (GPPHeader, error) {
	if i := bytes.IndexByte(b, '~'); i >= 0 {
		b = b[:i]
	}
	if !validB64(b) {
		return GPPHeader{}, ErrGPPHeader
	}
	r := charBits{s: b}
	typ, ok1 := r.read(6)
	ver, ok2 := r.read(6)
	n, ok3 := r.read(12)
	if !ok1 || !ok2 || !ok3 || typ != 3 {
		return GPPHeader{}, ErrGPPHeader
	}
	if ver != 1 {
		return GPPHeader{}, ErrGPPVersion
	}
	h := GPPHeader{Version: uint8(ver)}
	last := 0
	for i := 0; i < int(n); i++ {
		isRange, ok := r.read(1)
		if !ok {
			return GPPHeader{}, ErrGPPHeader
		}
		off, ok := r.fib()
		if !ok {
			return GPPHeader{}, ErrGPPHeader
		}
		first := last + off
		end := first
		if isRange == 1 {
			l, ok := r.fib()
			if !ok {
				return GPPHeader{}, ErrGPPHeader
			}
			end = first + l
		}
		if end > maxGPPSection {
			return GPPHeader{}, ErrGPPSection
		}
		for id := first; id <= end; id++ {
			h.Sections |= 1 << uint(id)
		}
		last = end
	}
	return h, nil
}

// GPPSection returns the text of section id of the GPP string gpp, whose
// header h came from ParseGPPHeader(gpp), or nil if h does not list it.
// Sections follow the header in id order, separated by '~'. It returns
// ErrGPPSections if the string has fewer or more sections than h lists.
func GPPSection(gpp []byte, h GPPHeader, id int) ([]byte, error) {
	want := h.Sections.Len()
	k := -1 // index of id among the listed sections
	if h.Sections.Has(id) {
		k = (h.Sections & (1<<uint(id) - 1)).Len()
	}
	var found []byte
	i := bytes.IndexByte(gpp, '~')
	n := 0
	for i >= 0 {
		rest := gpp[i+1:]
		j := bytes.IndexByte(rest, '~')
		sec := rest
		if j >= 0 {
			sec = rest[:j]
			i += 1 + j
		} else {
			i = -1
		}
		if n == k {
			found = sec
		}
		n++
	}
	if n != want {
		return nil, ErrGPPSections
	}
	return found, nil
}

// ParseGPPSID parses gpp_sid, the applicable section ids: comma-separated
// ids 1-63, e.g. "2,6", or "-1" for none. It does not allocate.
func ParseGPPSID(b []byte) (GPPSections, error) {
	if string(b) == "-1" {
		return 0, nil
	}
	var s GPPSections
	for i := 0; i <= len(b); {
		v, digits := 0, 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' && digits < 3 {
			v = v*10 + int(b[i]-'0')
			i++
			digits++
		}
		if digits == 0 || v < 1 || v > maxGPPSection || (i < len(b) && b[i] != ',') {
			return 0, ErrGPPSID
		}
		s |= 1 << uint(v)
		i++
	}
	return s, nil
}

// MSPAOptOut is an opt-out field of an MSPA (US) GPP section.
type MSPAOptOut uint8

// MSPA opt-out values, as encoded.
const (
	OptOutNA    MSPAOptOut = 0 // not applicable
	OptedOut    MSPAOptOut = 1
	NotOptedOut MSPAOptOut = 2
)

// String returns "n/a", "opted_out" or "not_opted_out".
func (o MSPAOptOut) String() string {
	switch o {
	case OptedOut:
		return "opted_out"
	case NotOptedOut:
		return "not_opted_out"
	}
	return "n/a"
}

// MSPAConsent is a consent field of an MSPA (US) GPP section.
type MSPAConsent uint8

// MSPA consent values, as encoded.
const (
	MSPAConsentNA MSPAConsent = 0 // not applicable
	MSPANoConsent MSPAConsent = 1
	MSPAConsented MSPAConsent = 2
)

// String returns "n/a", "no_consent" or "consent".
func (c MSPAConsent) String() string {
	switch c {
	case MSPANoConsent:
		return "no_consent"
	case MSPAConsented:
		return "consent"
	}
	return "n/a"
}

// MSPANotice is a notice field of an MSPA (US) GPP section.
type MSPANotice uint8

// MSPA notice values, as encoded.
const (
	NoticeNA       MSPANotice = 0 // not applicable: the business does not do what the notice is about
	NoticeGiven    MSPANotice = 1
	NoticeNotGiven MSPANotice = 2
)

// String returns "n/a", "given" or "not_given".
func (n MSPANotice) String() string {
	switch n {
	case NoticeGiven:
		return "given"
	case NoticeNotGiven:
		return "not_given"
	}
	return "n/a"
}

// The known child fields of a usnat section (KnownChildSensitiveDataConsents),
// as indexes into USNat.KnownChild.
const (
	ChildAds13To16 = 0 // consent to selling, sharing or targeted advertising, consumer aged 13 to 16
	ChildUnder13   = 1 // verifiable parental consent to any processing, consumer under 13
	ChildAds16To17 = 2 // as ChildAds13To16, consumer aged 16 to 17 (version 2 only)
)

// USNat is the part of a GPP usnat section (US national, MSPA; versions 1
// and 2) that bears on our purposes.
type USNat struct {
	Version uint8
	// SharingNotice, SaleOptOutNotice, SharingOptOutNotice and
	// TargetedAdsOptOutNotice (TargetedAdvertisingOptOutNotice) say
	// whether the visitor was told of the sharing and of the right to opt
	// out of sale, sharing and targeted advertising.
	SharingNotice           MSPANotice
	SaleOptOutNotice        MSPANotice
	SharingOptOutNotice     MSPANotice
	TargetedAdsOptOutNotice MSPANotice
	SaleOptOut              MSPAOptOut
	SharingOptOut           MSPAOptOut
	TargetedAdsOptOut       MSPAOptOut
	// PreciseGeo is SensitiveDataProcessing (8): consent to process
	// precise geolocation data.
	PreciseGeo MSPAConsent
	// KnownChild are the KnownChildSensitiveDataConsents, indexed by
	// ChildAds13To16, ChildUnder13 and ChildAds16To17 (0 in version 1).
	KnownChild [3]MSPAConsent
	// ServiceProviderMode is MspaServiceProviderMode 1: the publisher put
	// the transaction in MSPA Service Provider Mode, under which nothing
	// is sold, shared or used for targeted advertising.
	ServiceProviderMode bool
	GPC                 bool // the GPC sub-section is present and set
}

// OptedOut reports whether the user opted out of sale, sharing or targeted advertising.
func (u USNat) OptedOut() bool {
	return u.SaleOptOut == OptedOut || u.SharingOptOut == OptedOut || u.TargetedAdsOptOut == OptedOut
}

// AdsRefused reports whether the section refuses sale, sharing and
// targeted advertising: the user opted out of one of them, or was not
// given the notice of the sharing or of the right to opt out of one of
// them (an opt-out field then reads 0, "not applicable or no notice was
// provided": the visitor had no chance to opt out), or the transaction is
// in MSPA Service Provider Mode.
func (u USNat) AdsRefused() bool {
	return u.OptedOut() || u.ServiceProviderMode ||
		u.SharingNotice == NoticeNotGiven || u.SaleOptOutNotice == NoticeNotGiven ||
		u.SharingOptOutNotice == NoticeNotGiven || u.TargetedAdsOptOutNotice == NoticeNotGiven
}

// ChildAdsRefused reports whether the visitor is a known child without
// consent to selling, sharing or targeted advertising.
func (u USNat) ChildAdsRefused() bool {
	return u.KnownChild[ChildAds13To16] == MSPANoConsent || u.KnownChild[ChildAds16To17] == MSPANoConsent
}

// ChildRefused reports whether the visitor is a known child under 13
// without verifiable parental consent to processing personal data at all.
func (u USNat) ChildRefused() bool { return u.KnownChild[ChildUnder13] == MSPANoConsent }

// usnatSensitive is the bit offset of SensitiveDataProcessing in a usnat
// core: after the version, six notices and three opt-outs.
const usnatSensitive = 24

// usnatPreciseGeo is the bit offset of SensitiveDataProcessing (8), precise
// geolocation, in both versions.
const usnatPreciseGeo = usnatSensitive + 2*7

// ParseUSNat decodes a GPP usnat section: Version (6 bits, 1 or 2), six
// notices (2 bits each: 0 n/a, 1 given, 2 not given; 3 is invalid), then
// SaleOptOut, SharingOptOut and
// TargetedAdvertisingOptOut (2 bits each: 0 n/a, 1 opted out, 2 did not; 3
// is invalid), SensitiveDataProcessing (12 fields in version 1, 16 in
// version 2; of them it reads precise geolocation, the 8th) and
// KnownChildSensitiveDataConsents (2 fields, 3 in version 2), each 0 n/a, 1
// no consent, 2 consent (3 is invalid), PersonalDataConsents,
// MspaCoveredTransaction, MspaOptOutOptionMode and MspaServiceProviderMode
// (of them it reads the last: 0 n/a, 1 yes, 2 no; 3 is invalid), and
// optional '.'-separated sub-sections, of which type 1 is GPC. The core must be as long as its
// version requires (60 bits for version 1, 70 for version 2). It does not
// allocate.
func ParseUSNat(b []byte) (USNat, error) {
	core := b
	var subs []byte
	if i := bytes.IndexByte(b, '.'); i >= 0 {
		core, subs = b[:i], b[i+1:]
	}
	if !validB64(core) {
		return USNat{}, ErrUSNat
	}
	r := charBits{s: core}
	ver, _ := r.read(6)
	need, nSensitive, nChild := 60, 12, 2
	switch ver {
	case 1:
	case 2:
		need, nSensitive, nChild = 70, 16, 3
	default:
		return USNat{}, ErrUSNat
	}
	if len(core)*6 < need {
		return USNat{}, ErrUSNat
	}
	var n [6]MSPANotice
	for i := range n {
		v, _ := r.read(2)
		if v == 3 {
			return USNat{}, ErrUSNat
		}
		n[i] = MSPANotice(v)
	}
	var o [3]MSPAOptOut
	for i := range o {
		v, _ := r.read(2)
		if v == 3 {
			return USNat{}, ErrUSNat
		}
		o[i] = MSPAOptOut(v)
	}
	u := USNat{Version: uint8(ver), SharingNotice: n[0], SaleOptOutNotice: n[1], SharingOptOutNotice: n[2], TargetedAdsOptOutNotice: n[3],
		SaleOptOut: o[0], SharingOptOut: o[1], TargetedAdsOptOut: o[2]}
	r.off = usnatPreciseGeo
	geo, _ := r.read(2)
	if geo == 3 {
		return USNat{}, ErrUSNat
	}
	u.PreciseGeo = MSPAConsent(geo)
	r.off = usnatSensitive + 2*nSensitive
	for i := 0; i < nChild; i++ {
		v, _ := r.read(2)
		if v == 3 {
			return USNat{}, ErrUSNat
		}
		u.KnownChild[i] = MSPAConsent(v)
	}
	r.off = need - 2 // MspaServiceProviderMode, the core's last field
	sp, _ := r.read(2)
	if sp == 3 {
		return USNat{}, ErrUSNat
	}
	u.ServiceProviderMode = sp == 1
	for more := subs != nil; more; {
		sub := subs
		if i := bytes.IndexByte(subs, '.'); i >= 0 {
			sub, subs = subs[:i], subs[i+1:]
		} else {
			more = false
		}
		if !validB64(sub) { // also rejects an empty sub-section
			return USNat{}, ErrUSNat
		}
		sr := charBits{s: sub}
		typ, _ := sr.read(2)
		if typ == 1 {
			g, ok := sr.read(1)
			if !ok {
				return USNat{}, ErrUSNat
			}
			u.GPC = u.GPC || g == 1
		}
	}
	return u, nil
}
