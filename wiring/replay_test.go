package wiring

import (
	"testing"

	"github.com/beacongate/beacongate/plan"
)

// TestReplayCheck: a record is checked against the plan its "policy"
// version names, read from the copies saved in the data directory (or the
// current plan's own version); one whose consent or version cannot be read,
// or whose plan has no copy, is held back; a footfall aggregate passes.
func TestReplayCheck(t *testing.T) {
	const base = "consent:\n  purposes: [analytics, ads]\ndestinations:\n  - name: c\n    type: file\n"
	compile := func(yaml string) *plan.Plan {
		t.Helper()
		p, err := Compile(parse(t, yaml), nil)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	old := compile(base)
	cur := compile(base + "    policies:\n      analytics:\n        ip: {action: drop}\n")
	data := t.TempDir()
	if err := SavePlan(SavedPlansDir(data), old); err != nil {
		t.Fatal(err)
	}
	check := ReplayCheck(cur, data, "c")
	rec := func(state, purposes, version string) []byte {
		return []byte(`{"v":1,"id":"x","kind":"beacon","site":"s","consent":{"state":"` + state + `","purposes":` + purposes + `,"signal":"explicit"},"policy":"` + version + `","ip":"203.0.113.0"}`)
	}
	cases := []struct {
		name string
		rec  []byte
		want plan.Hold
	}{
		{"ads, old plan", rec("ads", `["analytics","ads"]`, old.Version()), plan.HoldNone},
		{"analytics, old plan: its policy changed", rec("analytics", `["analytics"]`, old.Version()), plan.HoldPolicy},
		{"analytics, current plan", rec("analytics", `["analytics"]`, cur.Version()), plan.HoldNone},
		{"a plan with no copy", rec("ads", `["analytics","ads"]`, "0123456789ab"), plan.HoldUnknown},
		{"unknown state", rec("all", `["analytics"]`, old.Version()), plan.HoldUnreadable},
		{"unknown purpose", rec("ads", `["analytics","tracking"]`, old.Version()), plan.HoldUnreadable},
		{"no consent", []byte(`{"v":1,"id":"x","kind":"beacon","policy":"` + old.Version() + `"}`), plan.HoldUnreadable},
		{"no purposes", []byte(`{"v":1,"id":"x","kind":"beacon","consent":{"state":"none"},"policy":"` + old.Version() + `"}`), plan.HoldUnreadable},
		{"not JSON", []byte(`{"v":1,`), plan.HoldUnreadable},
		{"footfall aggregate", []byte(`{"v":1,"kind":"ble_aggregate","id":"abc","site":"s","store":"s1","zone":"z","visitors":5}`), plan.HoldNone},
	}
	for _, c := range cases {
		if got := check(c.rec); got != c.want.String() {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
