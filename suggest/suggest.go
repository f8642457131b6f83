// Package suggest finds the name a user probably meant: the "did you mean"
// of config keys, enum values and command names.
package suggest

import "strings"

// maxInput bounds the work spent on one suggestion: longer input is not a
// typo of any name we know.
const maxInput = 64

// Closest returns the candidate closest to s, or "" when none is close
// enough to be a typo. Case, '-', '_' and spaces are ignored first
// (readTimeout and read-timeout both find read_timeout); then an input of 3
// or more characters that begins a candidate finds it; then small edits are
// allowed: 1 for candidates of up to 3 characters, 2 up to 9, 3 beyond.
func Closest(s string, candidates []string) string {
	if len(s) > maxInput {
		return ""
	}
	ns := normalize(s)
	for _, c := range candidates {
		if normalize(c) == ns {
			return c
		}
	}
	if len(ns) >= 3 {
		for _, c := range candidates {
			if strings.HasPrefix(normalize(c), ns) {
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
		d := Distance(ns, normalize(c))
		if d <= limit && (best == "" || d < bestD) {
			best, bestD = c, d
		}
	}
	return best
}

func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(s))
}

// Distance is the optimal string alignment distance between a and b, in
// runes: insertions, deletions, substitutions and swaps of neighbours each
// cost 1.
func Distance(a, b string) int {
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
