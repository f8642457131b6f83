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
