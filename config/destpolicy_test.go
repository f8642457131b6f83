package config

import (
	"strings"
	"testing"
)

// TestDestinationPolicies checks that a destination's policies inherit
// every key the file does not set from the site-wide policies, and that
// the keys it does set are checked and named by their path.
func TestDestinationPolicies(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`
policies:
  ads: {user_agent: {action: keep}, geo: {level: city, grid: 0.1}}
destinations:
  - name: warehouse
    type: file
    policies:
      ads: {user_agent: {action: reduce}}
  - name: partner
    type: file
`))
	if err != nil {
		t.Fatal(err)
	}
	w, p := c.Destinations[0].Policies, c.Destinations[1].Policies
	if p != c.Policies {
		t.Errorf("a destination without policies differs from the site-wide policies:\n%+v\n%+v", p, c.Policies)
	}
	if w.Ads.UserAgent.Action != UAReduce {
		t.Errorf("warehouse ads user_agent %v; want reduce", w.Ads.UserAgent.Action)
	}
	w.Ads.UserAgent = c.Policies.Ads.UserAgent
	if w != c.Policies {
		t.Errorf("warehouse policies differ from the site-wide ones in keys it does not set:\n%+v\n%+v", w, c.Policies)
	}

	_, err = Parse("t.yaml", []byte(`
policies:
  ads: {geo: {level: city, grid: 0.1}}
destinations:
  - name: warehouse
    type: file
    policies:
      ads: {geo: {level: country}, bogus: 1}
`))
	if err == nil {
		t.Fatal("a destination policy with coordinates below city level and an unknown key was accepted")
	}
	// The error names the key the destination wrote (level), not the grid
	// it inherits: until 2026-12-06 it pointed at a geo.grid the
	// destination never set.
	for _, want := range []string{"destinations[0].policies.ads.geo.level: country leaves out the city, which the coordinates of geo.grid 0.1 (inherited from the site-wide policy) need", "destinations[0].policies.ads.bogus"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

// TestDestinationTCF checks the vendor declarations of destinations.
func TestDestinationTCF(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`
destinations:
  - {name: own, type: file, tcf: {without_vendor: true}}
  - {name: partner, type: file, tcf: {vendor_id: 755, purposes: [1, 3], legitimate_interest: [7], flexible_purposes: [7], special_features: [1]}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Destinations[1].TCF; p.VendorID != 755 || len(p.Purposes) != 2 || p.LegitimateInterest[0] != 7 || p.SpecialFeatures[0] != 1 {
		t.Fatalf("partner tcf %+v", p)
	}
	for _, bad := range []struct{ yaml, want string }{
		{`{name: a, type: file, tcf: {purposes: [1]}}`, "destinations[0].tcf.vendor_id: is 0"},
		{`{name: a, type: file, tcf: {vendor_id: 1, without_vendor: true, purposes: [1]}}`, "destinations[0].tcf.without_vendor"},
		{`{name: a, type: file, tcf: {vendor_id: 1}}`, "destinations[0].tcf.purposes: vendor 1 declares no purpose"},
		{`{name: a, type: file, tcf: {vendor_id: 1, legitimate_interest: [3]}}`, "destinations[0].tcf.legitimate_interest[0]: purpose 3 needs consent"},
		{`{name: a, type: file, tcf: {vendor_id: 1, purposes: [2], legitimate_interest: [2]}}`, "is also under purposes"},
		{`{name: a, type: file, tcf: {vendor_id: 1, purposes: [2], flexible_purposes: [8]}}`, "destinations[0].tcf.flexible_purposes[0]"},
	} {
		_, err := Parse("t.yaml", []byte("destinations:\n  - "+bad.yaml+"\n"))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v; want %q", bad.yaml, err, bad.want)
		}
	}
	_, err = Parse("t.yaml", []byte(`
consent: {tcf: {gvl_file: /x/vendor-list.json}}
destinations:
  - {name: a, type: file, tcf: {vendor_id: 1, purposes: [1]}}
`))
	if err == nil || !strings.Contains(err.Error(), "come from consent.tcf.gvl_file") {
		t.Errorf("declarations next to gvl_file: %v", err)
	}
}
