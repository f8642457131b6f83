package consent

import (
	"math/bits"
	"strings"
	"time"
)

// Problems is the set of TCF 2.2 and v2.3 rules a decoded TC string breaks. A
// string with problems decodes, but is not valid consent: the Evaluator
// rejects it.
type Problems uint16

// The rules checked by (*TCString).Problems.
const (
	// ProblemNotServiceSpecific: TCF 2.2 has no global scope; IsServiceSpecific must be 1.
	ProblemNotServiceSpecific Problems = 1 << iota
	// ProblemPolicyVersion: created on or after 2023-10-01 with a policy version below 4 (pre-TCF 2.2).
	ProblemPolicyVersion
	// ProblemLIPurpose1 … ProblemLIPurpose6: legitimate interest signalled for
	// purpose 1, 3, 4, 5 or 6, which TCF 2.2 allows only on consent.
	ProblemLIPurpose1
	ProblemLIPurpose3
	ProblemLIPurpose4
	ProblemLIPurpose5
	ProblemLIPurpose6
	// ProblemVendorListVersion: vendor list version 0 does not exist.
	ProblemVendorListVersion
	// ProblemCMPID: CMP ids 0 and 1 are never assigned (1 is the
	// placeholder of the IAB's reference CMP code; the IAB's iabtcf-es
	// refuses ids below 2).
	ProblemCMPID
	// ProblemNoDisclosedVendors: last updated on or after 2026-02-28
	// without a disclosed vendors segment, which TCF v2.3 made mandatory.
	ProblemNoDisclosedVendors
	ProblemUpdatedBeforeCreated
	ProblemStale
	ProblemFuture
	numProblems = iota
)

var problemTexts = [numProblems]string{
	"not service-specific: TCF 2.2 strings must have IsServiceSpecific set (global scope was removed)",
	"TCF policy version below 4 in a string created on or after 2023-10-01: not a TCF 2.2 string",
	"legitimate interest signalled for purpose 1, which TCF 2.2 allows only with consent",
	"legitimate interest signalled for purpose 3, which TCF 2.2 allows only with consent",
	"legitimate interest signalled for purpose 4, which TCF 2.2 allows only with consent",
	"legitimate interest signalled for purpose 5, which TCF 2.2 allows only with consent",
	"legitimate interest signalled for purpose 6, which TCF 2.2 allows only with consent",
	"vendor list version 0 does not exist",
	"CMP id 0 or 1 is not a registered CMP",
	"no disclosed vendors segment (required by TCF v2.3 for strings last updated on or after 2026-02-28)",
	"last updated before it was created: the dates are inconsistent",
	"last updated longer ago than the maximum age (consent.tcf.max_age; the IAB policy asks CMPs to renew consent after 13 months)",
	"dated in the future (created or last updated more than 5 minutes after the request arrived)",
}

// tcf22Since is 2023-10-01T00:00:00Z in deciseconds: strings created from
// then on must follow TCF 2.2 whatever policy version they claim.
var tcf22Since = time.Date(2023, 10, 1, 0, 0, 0, 0, time.UTC).Unix() * 10

// tcf23Since is 2026-02-28T00:00:00Z in deciseconds, the end of the TCF v2.3
// transition: a string last updated (written by a CMP) from then on must
// carry the disclosed vendors segment. IAB Europe gave participants "until
// 28 February 2026"; strings from before stay valid without the segment.
var tcf23Since = time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC).Unix() * 10

// liForbidden are purposes 1 and 3-6 as a purpose mask.
const liForbidden = 1<<0 | 1<<2 | 1<<3 | 1<<4 | 1<<5

// Problems checks the decoded string against the TCF 2.2 and v2.3 rules and
// returns the ones it breaks; 0 means valid. A string is held to TCF 2.2 if
// it claims policy version 4 or later, or was created on or after
// 2023-10-01 (when it must be a TCF 2.2 string). Older strings (policy
// version below 4, created before 2023-10-01) were valid TCF 2.0/2.1
// consent, where global scope and legitimate interest for purposes 3-6 were
// allowed, so only the vendor list version, CMP id, dates and disclosed
// vendors segment are checked for them. Whatever its policy version, a
// string last updated on or after 2026-02-28 must carry the disclosed
// vendors segment (TCF v2.3): the IAB's transition goes by date, not by
// policy version. It does not allocate.
func (t *TCString) Problems() Problems {
	var p Problems
	if t.VendorListVersion == 0 {
		p |= ProblemVendorListVersion
	}
	if t.CMPID < 2 {
		p |= ProblemCMPID
	}
	if t.LastUpdated.Before(t.Created) {
		p |= ProblemUpdatedBeforeCreated
	}
	if t.updatedDs >= tcf23Since && !t.disclosed.present {
		p |= ProblemNoDisclosedVendors
	}
	if t.PolicyVersion < 4 && t.createdDs < tcf22Since {
		return p
	}
	if t.PolicyVersion < 4 {
		p |= ProblemPolicyVersion
	}
	if !t.IsServiceSpecific {
		p |= ProblemNotServiceSpecific
	}
	li := t.PurposesLI & liForbidden
	if li&1 != 0 {
		p |= ProblemLIPurpose1
	}
	for i := 3; i <= 6; i++ {
		if li>>uint(i-1)&1 != 0 {
			p |= ProblemLIPurpose3 << uint(i-3)
		}
	}
	return p
}

// Valid reports whether the decoded string breaks none of the rules Problems checks.
func (t *TCString) Valid() bool { return t.Problems() == 0 }

// Len returns the number of problems in p.
func (p Problems) Len() int { return bits.OnesCount16(uint16(p)) }

// AppendStrings appends one sentence per problem to dst, in a fixed order.
func (p Problems) AppendStrings(dst []string) []string {
	for i := 0; i < numProblems; i++ {
		if p&(1<<uint(i)) != 0 {
			dst = append(dst, problemTexts[i])
		}
	}
	return dst
}

// String joins the problems with "; ", or returns "none".
func (p Problems) String() string {
	if p == 0 {
		return "none"
	}
	return strings.Join(p.AppendStrings(nil), "; ")
}

// MaxFutureSkew is how far after the request's arrival a TC string's dates
// may lie before the string counts as dated in the future: the visitor's
// clock, which the CMP uses, may run a little fast.
const MaxFutureSkew = 5 * time.Minute

// DateProblems returns the problems of t's dates at now, the request's
// arrival: last updated longer than maxAge ago (0: no limit), or created or
// last updated more than MaxFutureSkew after now. A zero now checks nothing.
func (t *TCString) DateProblems(now time.Time, maxAge time.Duration) Problems {
	return DatesProblems(t.Created, t.LastUpdated, now, maxAge)
}

// DatesProblems is [TCString.DateProblems] for a TC string created and last
// updated at the given times: what a cache of consent decisions checks
// again at each request's arrival, the only input of a decision besides
// the signals' bytes that changes.
func DatesProblems(created, lastUpdated, now time.Time, maxAge time.Duration) Problems {
	if now.IsZero() {
		return 0
	}
	var p Problems
	if maxAge > 0 && now.Sub(lastUpdated) > maxAge {
		p |= ProblemStale
	}
	if limit := now.Add(MaxFutureSkew); created.After(limit) || lastUpdated.After(limit) {
		p |= ProblemFuture
	}
	return p
}
