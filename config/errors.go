package config

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
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

func closest(s string, candidates []string) string {
	if len(s) > 64 {
		return ""
	}
	ns := normalizeKey(s)
	for _, c := range candidates {
		if normalizeKey(c) == ns {
			return c
		}
	}
	if len(ns) >= 3 {
		for _, c := range candidates {
			if strings.HasPrefix(normalizeKey(c), ns) {
				return c
			}
		}
	}
	best, bestD := "", 0
	for _, c := range candidates {
		limit := 2
		switch {
		case len(c) <= 3:
			limit = 1
		case len(c) >= 10:
			limit = 3
		}
		d := editDistance(ns, normalizeKey(c))
		if d <= limit && (best == "" || d < bestD) {
			best, bestD = c, d
		}
	}
	return best
}

func normalizeKey(s string) string {
	s = strings.ToLower(s)
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == ' ' {
			return -1
		}
		return r
	}, s)
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of neighbours each cost 1.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
