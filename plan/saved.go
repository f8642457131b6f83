package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/beacongate/beacongate/internal/atomicfile"
)

// SavedDir is the folder of the data directory that keeps a copy of every
// plan the gateway has made records under, by version: what a dead-letter
// replay compares a record's plan with.
const SavedDir = "policies"

// encode is the plan as Version hashes it.
func (p *Plan) encode() []byte {
	b, err := json.Marshal(p)
	if err != nil {
		b = fmt.Appendf(nil, "%#v", *p)
	}
	return b
}

// Save writes p into dir as <version>.json (made if missing, fsynced), so
// that records carrying its version can be checked against it later (see
// ReplayHold). A plan already saved is left as it is. The file holds the
// plan's rules only: no secret, no personal data.
func Save(dir string, p *Plan) error {
	b := p.encode()
	path := filepath.Join(dir, p.Version()+".json")
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return atomicfile.Write(path, b, 0o600)
}

// ErrNotSaved is returned by LoadSaved for a version dir has no copy of.
var ErrNotSaved = errors.New("plan: no saved copy of this version")

// LoadSaved reads the plan of the given version from dir, as Save wrote it.
// A version not saved there is ErrNotSaved; a file whose content does not
// hash to its version (damaged or edited) is an error too.
func LoadSaved(dir, version string) (*Plan, error) {
	if len(version) != 12 || bytes.ContainsFunc([]byte(version), func(r rune) bool { return !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') }) {
		return nil, ErrNotSaved
	}
	b, err := os.ReadFile(filepath.Join(dir, version+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotSaved
	}
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:6]) != version {
		return nil, fmt.Errorf("plan: the saved copy of version %s does not hash to it (damaged or edited)", version)
	}
	p := new(Plan)
	if err := json.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("plan: the saved copy of version %s: %w", version, err)
	}
	return p, nil
}
