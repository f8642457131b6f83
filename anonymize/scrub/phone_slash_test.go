package scrub

import (
	"strings"
	"testing"
)

// TestPhoneSpacedSlash: German numbers are commonly written with the area
// code set off by " / " (the old DIN 5008 notation, still on letterheads
// and typed into forms: "0151 / 1234 5678"). "030/1234567" was found, the
// spaced form was not and reached every destination whole.
func TestPhoneSpacedSlash(t *testing.T) {
	c := MustNew(Options{})
	for _, text := range []string{"ruf 0151 / 1234 5678 an", "Tel. 030 / 12 34 56 78", "Tel.: 089 / 123456-0", "0221 / 9876543"} {
		out, f := c.AppendText(nil, []byte(text))
		if strings.ContainsAny(strings.TrimPrefix(string(out), "Tel"), "123456789") || !f.Has(KindPhone) {
			t.Errorf("%q: %q %v; want the number replaced by [phone]", text, out, f)
		}
	}
	u, f := c.AppendURL(nil, []byte("https://shop.example/kontakt?nachricht=Bitte+um+R%C3%BCckruf+0151+%2F+1234+5678&page=2"), URLClean)
	if strings.Contains(string(u), "5678") || !f.Has(KindPhone) {
		t.Errorf("url: %s %v; want the parameter removed", u, f)
	}
	// Sizes, fractions, page counts and dates stay.
	for _, text := range []string{"Größe 38 / 40", "Seite 10 / 123", "am 01 / 05 / 2024", "2023 / 2024", "1 / 2 Liter", "0 / 1234567"} {
		if out, f := c.AppendText(nil, []byte(text)); string(out) != text {
			t.Errorf("%q: %q %v; want it kept", text, out, f)
		}
	}
}
