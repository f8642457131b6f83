package scrub

import (
	"strings"
	"testing"
)

// TestSteuerIDAsPrinted: the German tax id is printed in groups, "65 929
// 970 489", on the letters that give it and on payslips, and typed so into
// forms; only the compact form was found, so the grouped one reached every
// destination whole in free text and in URLs.
func TestSteuerIDAsPrinted(t *testing.T) {
	c := MustNew(Options{})
	for _, text := range []string{"Steuer-ID 65 929 970 489", "65 929 970 489", "IdNr.: 65 929 970 489."} {
		out, f := c.AppendText(nil, []byte(text))
		if strings.Contains(string(out), "929") || !f.Has(KindNationalID) {
			t.Errorf("%q: %q %v; want the id replaced by [id]", text, out, f)
		}
	}
	u, f := c.AppendURL(nil, []byte("https://shop.example/form?note=IdNr%2065%20929%20970%20489&page=2"), URLClean)
	if strings.Contains(string(u), "929") || !f.Has(KindNationalID) {
		t.Errorf("url: %s %v; want the parameter removed", u, f)
	}
	// A wrong check digit, and the same digits grouped otherwise, stay.
	for _, text := range []string{"65 929 970 488", "659 299 704 89"} {
		if out, f := c.AppendText(nil, []byte(text)); string(out) != text {
			t.Errorf("%q: %q %v; want it kept", text, out, f)
		}
	}
}

// TestSteuerIDFormEncoded: a form sends "65 929 970 489" as
// "65+929+970+489"; the '+' was not read as a space, so the grouped id
// reached every destination whole in URLs, free text and event names
// copied from a query.
func TestSteuerIDFormEncoded(t *testing.T) {
	c := MustNew(Options{})
	for _, text := range []string{"65+929+970+489", "IdNr 65+929+970+489.", "65%2B929%2B970%2B489"} {
		out, f := c.AppendText(nil, []byte(text))
		if strings.Contains(string(out), "929") || !f.Has(KindNationalID) {
			t.Errorf("%q: %q %v; want the id replaced by [id]", text, out, f)
		}
	}
	u, f := c.AppendURL(nil, []byte("https://shop.example/form?idnr=65+929+970+489&page=2"), URLClean)
	if strings.Contains(string(u), "929") || !f.Has(KindNationalID) {
		t.Errorf("url: %s %v; want the parameter removed", u, f)
	}
	if out, f := c.AppendText(nil, []byte("65+929+970+488")); string(out) != "65+929+970+488" {
		t.Errorf("wrong check digit: %q %v; want it kept", out, f)
	}
}
