package wiring

import (
	"encoding/json"
	"errors"

	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/plan"
)

// ReplayCheck returns the check a dead-letter replay runs on each record of
// destination name (upstream.ReplayOptions.Check): "" when cur, the plan
// of the config now, would have sent the record to name in that very
// form, else why not (plan.Hold's words, never the record's values). The
// plan a record was made under is its "policy" version, read from the
// copies the gateway saved in dataDir (SavedPlansDir); a version of which
// there is no copy passes only if it is cur's own. A footfall aggregate
// (kind ble_aggregate), which holds nothing personal and goes to a
// destination whatever it requires, passes.
func ReplayCheck(cur *plan.Plan, dataDir, name string) func(rec []byte) string {
	dir := SavedPlansDir(dataDir)
	curVersion := cur.Version()
	plans := map[string]*plan.Plan{curVersion: cur}
	return func(rec []byte) string {
		var r struct {
			Kind    string `json:"kind"`
			Consent *struct {
				State    *string   `json:"state"`
				Purposes *[]string `json:"purposes"`
			} `json:"consent"`
			Policy string `json:"policy"`
		}
		if err := json.Unmarshal(rec, &r); err != nil {
			return plan.HoldUnreadable.String()
		}
		if r.Kind == "ble_aggregate" && r.Consent == nil {
			return ""
		}
		if r.Consent == nil || r.Consent.State == nil || r.Consent.Purposes == nil {
			return plan.HoldUnreadable.String()
		}
		state := plan.NumStates
		for s := range plan.NumStates {
			if s.String() == *r.Consent.State {
				state = s
			}
		}
		var granted consent.Purposes
		for _, name := range *r.Consent.Purposes {
			p, err := consent.ParsePurpose(name)
			if err != nil {
				return plan.HoldUnreadable.String()
			}
			granted = granted.With(p)
		}
		if state == plan.NumStates {
			return plan.HoldUnreadable.String()
		}
		old, ok := plans[r.Policy]
		if !ok {
			var err error
			old, err = LoadSavedPlan(dir, r.Policy)
			if err != nil && !errors.Is(err, ErrPlanNotSaved) {
				// Damaged: as good as unknown, fail closed.
				old = nil
			}
			plans[r.Policy] = old
		}
		return plan.ReplayHold(old, cur, name, state, granted).String()
	}
}
