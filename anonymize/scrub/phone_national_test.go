package scrub

import "testing"

// Two national notations without a trunk prefix 0 passed whole: Russian
// (and Belarusian, Kazakh) numbers, whose trunk prefix is 8, written
// "8-912-345-67-89" or "8 912 345 67 89" as people there write them, and
// Indian mobiles as written nationally, two groups of five ("98765
// 43210"). Both reached every destination in properties, event names,
// URLs and referrers until 2026-12-07 (found by planting them through the
// real binary), while the same numbers with '+' or parentheses were
// phones. Amounts, dates and order numbers have neither shape.
func TestNationalPhonesWithoutTrunkZero(t *testing.T) {
	for _, in := range []string{
		"8-912-345-67-89",
		"8 912 345 67 89",
		"8 912 345-67-89",
		"8-912-345-6789",
		"8 495 123 45 67",
		"8-800-555-35-35",
		"98765 43210",
		"70123 45678",
	} {
		for _, s := range []string{in, "Tel.: " + in + ", ab 9 Uhr", "call+" + in + "+now"} {
			out, found := defaultCleaner.AppendText(nil, []byte(s))
			if !found.Has(KindPhone) || bytesContain(out, in[len(in)-4:]) {
				t.Errorf("AppendText(%q) = %q %s; want the number replaced by [phone]", s, out, found)
			}
		}
	}
	for _, s := range []string{
		"8 912 345 678",     // an amount grouped by threes
		"1-912-345-67-89",   // no trunk prefix 8
		"8-912-345-67-8",    // one digit short
		"8-212-345-67-89",   // no Russian area code starts with 2
		"12345 67890",       // starts with 1: no Indian mobile
		"98765 4321",        // one digit short
		"ORD-98765-43210",   // glued to a word
		"2024-11-28 98765",  // a date and a number
		"order 8-912-345-6", // too short
	} {
		if out, found := defaultCleaner.AppendText(nil, []byte(s)); found.Has(KindPhone) {
			t.Errorf("AppendText(%q) = %q %s; want no phone", s, out, found)
		}
	}
}
