package contact

import (
	"bytes"
	"testing"
)

// FuzzAppendHashed checks, for every platform and field, that arbitrary
// input never panics, leaves dst alone on error, otherwise appends 64
// lowercase hex digits, and that normalisation is idempotent: the
// normalised form hashes to the same digest as the raw input (what a
// platform computes from our normalised value must match).
func FuzzAppendHashed(f *testing.F) {
	for _, s := range []string{"", " ", "Jane.Doe@GMail.com", "+1 (650) 555-1212", "0044 20 7031 3000",
		"Mary Ann", "O'Brien", "94035-1234", "M1 1AE", "US", "user-123", "@", "a@b@c", "...@gmail.com",
		"254AA248ACB47DD654CA3EA53F48C2C26D641D23D7E2E93A1EC56258DF7674C4", "Zoë Ærø", "\xff\xfe"} {
		f.Add([]byte(s), uint8(0), uint8(0))
		f.Add([]byte(s), uint8(1), uint8(1))
		f.Add([]byte(s), uint8(2), uint8(4))
	}
	f.Fuzz(func(t *testing.T, v []byte, pi, fi uint8) {
		p, fld := Platform(pi%uint8(numPlatforms)), Field(fi%uint8(numFields))
		dst := []byte("prefix")
		if !Hashed(p, fld) {
			n, err := AppendNormalized(dst, p, fld, v)
			if err != nil && string(n) != "prefix" {
				t.Fatalf("error %v but dst changed", err)
			}
			return
		}
		out, err := AppendHashed(dst, p, fld, v)
		if err != nil {
			if string(out) != "prefix" {
				t.Fatalf("error %v but dst changed to %q", err, out)
			}
			return
		}
		h := out[len("prefix"):]
		if IsSHA256Hex(bytes.TrimSpace(v)) {
			return // a digest passes through without normalisation
		}
		if !IsLowerSHA256Hex(h) {
			t.Fatalf("%v %v %q: appended %q, not 64 lowercase hex", p, fld, v, h)
		}
		n, err := AppendNormalized(nil, p, fld, v)
		if err != nil {
			t.Fatalf("hashed but AppendNormalized failed: %v", err)
		}
		if IsSHA256Hex(n) {
			// A normalised value that looks like a digest (a name of 64
			// letters a-f) would pass through as one: the pass-through
			// rule cannot tell them apart, and no real value is that.
			return
		}
		again, err := AppendHashed(nil, p, fld, n)
		if err != nil || !bytes.Equal(again, h) {
			t.Fatalf("%v %v %q: normalised %q hashes to %q, %v; raw to %q", p, fld, v, n, again, err, h)
		}
	})
}
