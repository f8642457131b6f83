package contract

import "testing"

// TestDuplicateNameEmptyName: the empty string is a member name like any
// other; once in an object it is no duplicate, twice it is.
func TestDuplicateNameEmptyName(t *testing.T) {
	for _, c := range []struct {
		body string
		path string
		dup  bool
	}{
		{`{"":""}`, "", false},
		{`{"a":{"":""},"b":[{"":1},{"":2}]}`, "", false},
		{`{"":"","x":{"":""}}`, "", false},
		{`{"":1,"":2}`, "", true},
		{`{"a":{"":"x","":"y"}}`, "a.", true},
		{`{"a":1,"b":{"c":2},"a":3}`, "a", true},
	} {
		path, dup := DuplicateName([]byte(c.body))
		if path != c.path || dup != c.dup {
			t.Errorf("DuplicateName(%s) = %q, %v; want %q, %v", c.body, path, dup, c.path, c.dup)
		}
	}
}
