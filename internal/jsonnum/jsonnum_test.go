package jsonnum

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestValidNumber(t *testing.T) {
	f := func(in string, want bool) {
		t.Helper()
		if got := ValidNumber([]byte(in)); got != want {
			t.Fatalf("%q: %v; want %v", in, got, want)
		}
	}
	f("0", true)
	f("-0.0e-0", true)
	f("12.5", true)
	f("1e308", true)
	f("1.7976931348623157e308", true)
	f("-1.7976931348623157e308", true)
	f("1.7976931348623158e308", true) // below halfway: rounds down to the largest float64
	f("1.797693134862315807937289714053e308", true)
	f("1.797693134862315807937289714054e308", false) // above halfway
	f("0."+maxFloatHalfway+"e309", false)            // exactly halfway
	f("0."+maxFloatHalfway[:308]+"1e309", true)      // just below
	f("1e309", false)
	f("1e999", false)
	f("-1e400", false)
	f("1e99999999999999999999999", false)
	f("1e-99999999999999999999999", true) // underflows to zero
	f("0e99999999999999999999999", true)
	f("0.000000000000000000001e329", true)
	f("0.000000000000000000001e330", false)
	f(strings.Repeat("9", 308), true)
	f(strings.Repeat("9", 309), false)
	f("", false)
	f("-", false)
	f("01", false)
	f("1.", false)
	f(".5", false)
	f("1e", false)
	f("1e+", false)
	f("+1", false)
	f("NaN", false)
	f("Infinity", false)
	f("1 ", false)
}

// FuzzValidNumber compares ValidNumber with encoding/json's grammar check and
// strconv.ParseFloat's range check.
func FuzzValidNumber(f *testing.F) {
	for _, s := range []string{"0", "-12.5e3", "1e999", "1.7976931348623157e308", "1.797693134862315807937289714054e308", "0.0001e312", "1e-400", "01", "1.e5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := false
		if v, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(v, 0) && json.Valid([]byte(s)) && s != "" && s[0] != ' ' && s[len(s)-1] != ' ' && !strings.ContainsAny(s, " \t\r\n") {
			want = true
		}
		if got := ValidNumber([]byte(s)); got != want {
			t.Fatalf("%q: %v; want %v", s, got, want)
		}
	})
}
