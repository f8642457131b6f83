package consent

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReportJSON(t *testing.T) {
	// "recent real CMP string" from the public vectors (iabtcf-es).
	out, err := DecodeReport([]byte("CQd924AQd924AASACCENCNFsAP_gAEIAACiQL6QBAAGAAOANmAcAF9IAIADgAA"), time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	keys := []string{"version", "created", "last_updated", "cmp_id", "cmp_version", "consent_screen", "consent_language",
		"vendor_list_version", "tcf_policy_version", "is_service_specific", "use_non_standard_texts", "special_feature_opt_ins",
		"purposes_consent", "purposes_li", "purpose_one_treatment", "publisher_cc", "vendor_consents", "vendor_li", "disclosed_vendors_segment", "disclosed_vendors",
		"valid", "problems"}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	want := slices.Clone(keys)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("keys %v; want exactly %v", got, want)
	}
	// Key order follows the list.
	last := -1
	for _, k := range keys {
		i := strings.Index(string(out), `"`+k+`"`)
		if i < last {
			t.Fatalf("key %s out of order", k)
		}
		last = i
	}
	check := map[string]string{
		"version": "2", "created": `"2026-01-13T00:00:00Z"`, "cmp_id": "18", "consent_language": `"EN"`,
		"tcf_policy_version": "5", "is_service_specific": "true", "purposes_li": "[2,7]", "publisher_cc": `"US"`,
		"vendor_consents": "[12,14,435,448]", "vendor_li": "[14]", "valid": "true", "problems": "[]",
		"special_feature_opt_ins": "[1,2]", "disclosed_vendors_segment": "false", "disclosed_vendors": "[]",
	}
	for k, v := range check {
		if compact(m[k]) != v {
			t.Fatalf("%s = %s; want %s", k, m[k], v)
		}
	}
	if !strings.Contains(string(out), "\n  \"version\": 2,\n") {
		t.Fatalf("not indented:\n%s", out)
	}
}

func compact(b []byte) string {
	return strings.NewReplacer(" ", "", "\n", "").Replace(string(b))
}

func TestReportInvalidAndEmpty(t *testing.T) {
	s := goodSpec()
	s.ss = false
	s.pc, s.pli, s.sf = nil, []int{1}, nil
	s.vc, s.vli = vendorSpec{}, vendorSpec{}
	out, err := DecodeReport([]byte(s.encode()), time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	if r.Valid || len(r.Problems) != 2 || !strings.Contains(r.Problems[0], "service-specific") || !strings.Contains(r.Problems[1], "purpose 1") {
		t.Fatalf("%+v", r)
	}
	for _, k := range []string{`"purposes_consent": []`, `"vendor_consents": []`, `"special_feature_opt_ins": []`} {
		if !strings.Contains(string(out), k) {
			t.Fatalf("want %s in\n%s", k, out)
		}
	}
}

// TestReportDisclosedVendors: the report shows the disclosed vendors segment
// (TCF v2.3) and, for a string last updated on or after 2026-02-28 without
// it, says what is wrong.
func TestReportDisclosedVendors(t *testing.T) {
	s := goodSpec()
	s.updated = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var r Report
	out, err := DecodeReport([]byte(s.encode()), time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	if r.Valid || r.HasDisclosedVendors || len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "no disclosed vendors segment (required by TCF v2.3") {
		t.Fatalf("without the segment: %+v", r)
	}
	s.segments = []string{oobSegment(1, vendorSpec{max: 800, ranges: [][2]int{{12, 14}, {755, 755}}})}
	if out, err = DecodeReport([]byte(s.encode()), time.Time{}, 0); err != nil {
		t.Fatal(err)
	}
	r = Report{}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	if !r.Valid || !r.HasDisclosedVendors || !slices.Equal(r.DisclosedVendors, []int{12, 13, 14, 755}) {
		t.Fatalf("with the segment: %+v", r)
	}
}

func TestReportError(t *testing.T) {
	_, err := DecodeReport([]byte("COyiILmOyiILmADACHENAPCAAAAAAAAAAAAAE5QBgALgAqgD8AQACSwEygJyAAA"), time.Time{}, 0)
	if err == nil || err.Error() != "bit 360: vendor legitimate interest MaxVendorId and encoding runs past the end of the string" {
		t.Fatalf("%v", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatal("error must be one line")
	}
}
