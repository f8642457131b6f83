package scrub

import (
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

// TestIDFindingsRandomIDs: bg.js's event ids (16 random bytes, 22
// characters of base64url) are almost never taken for a number: a dropped
// id is an ad platform event the browser's copy cannot be matched with.
func TestIDFindingsRandomIDs(t *testing.T) {
	c := MustNew(Options{})
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 200_000
	var b [16]byte
	var scratch []byte
	found := 0
	for range n {
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		id := base64.RawURLEncoding.AppendEncode(nil, b[:])
		var f Found
		if scratch, f = c.IDFindings(scratch, id); f != 0 {
			found++
		}
	}
	if found > n/10_000 { // at most 0.01 %
		t.Errorf("%d of %d random ids taken for a number; want at most %d", found, n, n/10_000)
	}
	t.Logf("%d of %d random ids taken for a number", found, n)
}

// TestIDFindings: a card or IBAN wherever it stands, grouped or glued.
func TestIDFindings(t *testing.T) {
	c := MustNew(Options{})
	for id, want := range map[string]Kind{
		"ibanDE89370400440532013000":    KindIBAN,
		"refGB29NWBK60161331926819":     KindIBAN,
		"x-DE89-3704-0044-0532-0130-00": KindIBAN,
		"x4111_1111_1111_1111_99":       KindCard,
		"99_4111_1111_1111_1111":        KindCard,
		"c4111111111111111":             KindCard,
		"order-2024-118842":             KindNone,
		"DE89370400440532013001":        KindNone, // mod-97 fails
		"de89370400440532013000x":       KindNone, // a country code is upper case
	} {
		_, f := c.IDFindings(nil, []byte(id))
		if want == KindNone && f != 0 || want != KindNone && !f.Has(want) {
			t.Errorf("IDFindings(%q) = %s; want %s", id, f, want)
		}
	}
}
