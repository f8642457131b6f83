package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Encode returns the plan as Version hashes it: JSON of its rules, no
// secret, no personal data. Decode reads it back.
func (p *Plan) Encode() []byte {
	b, err := json.Marshal(p)
	if err != nil {
		b = fmt.Appendf(nil, "%#v", *p)
	}
	return b
}

// IsVersion reports whether s has the form of a Version: twelve lower-case
// hex digits.
func IsVersion(s string) bool {
	return len(s) == 12 && !bytes.ContainsFunc([]byte(s), func(r rune) bool { return !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') })
}

// Decode reads a plan Encode wrote, and refuses b unless it hashes to
// version (damaged or edited).
func Decode(version string, b []byte) (*Plan, error) {
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:6]) != version {
		return nil, fmt.Errorf("plan: the copy of version %s does not hash to it (damaged or edited)", version)
	}
	p := new(Plan)
	if err := json.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("plan: the copy of version %s: %w", version, err)
	}
	return p, nil
}
