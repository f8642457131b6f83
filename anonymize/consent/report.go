package consent

import (
	"encoding/json"
	"time"
)

// Report is a decoded TC string in the shape `beacongate consent` prints, for
// privacy officers: every core field, the vendor lists as sorted ids, and
// the TCF 2.2 and v2.3 verdict. Building one allocates; it is not for the hot path.
type Report struct {
	Version              int       `json:"version"`
	Created              time.Time `json:"created"`      // RFC 3339, UTC
	LastUpdated          time.Time `json:"last_updated"` // RFC 3339, UTC
	CMPID                int       `json:"cmp_id"`
	CMPVersion           int       `json:"cmp_version"`
	ConsentScreen        int       `json:"consent_screen"`
	ConsentLanguage      string    `json:"consent_language"`
	VendorListVersion    int       `json:"vendor_list_version"`
	TCFPolicyVersion     int       `json:"tcf_policy_version"`
	IsServiceSpecific    bool      `json:"is_service_specific"`
	UseNonStandardTexts  bool      `json:"use_non_standard_texts"`
	SpecialFeatureOptIns []int     `json:"special_feature_opt_ins"`
	PurposesConsent      []int     `json:"purposes_consent"`
	PurposesLI           []int     `json:"purposes_li"`
	PurposeOneTreatment  bool      `json:"purpose_one_treatment"`
	PublisherCC          string    `json:"publisher_cc"`
	VendorConsents       []int     `json:"vendor_consents"`
	VendorLI             []int     `json:"vendor_li"`
	// HasDisclosedVendors: the string carries a disclosed vendors segment
	// (mandatory since TCF v2.3); DisclosedVendors lists its vendors, the
	// only ones whose consent or legitimate interest counts when it does.
	HasDisclosedVendors bool     `json:"disclosed_vendors_segment"`
	DisclosedVendors    []int    `json:"disclosed_vendors"`
	Valid               bool     `json:"valid"`
	Problems            []string `json:"problems"`
}

// NewReport builds the report of t, which must hold a decoded string, with
// the problems the gateway finds in it for a request arriving at now under
// consent.tcf.max_age maxAge (see DateProblems; a zero now judges no
// dates). Lists are never nil, so they print as [] when empty.
func NewReport(t *TCString, now time.Time, maxAge time.Duration) Report {
	p := t.Problems() | t.DateProblems(now, maxAge)
	return Report{
		Version:              int(t.Version),
		Created:              t.Created,
		LastUpdated:          t.LastUpdated,
		CMPID:                int(t.CMPID),
		CMPVersion:           int(t.CMPVersion),
		ConsentScreen:        int(t.ConsentScreen),
		ConsentLanguage:      string(t.ConsentLanguage[:]),
		VendorListVersion:    int(t.VendorListVersion),
		TCFPolicyVersion:     int(t.PolicyVersion),
		IsServiceSpecific:    t.IsServiceSpecific,
		UseNonStandardTexts:  t.UseNonStandardTexts,
		SpecialFeatureOptIns: appendIDs([]int{}, uint64(t.SpecialFeatureOptIns), 12),
		PurposesConsent:      appendIDs([]int{}, uint64(t.PurposesConsent), 24),
		PurposesLI:           appendIDs([]int{}, uint64(t.PurposesLI), 24),
		PurposeOneTreatment:  t.PurposeOneTreatment,
		PublisherCC:          string(t.PublisherCC[:]),
		VendorConsents:       t.AppendVendorConsents([]int{}),
		VendorLI:             t.AppendVendorLI([]int{}),
		HasDisclosedVendors:  t.HasDisclosedVendors(),
		DisclosedVendors:     t.AppendDisclosedVendors([]int{}),
		Valid:                p == 0,
		Problems:             p.AppendStrings([]string{}),
	}
}

// DecodeReport decodes the TC string s and returns its report (see
// NewReport) as indented JSON, or the decode error (one line saying where
// and why).
func DecodeReport(s []byte, now time.Time, maxAge time.Duration) ([]byte, error) {
	t := new(TCString)
	if err := t.Decode(s); err != nil {
		return nil, err
	}
	return json.MarshalIndent(NewReport(t, now, maxAge), "", "  ")
}

func appendIDs(dst []int, mask uint64, n int) []int {
	for id := 1; id <= n; id++ {
		if mask>>uint(id-1)&1 == 1 {
			dst = append(dst, id)
		}
	}
	return dst
}
