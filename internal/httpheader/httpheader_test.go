package httpheader

import "testing"

func TestValidName(t *testing.T) {
	for k, want := range map[string]bool{
		"X-Api-Key": true, "x_k.1~": true, "!#$%&'*+-.^_`|~": true,
		"": false, "X Key": false, "X:Key": false, "Ключ": false, "X\r\nY": false,
	} {
		if got := ValidName(k); got != want {
			t.Errorf("ValidName(%q) = %v; want %v", k, got, want)
		}
	}
}

func TestValidValue(t *testing.T) {
	for v, want := range map[string]bool{
		"k1": true, "a\tb": true, "": true, "ü": true,
		"a\nb": false, "a\rb": false, "a\x00": false, "\x01k": false, "k\x7f": false,
	} {
		if got := ValidValue(v); got != want {
			t.Errorf("ValidValue(%q) = %v; want %v", v, got, want)
		}
	}
}
