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
	for _, want := range []string{"destinations[0].policies.ads.geo.grid", "destinations[0].policies.ads.bogus"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}
