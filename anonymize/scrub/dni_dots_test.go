package scrub

import "testing"

// TestDNIWithDots: Spanish documents print a DNI's number with thousands
// dots ("12.345.678-Z", also "12.345.678Z") and a NIE's likewise
// ("X-1.234.567-L"); the detector read only the compact forms, so a DNI
// copied from a card reached every destination. The check letter is
// still checked, and a dotted quantity followed by a unit ("12.345.678 m",
// "12.345.678t") or a wrong letter stays.
func TestDNIWithDots(t *testing.T) {
	c := MustNew(Options{})
	for _, tc := range []struct{ in, want string }{
		{"DNI 12.345.678-Z", "DNI [id]"},
		{"DNI 12.345.678Z.", "DNI [id]."},
		{"NIE X-1.234.567-L", "NIE [id]"},
		{"NIE X1.234.567L", "NIE [id]"},
		{"X-1234567-L", "[id]"},
		{"12345678Z", "[id]"},
		// A wrong check letter, a unit, a fourth group, lower case.
		{"12.345.678-A", "12.345.678-A"},
		{"12.345.678 Z", "12.345.678 Z"},
		{"12.345.678z", "12.345.678z"},
		{"412.345.678Z", "412.345.678Z"},
		{"12.345.678.901Z", "12.345.678.901Z"},
		{"1.234.567 inhabitants", "1.234.567 inhabitants"},
	} {
		got, f := c.AppendText(nil, []byte(tc.in))
		if string(got) != tc.want {
			t.Errorf("AppendText(%q) = %q; want %q", tc.in, got, tc.want)
		}
		if (tc.want != tc.in) != f.Has(KindNationalID) {
			t.Errorf("AppendText(%q): found %s", tc.in, f)
		}
	}
	got, _ := c.AppendURL(nil, []byte("https://a.example/clientes/12.345.678-Z?dni=12.345.678Z&page=2"), URLClean)
	if string(got) != "https://a.example/clientes/[id]?page=2" {
		t.Errorf("AppendURL: %s", got)
	}
}
