package wiring

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"

	"github.com/beacongate/beacongate/internal/atomicfile"
	"github.com/beacongate/beacongate/plan"
)

// savedPlansFolder is the folder of the data directory that keeps a copy
// of every plan the gateway has made records under, by version: what a
// dead-letter replay compares a record's plan with.
const savedPlansFolder = "policies"

// SavedPlansDir is where the gateway keeps a copy of each plan it made
// records under (SavePlan), in data directory dataDir.
func SavedPlansDir(dataDir string) string { return filepath.Join(dataDir, savedPlansFolder) }

// SavePlan writes p into dir as <version>.json (made if missing, fsynced),
// so that records carrying its version can be checked against it later
// (see ReplayCheck). A plan already saved is left as it is. The file holds
// the plan's rules only: no secret, no personal data.
func SavePlan(dir string, p *plan.Plan) error {
	b := p.Encode()
	path := filepath.Join(dir, p.Version()+".json")
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return atomicfile.Write(path, b, 0o600)
}

// ErrPlanNotSaved is returned by LoadSavedPlan for a version dir has no
// copy of.
var ErrPlanNotSaved = errors.New("no saved copy of this plan version")

// LoadSavedPlan reads the plan of the given version from dir, as SavePlan
// wrote it. A version not saved there (or a string that is not a version)
// is ErrPlanNotSaved; a file whose content does not hash to its version
// (damaged or edited) is an error too.
func LoadSavedPlan(dir, version string) (*plan.Plan, error) {
	if !plan.IsVersion(version) {
		return nil, ErrPlanNotSaved
	}
	b, err := os.ReadFile(filepath.Join(dir, version+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrPlanNotSaved
	}
	if err != nil {
		return nil, err
	}
	return plan.Decode(version, b)
}
