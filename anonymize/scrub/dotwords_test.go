package scrub

import "testing"

// An address written to dodge harvesters with its dots as the word for
// "dot" in the site's language between brackets, as German sites write
// theirs ("info [at] firma [punkt] de"), and French, Spanish, Italian,
// Portuguese, Dutch and Polish ones theirs, is an address as much as
// "jane.doe [at] example [dot] org": until 2026-12-07 it passed whole, in
// free text and in URLs, to every destination (found by planting it
// through the real binary). Only between brackets: as plain words they are
// prose.
func TestObfuscatedDotWordsOfOtherLanguages(t *testing.T) {
	for _, in := range []string{
		"jane.doe [at] example [punkt] de",
		"jane.doe (at) example (punkt) de",
		"jane.doe(at)example(Punkt)de",
		"jane [punkt] doe [at] example [punkt] de",
		"jane.doe [at] example [ PUNKT ] co [punkt] uk",
		"jane.doe (at) example (point) fr",
		"jane.doe (at) example (punto) es",
		"jane.doe {at} example {ponto} com {ponto} br",
		"jane.doe <at> example <punt> nl",
		"jane.doe [at] example [kropka] pl",
		"jane.doe@example[punkt]de",
		"schreib an jane.doe %5Bat%5D example %5Bpunkt%5D de bitte",
		"jane.doe+[at]+example+[punkt]+de",
	} {
		got, found := defaultCleaner.AppendText(nil, []byte(in))
		if found&KindEmail.bit() == 0 || bytesContain(got, "jane") || bytesContain(got, "example") {
			t.Errorf("AppendText(%q) = %q %s; want the address replaced by [email]", in, got, found)
		}
	}
	for _, in := range []string{
		"https://shop.example/kontakt/jane.doe[at]example[punkt]de",
		"https://shop.example/?q=jane.doe+%5Bat%5D+example+%5Bpunkt%5D+de",
		"https://shop.example/?q=jane.doe%20(at)%20example%20(point)%20fr",
	} {
		got, found := defaultCleaner.AppendURL(nil, []byte(in), URLClean)
		if found&KindEmail.bit() == 0 || bytesContain(got, "jane") {
			t.Errorf("AppendURL(%q) = %q %s; want the address removed", in, got, found)
		}
	}
	// Prose, and the words without brackets or without an at sign.
	for _, in := range []string{
		"Treffpunkt (at) the station punkt 10",
		"siehe (punkt) 3 der AGB",
		"jane.doe at example punkt de",
		"das ist der (punkte) stand",
		"meet me (at) the point . Then",
		"jane.doe (at) example (punktum) de",
	} {
		if got, found := defaultCleaner.AppendText(nil, []byte(in)); string(got) != in {
			t.Errorf("AppendText(%q) = %q %s; want it kept", in, got, found)
		}
	}
}
