package config

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/beacongate/beacongate/suggest"
)

// FieldError is one problem in a config file, with where it is and what is
// allowed instead. Error formats it as
//
//	file:line:column: key.path: what is wrong; what is allowed
type FieldError struct {
	File   string // name given to Parse
	Line   int    // 1-based; 0 when the problem has no single place (e.g. a missing section)
	Column int    // 1-based; 0 when unknown
	Path   string // key path such as "policies.analytics.ip.v4_prefix" or "destinations[1].name"; empty for syntax errors
	Msg    string // what is wrong; what is allowed

	text string // the value as written, of a value too large for its type
}

// Error formats e as file:line:column: path: message.
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Column))
		}
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList holds every problem found in one file, in file order. Parse
// returns it as its error; use errors.As to get at the single problems.
type ErrorList []*FieldError

// Error returns one line per problem.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the single problems, for errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// sortErrors orders problems by position; problems without a line go last,
// ordered by path. It also drops exact duplicates, which aliases can cause.
func sortErrors(l ErrorList) ErrorList {
	slices.SortStableFunc(l, func(a, b *FieldError) int {
		al, bl := a.Line, b.Line
		if al == 0 {
			al = 1 << 30
		}
		if bl == 0 {
			bl = 1 << 30
		}
		return cmp.Or(cmp.Compare(al, bl), cmp.Compare(a.Column, b.Column), strings.Compare(a.Path, b.Path))
	})
	return slices.CompactFunc(l, func(a, b *FieldError) bool { return *a == *b })
}

// didYouMean returns `; did you mean "x"?` for the candidate closest to s, or
// "" when none is close. Case, '-' and '_' are ignored first (readTimeout and
// read-timeout both find read_timeout), then small typos are allowed.
func didYouMean(s string, candidates []string) string {
	if c := closest(s, candidates); c != "" {
		return "; did you mean " + strconv.Quote(c) + "?"
	}
	return ""
}

// closest is suggest.Closest: the candidate s is probably a typo of.
func closest(s string, candidates []string) string { return suggest.Closest(s, candidates) }

func normalizeKey(s string) string {
	s = strings.ToLower(s)
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == ' ' {
			return -1
		}
		return r
	}, s)
}
