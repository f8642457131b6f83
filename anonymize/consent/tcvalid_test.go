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
