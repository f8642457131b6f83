package scrub

import "testing"

// The Brazilian CPF (asked for at every Brazilian checkout) and the Swiss
// AHV number carry check digits and were kept whole in text, URLs and
// properties.
func TestCPFAndAHV(t *testing.T) {
	f := func(in, want, wantFound string) {
		t.Helper()
		got, found := defaultCleaner.AppendText(nil, []byte(in))
		if string(got) != want || found.String() != wantFound {
			t.Fatalf("AppendText(%q)\n got %q %s\nwant %q %s", in, got, found, want, wantFound)
		}
	}
	f("CPF 529.982.247-25, nota fiscal", "CPF [id], nota fiscal", "national_id")
	f("cpf: 529982247-25", "cpf: [id]", "national_id")
	f("AHV-Nr. 756.1234.5678.97", "AHV-Nr. [id]", "national_id")
	f("AVS 7561234567897", "AVS [id]", "national_id")
	// A check digit that does not hold, other shapes and numbers that
	// only look alike stay.
	f("529.982.247-26 756.1234.5678.96 7561234567896", "529.982.247-26 756.1234.5678.96 7561234567896", "none")
	f("52998224725 order 529.98.2247-25 v1.2.3-4 1.234.567,89", "52998224725 order 529.98.2247-25 v1.2.3-4 1.234.567,89", "none")
	f("111.111.111-11", "111.111.111-11", "none")

	got, found := defaultCleaner.AppendURL(nil, []byte("https://loja.example/checkout?cpf=52998224725&step=2"), URLClean)
	if string(got) != "https://loja.example/checkout?step=2" || found.String() != "param" {
		t.Fatalf("cpf parameter: got %q %s", got, found)
	}
}
