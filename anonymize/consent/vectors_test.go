package consent

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"
)

// tcfVector is one entry of testdata/tcf-public-vectors.json (copied from
// ../shared/testdata/consent: the values are facts asserted by the public
// suites of prebid/go-gdpr, LiveRamp/iabconsent and IAB's iabtcf-es).
// Pointer fields are nil when the suite did not assert them.
type tcfVector struct {
	Name                string     `json:"name"`
	Source              string     `json:"source"`
	TCString            string     `json:"tc_string"`
	DecodesAndValid     bool       `json:"decodes_and_valid"`
	Version             *int       `json:"version"`
	Created             *time.Time `json:"created"`
	CMPID               *int       `json:"cmp_id"`
	CMPVersion          *int       `json:"cmp_version"`
	ConsentScreen       *int       `json:"consent_screen"`
	ConsentLanguage     *string    `json:"consent_language"`
	VendorListVersion   *int       `json:"vendor_list_version"`
	TCFPolicyVersion    *int       `json:"tcf_policy_version"`
	IsServiceSpecific   *bool      `json:"is_service_specific"`
	PurposeOneTreatment *bool      `json:"purpose_one_treatment"`
	PublisherCC         *string    `json:"publisher_cc"`
	MaxVendorID         *int       `json:"max_vendor_id"`
	SpecialFeatures     []int      `json:"special_feature_opt_ins"`
	PurposesConsent     []int      `json:"purposes_consent"`
	PurposesLI          []int      `json:"purposes_li"`
	VendorConsents      []int      `json:"vendor_consents"`
	VendorLI            []int      `json:"vendor_li"`
}

func loadTCFVectors(t testing.TB) []tcfVector {
	t.Helper()
	b, err := os.ReadFile("testdata/tcf-public-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Vectors []tcfVector `json:"vectors"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Vectors) < 18 {
		t.Fatalf("only %d vectors in testdata", len(doc.Vectors))
	}
	return doc.Vectors
}

// vectorVerdicts is what this package decides for each public vector, with
// the reason where it differs from the file's decodes_and_valid flag. The
// file's flag means "the source suite accepts it"; two of those strings break
// the TCF 2.2 rules that Problems checks, so we decode them but do not treat
// them as valid consent.
var vectorVerdicts = map[string]struct {
	decodes  bool
	problems Problems
}{
	"bitfield":                {true, 0},
	"range+LI":                {true, 0},
	"created":                 {true, 0},
	"pubrestrict":             {true, 0},
	"p1t+sf":                  {true, 0},
	"4 segments":              {true, 0},
	"3 pubrestrictions":       {true, 0},
	"dup pubrestrictions":     {true, 0},
	"recent real CMP string":  {true, 0},
	"tcf2.2 LI on P3 invalid": {true, ProblemNotServiceSpecific | ProblemLIPurpose3 | ProblemLIPurpose4 | ProblemLIPurpose5},
	// iabconsent only checks LI for purposes 3-6; this policy-4 string is
	// also global-scope and has LI for purpose 1.
	"tcf2.2 valid": {true, ProblemNotServiceSpecific | ProblemLIPurpose1},
	// The file itself notes policy=2 < 4; it was created 2025-06-03.
	"spec example":                           {true, ProblemPolicyVersion},
	"VLV 0":                                  {false, 0}, // also truncated before the publisher restrictions
	"bitfield shorter than maxVendor":        {false, 0},
	"too short":                              {false, 0},
	"no LI section (panics go-gdpr v1.12.0)": {false, 0},
	"no LI section range (panics go-gdpr v1.12.0)":   {false, 0},
	"truncated real string (panics go-gdpr v1.12.0)": {false, 0},
}

func TestPublicVectors(t *testing.T) {
	var tc TCString
	for _, v := range loadTCFVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			want, ok := vectorVerdicts[v.Name]
			if !ok {
				t.Fatalf("vector %q has no verdict in vectorVerdicts", v.Name)
			}
			err := tc.Decode([]byte(v.TCString))
			if !want.decodes {
				if err == nil {
					t.Fatalf("decoded; want an error (source: %s)", v.Source)
				}
				if v.DecodesAndValid {
					t.Fatalf("file says decodes_and_valid")
				}
				t.Logf("rejected: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got := tc.Problems(); got != want.problems {
				t.Fatalf("problems = %q; want %q", got, want.problems)
			}
			if v.DecodesAndValid != (want.problems == 0) {
				t.Logf("differs from the file's decodes_and_valid=%v: %v", v.DecodesAndValid, tc.Problems())
			}
			checkInt := func(name string, want *int, got int) {
				t.Helper()
				if want != nil && *want != got {
					t.Errorf("%s = %d; want %d", name, got, *want)
				}
			}
			checkInt("version", v.Version, int(tc.Version))
			checkInt("cmp_id", v.CMPID, int(tc.CMPID))
			checkInt("cmp_version", v.CMPVersion, int(tc.CMPVersion))
			checkInt("consent_screen", v.ConsentScreen, int(tc.ConsentScreen))
			checkInt("vendor_list_version", v.VendorListVersion, int(tc.VendorListVersion))
			checkInt("tcf_policy_version", v.TCFPolicyVersion, int(tc.PolicyVersion))
			checkInt("max_vendor_id", v.MaxVendorID, tc.MaxVendorConsent())
			if v.ConsentLanguage != nil && *v.ConsentLanguage != string(tc.ConsentLanguage[:]) {
				t.Errorf("consent_language = %s; want %s", tc.ConsentLanguage[:], *v.ConsentLanguage)
			}
			if v.PublisherCC != nil && *v.PublisherCC != string(tc.PublisherCC[:]) {
				t.Errorf("publisher_cc = %s; want %s", tc.PublisherCC[:], *v.PublisherCC)
			}
			if v.IsServiceSpecific != nil && *v.IsServiceSpecific != tc.IsServiceSpecific {
				t.Errorf("is_service_specific = %v", tc.IsServiceSpecific)
			}
			if v.PurposeOneTreatment != nil && *v.PurposeOneTreatment != tc.PurposeOneTreatment {
				t.Errorf("purpose_one_treatment = %v", tc.PurposeOneTreatment)
			}
			if v.Created != nil && !v.Created.Equal(tc.Created) {
				t.Errorf("created = %v; want %v", tc.Created, *v.Created)
			}
			checkIDs := func(name string, want, got []int) {
				t.Helper()
				if want != nil && !slices.Equal(want, got) {
					t.Errorf("%s = %v; want %v", name, got, want)
				}
			}
			checkIDs("special_feature_opt_ins", v.SpecialFeatures, maskIDs(uint64(tc.SpecialFeatureOptIns), 12))
			checkIDs("purposes_consent", v.PurposesConsent, maskIDs(uint64(tc.PurposesConsent), 24))
			checkIDs("purposes_li", v.PurposesLI, maskIDs(uint64(tc.PurposesLI), 24))
			checkIDs("vendor_consents", v.VendorConsents, tc.AppendVendorConsents(nil))
			checkIDs("vendor_li", v.VendorLI, tc.AppendVendorLI(nil))
			// The lookup must agree with the list, for every id up to MaxVendorId+1.
			vc := tc.AppendVendorConsents(nil)
			for id := 0; id <= tc.MaxVendorConsent()+1; id++ {
				if tc.VendorConsent(id) != slices.Contains(vc, id) {
					t.Fatalf("VendorConsent(%d) = %v, disagrees with the list", id, tc.VendorConsent(id))
				}
			}
		})
	}
}

func maskIDs(m uint64, n int) []int {
	ids := []int{}
	for i := 1; i <= n; i++ {
		if m>>uint(i-1)&1 == 1 {
			ids = append(ids, i)
		}
	}
	return ids
}
