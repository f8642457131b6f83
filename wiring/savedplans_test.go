package wiring

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/plan"
)

func savedPlanFixture() *plan.Plan {
	p := &plan.Plan{Consent: plan.Consent{Enabled: consent.Of(consent.Analytics)}, Properties: []string{"seq"}}
	p.Destinations = []plan.Destination{{Name: "own", WithoutVendor: true, Policies: p.Policies}}
	return p
}

// TestSavedPlans: a saved plan reads back equal (same version); an unknown
// version is ErrPlanNotSaved, as is a name that is not a version; a copy that
// was edited is refused.
func TestSavedPlans(t *testing.T) {
	dir := SavedPlansDir(t.TempDir())
	p := savedPlanFixture()
	if err := SavePlan(dir, p); err != nil {
		t.Fatal(err)
	}
	if err := SavePlan(dir, p); err != nil { // again: left as it is
		t.Fatal(err)
	}
	q, err := LoadSavedPlan(dir, p.Version())
	if err != nil || q.Version() != p.Version() {
		t.Fatalf("read back: %v, version %v", err, q)
	}
	for _, v := range []string{"000000000000", "../../etc/x", ""} {
		if _, err := LoadSavedPlan(dir, v); !errors.Is(err, ErrPlanNotSaved) {
			t.Errorf("%q: %v", v, err)
		}
	}
	path := filepath.Join(dir, p.Version()+".json")
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), `"seq"`, `"sex"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSavedPlan(dir, p.Version()); err == nil || errors.Is(err, ErrPlanNotSaved) || !strings.Contains(err.Error(), "does not hash") {
		t.Fatalf("an edited copy: %v", err)
	}
}
