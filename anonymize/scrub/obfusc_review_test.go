package scrub

import "testing"

// An address whose at sign is a real '@' but whose dots are written out
// ("jane.doe@example[dot]org", one of the commonest forms written to dodge
// harvesters) is an address as much as "jane.doe(at)example(dot)org": the
// written-out dots are what the scanner now reads, and the '@' is a
// stronger at sign than "(at)".
func TestObfuscatedDotsWithRealAtSign(t *testing.T) {
	for _, in := range []string{
		"jane.doe@example(dot)org",
		"jane.doe@example[dot]org",
		"jane.doe@example [dot] org",
		"jane.doe@example (dot) co (dot) uk",
		"jane.doe@example(.)org",
		"jane.doe@example dot org",
		"mail jane.doe@example{dot}org please",
	} {
		got, found := defaultCleaner.AppendText(nil, []byte(in))
		if found&KindEmail.bit() == 0 || bytesContain(got, "jane") {
			t.Errorf("AppendText(%q) = %q %s; want the address replaced by [email]", in, got, found)
		}
	}
	for _, in := range []string{
		"https://shop.example/contact/jane.doe@example[dot]org",
		"https://shop.example/?q=jane.doe%40example%5Bdot%5Dorg",
	} {
		got, found := defaultCleaner.AppendURL(nil, []byte(in), URLClean)
		if found&KindEmail.bit() == 0 || bytesContain(got, "jane") {
			t.Errorf("AppendURL(%q) = %q %s; want the address removed", in, got, found)
		}
	}
}

func bytesContain(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return true
		}
	}
	return false
}

// An address whose last label has text glued after it ends at the
// label's letters, as matchEmail's does ("a@b.com1" is "[email]1": glued
// text cannot hide it), also when its dots are the plain word " dot ":
// "jane dot doe at example dot org000000" (FuzzAppendText, seed
// 45e2e6239a90547f) passed whole.
func TestObfuscatedDotWordGluedTLD(t *testing.T) {
	for in, want := range map[string]string{
		"jane dot doe at example dot org000000": "[email]000000",
		"jane.doe at example dot org2":          "[email]2",
		"jane.doe (at) example dot com1":        "[email]1",
		"jane.doe [at] example dot de-x":        "[email]-x",
	} {
		if got, _ := defaultCleaner.AppendText(nil, []byte(in)); string(got) != want {
			t.Errorf("AppendText(%q) = %q; want %q", in, got, want)
		}
	}
}

// An obfuscated address after an at sign written as a word and glued into
// the text by '+' (a form-encoded blank) or '-' ("find+me+at+jane.doe(at)
// example.org") passed whole: '+' and '-' are local-part characters, so
// the scan read "find+me" as the local part, which ends at "+at+", and
// never tried one starting at "jane" (FuzzAppendText, input "0+At+...").
// The same text with spaces was caught. Prose with a glued "at" and no
// address stays.
func TestObfuscatedAddressAfterGluedAtWord(t *testing.T) {
	for _, in := range []string{
		"find+me+at+jane.doe(at)example.org",
		"0+At+jane.doe(at)example.org",
		"write-to-me-at-jane.doe[at]example.org",
		"a+at+b+at+jane.doe(at)example.org",
		"order 12345, find+me+at+jane.doe(at)example.org",
		"find+me+at+jane.doe+at+example+dot+org",
		"x(dot)find+me+at+jane.doe(at)example.org",
	} {
		got, found := defaultCleaner.AppendText(nil, []byte(in))
		if found&KindEmail.bit() == 0 || bytesContain(got, "jane") {
			t.Errorf("AppendText(%q) = %q %s; want the address replaced by [email]", in, got, found)
		}
	}
	got, _ := defaultCleaner.AppendURL(nil, []byte("https://shop.example/?note=find+me+at+jane.doe(at)example.org"), URLClean)
	if bytesContain(got, "jane") {
		t.Errorf("AppendURL = %q; want the address removed", got)
	}
	for _, in := range []string{"meet+me+at+the+station", "shop.stay-at-home.de", "look+at+example.com", "stay-at-home-mom+at+home"} {
		if got, found := defaultCleaner.AppendText(nil, []byte(in)); found != 0 || string(got) != in {
			t.Errorf("AppendText(%q) = %q %s; want it kept", in, got, found)
		}
	}
}

// A word with a percent-escape was scanned alone, decoded, and cut the
// text around it in two: an address written in words whose last word
// carries an escape ("jane dot doe at example dot org%00", a form's NUL
// after it) lost its top-level domain and passed whole (FuzzAppendText,
// input 5be34fa1135ac2e5). A word that holds nothing alone now stays in
// the text around it; one that holds something alone is still replaced.
func TestEscapedWordDoesNotSplitAnAddress(t *testing.T) {
	for _, in := range []string{
		"jane dot doe at example dot org%00",
		"jane dot doe at example dot org0%0000 00",
		"write to jane.doe (at) example (dot) org%2C please",
	} {
		got, found := defaultCleaner.AppendText(nil, []byte(in))
		if found&KindEmail.bit() == 0 || bytesContain(got, "jane") {
			t.Errorf("AppendText(%q) = %q %s; want the address replaced by [email]", in, got, found)
		}
	}
	if got, _ := defaultCleaner.AppendText(nil, []byte("see jane.doe%40example.org today")); string(got) != "see [email] today" {
		t.Errorf("an escaped address alone: %q", got)
	}
	for _, in := range []string{"50%25 off at example dot com", "100%25 cotton, made at home"} {
		if got, found := defaultCleaner.AppendText(nil, []byte(in)); found != 0 || string(got) != in {
			t.Errorf("AppendText(%q) = %q %s; want it kept", in, got, found)
		}
	}
}

// TestDotWordGluedByPlusOpensTheLocalPart: a local part whose dot is the
// word "dot" with a blank before it and a '+' (a form-encoded blank) after
// it, "jane dot+doe(at)example.org": the run of local-part characters
// before the at sign starts at "dot+", and the scan took that run for the
// whole local part, so "jane" stayed in the text. Found by FuzzAppendText
// (input 0ef9f7a4f616ef79 in the corpus).
func TestDotWordGluedByPlusOpensTheLocalPart(t *testing.T) {
	for _, in := range []string{
		"jane dot+doe(at)example.org",
		"write to jane dot+doe [at] example.org today",
		"jane  dot++doe.smith(at)example.org",
		"0 dot+0jane.doe(at)example.org",
	} {
		got, found := defaultCleaner.AppendText(nil, []byte(in))
		if found&KindEmail.bit() == 0 || bytesContain(got, "jane") || bytesContain(got, "doe") {
			t.Errorf("AppendText(%q) = %q %s; want the address replaced by [email]", in, got, found)
		}
	}
	if s, e := nextObfuscated([]byte("jane dot+doe(at)example.org"), 0); s != 0 || e != 27 {
		t.Errorf("nextObfuscated = %d, %d; want 0, 27", s, e)
	}
}

// TestGluedAtWordWithSeveralBlanks: an at sign written as a word glued in
// by more than one '+' after it ("0+At++jane.doe(at)example.org", two
// form-encoded blanks) was looked for only where one '+' follows it, so the
// address after it was never read and passed whole. Found by
// FuzzAppendText (input 4d06520089fe30a4 in the corpus).
func TestGluedAtWordWithSeveralBlanks(t *testing.T) {
	for _, in := range []string{
		"0+At++jane.doe(at)example.org",
		"find++me++at++jane.doe(at)example.org",
		"me+at+++jane.doe[at]example.org",
		"me+++at+++jane.doe(at)example.org",
	} {
		got, found := defaultCleaner.AppendText(nil, []byte(in))
		if found&KindEmail.bit() == 0 || bytesContain(got, "jane") {
			t.Errorf("AppendText(%q) = %q %s; want the address replaced by [email]", in, got, found)
		}
	}
	for _, in := range []string{"meet++me++at++the+station", "look++at++example.com"} {
		if got, found := defaultCleaner.AppendText(nil, []byte(in)); found != 0 || string(got) != in {
			t.Errorf("AppendText(%q) = %q %s; want it kept", in, got, found)
		}
	}
}

// TestGluedAtInARunAfterABracket: a run of local-part characters after a
// closing bracket ("x)me-at-jane.doe(at)example.org") may follow a dot
// written out ("jane(dot)doe"), so its start is tried with every earlier
// one, and then marked tried; the address after the glued "-at-" in that
// run, reached from the next at sign, was then never tried, and passed
// whole. Found by FuzzAppendText (input 8e56f133572b3cb6 in the corpus).
func TestGluedAtInARunAfterABracket(t *testing.T) {
	for _, in := range []string{
		"x)me-at-jane.doe(at)example.org",
		"00)00-At-jane.doe(at)example.org",
		"see [1]write+to+me+at+jane.doe(at)example.org",
		"a(dot)me-at-jane.doe[at]example.org",
	} {
		got, found := defaultCleaner.AppendText(nil, []byte(in))
		if found&KindEmail.bit() == 0 || bytesContain(got, "jane") {
			t.Errorf("AppendText(%q) = %q %s; want the address replaced by [email]", in, got, found)
		}
	}
}

// TestLocalPartNeverStartsWithAGluedAtWord: in "00+At+At+jane.doe(at)
// example.org" the second "At" is the at sign of a glued "+At+" that
// starts at the '+' before it, and also follows the first: read from
// there, "At+jane.doe" was a local part, which trying every local part
// found and nextObfuscated (taking the last start after a glued at sign)
// did not. Both now read the address from "jane". Found by FuzzAppendText
// (input d62dd82b42474cf5 in the corpus).
func TestLocalPartNeverStartsWithAGluedAtWord(t *testing.T) {
	b := []byte("00+At+At+jane.doe(at)example.org")
	if s, e := nextObfuscated(b, 0); s != 9 || e != len(b) {
		t.Errorf("nextObfuscated = %d, %d; want 9, %d", s, e, len(b))
	}
	if got := matchObfuscated(b, 6); got != 0 {
		t.Errorf("matchObfuscated from the glued at word = %d; want 0", got)
	}
	// A local part does not start with a glued at sign either: in
	// "00-At--At-00jane.doe(at)example.org" the start after the first
	// "-At-" is the second's hyphen (input 54eb76d1e928e9b6).
	c := []byte("00-At--At-00jane.doe(at)example.org")
	if s, e := nextObfuscated(c, 0); s != 10 || e != len(c) {
		t.Errorf("nextObfuscated(%q) = %d, %d; want 10, %d", c, s, e, len(c))
	}
	if got := matchObfuscated(c, 6); got != 0 {
		t.Errorf("matchObfuscated from a glued at sign = %d; want 0", got)
	}
	for _, in := range []string{string(b), string(c), "x+at+atlas.doe(at)example.org", "me-at-at-jane.doe(at)example.org"} {
		got, found := defaultCleaner.AppendText(nil, []byte(in))
		if found&KindEmail.bit() == 0 || bytesContain(got, "jane") || bytesContain(got, "atlas") {
			t.Errorf("AppendText(%q) = %q %s; want the address replaced by [email]", in, got, found)
		}
	}
}

// TestLocalPartInAnEscapedBracketsDigits: the run of local-part
// characters before "(At)" in "%7D(At)0.AA" is the two hex digits of an
// escaped closing bracket; nextObfuscated skipped past the escape, found
// no run left, and tried nothing, where trying every local part reads
// "7D" as one. Found by FuzzAppendText (input c2cf4ffc141e47e8 in the
// corpus).
func TestLocalPartInAnEscapedBracketsDigits(t *testing.T) {
	b := []byte("%7D(At)0.AA")
	if s, e := nextObfuscated(b, 0); s != 1 || e != len(b) {
		t.Errorf("nextObfuscated(%q) = %d, %d; want 1, %d", b, s, e, len(b))
	}
}
