package scrub

import (
	"strings"
	"testing"
)

// TestAWSAccessKeyID: an AWS access key id (AKIA for a long-term key,
// ASIA for a temporary one, then 16 characters of [A-Z2-7]) is 20
// characters, too short for the token rule unless its letters read as
// random case, and one with three or more digits passed the scanner in
// property values, event names and URLs. It is a credential's half (the
// other being the secret key) and is reported as a token; ordinary
// upper-case words and other lengths stay.
func TestAWSAccessKeyID(t *testing.T) {
	c := MustNew(Options{})
	for _, tc := range []struct{ in, want string }{
		{"key AKIA2E3Q7MNPL4RSTUVW leaked", "key [token] leaked"},
		{"ASIA5T7K3Z2QJXWY6ABC", "[token]"},
		{"id=AKIAIOSFODNN7EXAMPLE;", "id=[token];"},
		{"(AKIA234567ABCDEFGHIJ)", "([token])"},
		// Not a key: wrong length, a lower-case letter, a 0/1/8/9, other
		// prefixes, glued to a word, ordinary upper-case words.
		{"AKIA2E3Q7MNPL4RSTUV", "AKIA2E3Q7MNPL4RSTUV"},
		{"AKIA2E3Q7MNPL4RSTUVWX", "AKIA2E3Q7MNPL4RSTUVWX"},
		{"AKIA2E3Q7MNPl4RSTUVW", "AKIA2E3Q7MNPl4RSTUVW"},
		{"AKIA2E3Q7MNP04RSTUVW", "AKIA2E3Q7MNP04RSTUVW"},
		{"AKIB2E3Q7MNPL4RSTUVW", "AKIB2E3Q7MNPL4RSTUVW"},
		{"XAKIA2E3Q7MNPL4RSTUVW", "XAKIA2E3Q7MNPL4RSTUVW"},
		{"ASIAN RESTAURANT GUIDE 2024 EDITION", "ASIAN RESTAURANT GUIDE 2024 EDITION"},
		{"ASIAPACIFICSUMMIT2024", "ASIAPACIFICSUMMIT2024"},
	} {
		got, f := c.AppendText(nil, []byte(tc.in))
		if string(got) != tc.want {
			t.Errorf("AppendText(%q) = %q; want %q", tc.in, got, tc.want)
		}
		if strings.Contains(tc.want, "[token]") != f.Has(KindToken) {
			t.Errorf("AppendText(%q): found %s", tc.in, f)
		}
	}
	// In a URL: a path segment and a query value.
	const raw = "https://shop.example/keys/AKIA2E3Q7MNPL4RSTUVW/view?k=ASIA5T7K3Z2QJXWY6ABC&page=2"
	got, f := c.AppendURL(nil, []byte(raw), URLClean)
	if string(got) != "https://shop.example/keys/[token]/view?page=2" || !f.Has(KindToken) {
		t.Errorf("AppendURL: %s %s", got, f)
	}
}
