package recordtest

import (
	"encoding/json"
	"testing"
)

func TestStrict(t *testing.T) {
	f := func(in string, ok bool) {
		t.Helper()
		if err := Strict([]byte(in)); (err == nil) != ok {
			t.Fatalf("%q: err %v; want ok=%v", in, err, ok)
		}
	}
	f(`{"a":1,"b":[true,false,null,"x",-0.5e+3,{}],"c":"\u00e9\ud83d\ude00\n"}`, true)
	f(` [] `, true)
	f(`1.7976931348623157e308`, true)
	f(`1e-999`, true) // underflows to 0: in range
	f(`"\u0000"`, true)
	f(`1e999`, false)
	f(`-1e309`, false)
	f(`"\ud800"`, false)
	f(`"\udc00\ud800"`, false)
	f(`"\ud800\u0041"`, false)
	f("\"\xff\"", false)
	f("\"\xed\xa0\x80\"", false) // a surrogate in UTF-8
	f("\"a\x00b\"", false)
	f(`{"a":1,"a":2}`, false)
	f(`NaN`, false)
	f(`Infinity`, false)
	f(`01`, false)
	f(`1.`, false)
	f(`"\x"`, false)
	f(`{"a":1,}`, false)
	f(`[1,]`, false)
	f("\ufeff{}", false)
	f(`{} {}`, false)
	f(``, false)
}

// FuzzStrict checks that the strict checker never accepts what
// encoding/json's syntax check refuses.
func FuzzStrict(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e3,"x\u00e9"]}`, `"\ud800"`, `1e999`, `{"a":1,"a":2}`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if Strict(b) == nil && !json.Valid(b) {
			t.Fatalf("strict accepts %q, json.Valid does not", b)
		}
	})
}
