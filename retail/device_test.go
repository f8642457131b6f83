package retail

import (
	"strings"
	"testing"
)

func TestAppendMAC(t *testing.T) {
	const want = "a4:5e:60:c1:0d:2f"
	for _, in := range []string{
		"a4:5e:60:c1:0d:2f", "A4:5E:60:C1:0D:2F", "a4-5e-60-c1-0d-2f", "A4-5e-60-C1-0d-2F",
		"a45e.60c1.0d2f", "A45E.60C1.0D2F", "a45e60c10d2f", "A45E60C10D2F",
	} {
		got, ok := AppendMAC([]byte("x"), []byte(in))
		if !ok || string(got) != "x"+want {
			t.Errorf("%q: %q %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{
		"", "a4:5e:60:c1:0d", "a4:5e-60:c1:0d:2f", "a4:5e:60:c1:0d:2g", "a45e:60c1:0d2f",
		"a45e.60c1-0d2f", "a45e60c10d2", "a45e60c10d2fz", "a4.5e.60.c1.0d.2f", "a4:5e:60:c1:0d:2f:",
		"a45e.60c1.0d.f", "a:45e:60c1:0d2f",
	} {
		if got, ok := AppendMAC([]byte("x"), []byte(in)); ok || string(got) != "x" {
			t.Errorf("%q: accepted as %q", in, got)
		}
	}
}

func TestRandomized(t *testing.T) {
	for mac, want := range map[string]bool{
		"00:1a:2b:3c:4d:5e": false, "a4:5e:60:c1:0d:2f": false, "f0:00:00:00:00:00": false,
		"02:00:00:00:00:00": true, "da:a1:19:00:00:01": true, "f6:00:00:00:00:00": true, "7e:00:00:00:00:00": true,
	} {
		if got := Randomized([]byte(mac)); got != want {
			t.Errorf("%s: randomized %v; want %v", mac, got, want)
		}
	}
}

func TestAppendLowerASCII(t *testing.T) {
	if got := string(AppendLowerASCII(nil, []byte("6D92078A-8246-4BA4-AE5B-76104861E7DC"))); got != strings.ToLower("6D92078A-8246-4BA4-AE5B-76104861E7DC") {
		t.Fatal(got)
	}
}

// FuzzAppendMAC: whatever the input, an accepted MAC is 17 bytes of
// lower-case hex pairs and colons, a second pass leaves it unchanged, and
// a refused one leaves dst as it was.
func FuzzAppendMAC(f *testing.F) {
	for _, s := range []string{"a4:5e:60:c1:0d:2f", "A4-5E-60-C1-0D-2F", "a45e.60c1.0d2f", "a45e60c10d2f", "zz", "a45e:60c1:0d2f"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		got, ok := AppendMAC(nil, s)
		if !ok {
			if len(got) != 0 {
				t.Fatalf("refused but wrote %q", got)
			}
			return
		}
		if len(got) != MACLen {
			t.Fatalf("%q: %d bytes", got, len(got))
		}
		for i, c := range got {
			if i%3 == 2 && c != ':' || i%3 != 2 && !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				t.Fatalf("%q: byte %d", got, i)
			}
		}
		if again, ok := AppendMAC(nil, got); !ok || string(again) != string(got) {
			t.Fatalf("%q renormalised to %q", got, again)
		}
	})
}
