package consent

import (
	"strings"
	"testing"
	"time"
)

func TestProblems(t *testing.T) {
	f := func(m func(*tcSpec), want Problems) {
		t.Helper()
		s := goodSpec()
		m(&s)
		var tc TCString
		if err := tc.Decode([]byte(s.encode())); err != nil {
			t.Fatal(err)
		}
		if got := tc.Problems(); got != want {
			t.Fatalf("Problems() = %q; want %q", got, want)
		}
		if tc.Valid() != (want == 0) {
			t.Fatalf("Valid() = %v", tc.Valid())
		}
	}
	before := time.Date(2023, 9, 30, 23, 59, 59, 0, time.UTC)
	since := time.Date(2023, 10, 1, 0, 0, 0, 0, time.UTC)

	f(func(s *tcSpec) {}, 0)
	f(func(s *tcSpec) { s.ss = false }, ProblemNotServiceSpecific)
	f(func(s *tcSpec) { s.policy = 3 }, ProblemPolicyVersion)
	f(func(s *tcSpec) { s.policy = 2; s.created = since }, ProblemPolicyVersion)
	f(func(s *tcSpec) { s.policy = 4; s.created = before }, 0)
	f(func(s *tcSpec) { s.pli = []int{1, 2, 7, 8, 9, 10} }, ProblemLIPurpose1)
	f(func(s *tcSpec) { s.pli = []int{3, 4, 5, 6} }, ProblemLIPurpose3|ProblemLIPurpose4|ProblemLIPurpose5|ProblemLIPurpose6)
	f(func(s *tcSpec) { s.vlv = 0 }, ProblemVendorListVersion)
	f(func(s *tcSpec) { s.cmpID = 0 }, ProblemCMPID)
	// CMP id 1 is the placeholder of the IAB's reference CMP code, never
	// assigned (iabtcf-es refuses ids below 2 as not valid).
	f(func(s *tcSpec) { s.cmpID = 1 }, ProblemCMPID)
	f(func(s *tcSpec) { s.cmpID = 2 }, 0)
	// A TCF 2.0/2.1 string from before the cut-off: global scope and LI for
	// purposes 3-6 were allowed then.
	f(func(s *tcSpec) { s.policy = 2; s.created = before; s.ss = false; s.pli = []int{1, 3} }, 0)
	f(func(s *tcSpec) { s.policy = 2; s.created = before; s.vlv = 0 }, ProblemVendorListVersion)
	// Policy 4 claims TCF 2.2, whenever it was created.
	f(func(s *tcSpec) { s.policy = 4; s.created = before; s.ss = false; s.pli = []int{5} }, ProblemNotServiceSpecific|ProblemLIPurpose5)
	f(func(s *tcSpec) { s.policy = 1; s.ss = false; s.pli = []int{1, 3} },
		ProblemPolicyVersion|ProblemNotServiceSpecific|ProblemLIPurpose1|ProblemLIPurpose3)
}

// TestProblemsDisclosedVendors: TCF v2.3 made the disclosed vendors segment
// (type 1) mandatory. A string last updated on or after 2026-02-28 without
// it is not valid; one last updated before stays valid without it (the
// transition), and a CMP that updates an old string after the cut-off must
// add it.
func TestProblemsDisclosedVendors(t *testing.T) {
	f := func(created, updated time.Time, segs []string, want Problems) {
		t.Helper()
		s := goodSpec()
		s.created, s.updated, s.segments = created, updated, segs
		var tc TCString
		if err := tc.Decode([]byte(s.encode())); err != nil {
			t.Fatal(err)
		}
		if got := tc.Problems(); got != want {
			t.Fatalf("Problems() = %q; want %q", got, want)
		}
	}
	cut := time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)
	before := cut.Add(-100 * time.Millisecond) // the last decisecond before
	var none time.Time
	dv := oobSegment(1, vendorSpec{max: 755, ranges: [][2]int{{12, 20}, {755, 755}}})
	empty := oobSegment(1, vendorSpec{max: 0})
	av := oobSegment(2, vendorSpec{max: 755, ids: []int{755}})
	pub := publisherTCSegment([]int{1}, nil, 0, nil, nil)

	f(before, none, nil, 0)
	f(cut, none, nil, ProblemNoDisclosedVendors)
	f(cut, none, []string{dv}, 0)
	f(cut, none, []string{empty}, 0) // a CMP that showed no vendor still writes the segment
	f(cut, none, []string{av, pub}, ProblemNoDisclosedVendors)
	f(cut, none, []string{pub, dv}, 0)
	f(before, cut, nil, ProblemNoDisclosedVendors) // updated by a CMP after the cut-off
	f(before, cut, []string{dv}, 0)
	f(before.AddDate(0, -1, 0), before, nil, 0)

	// A TCF 2.0 string (policy 2, created before 2023-10-01) last updated
	// after the cut-off breaks the rule too.
	s := goodSpec()
	s.policy, s.created, s.updated = 2, time.Date(2023, 9, 1, 0, 0, 0, 0, time.UTC), cut
	var tc TCString
	if err := tc.Decode([]byte(s.encode())); err != nil {
		t.Fatal(err)
	}
	if got := tc.Problems(); got != ProblemNoDisclosedVendors {
		t.Fatalf("TCF 2.0 string updated after the cut-off: Problems() = %q", got)
	}
	if txt := ProblemNoDisclosedVendors.String(); !strings.Contains(txt, "no disclosed vendors segment") || !strings.Contains(txt, "TCF v2.3") || !strings.Contains(txt, "2026-02-28") {
		t.Fatalf("text %q", txt)
	}
}

func TestProblemsText(t *testing.T) {
	p := ProblemNotServiceSpecific | ProblemLIPurpose3
	got := p.AppendStrings(nil)
	if len(got) != 2 || p.Len() != 2 || !strings.Contains(got[0], "service-specific") || !strings.Contains(got[1], "purpose 3") {
		t.Fatalf("%q", got)
	}
	if Problems(0).String() != "none" || !strings.Contains(p.String(), "; ") {
		t.Fatal(p.String())
	}
	for i := 0; i < numProblems; i++ {
		if Problems(1<<uint(i)).String() == "" {
			t.Fatalf("problem %d has no text", i)
		}
	}
}
