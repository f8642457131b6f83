package scrub

import (
	"strings"
	"testing"
)

// TestKebabCaseParamNames: a GET form whose fields are named in kebab case
// (<input name="first-name">, as many templates write them) names the same
// things as first_name: until now only the snake-case spellings were
// removed, and the visitor's name, birth date and password reached every
// destination in the page URL.
func TestKebabCaseParamNames(t *testing.T) {
	c := MustNew(Options{DropParams: []string{"loyalty_card"}})
	const raw = "https://shop.example/signup?first-name=Zelda&Last-Name=Quux&full-name=Zelda+Quux&date-of-birth=1990-04-01" +
		"&mot-de-passe=hunter2xyz&access-token=tkn42&session-id=s42&user[first-name]=Zelda&display-name=zq&loyalty-card=LC9917&page=2"
	for _, mode := range []URLMode{URLClean} {
		out, f := c.AppendURL(nil, []byte(raw), mode)
		for _, leak := range []string{"Zelda", "Quux", "1990", "hunter2xyz", "tkn42", "s42", "zq", "LC9917"} {
			if strings.Contains(string(out), leak) {
				t.Errorf("%v: %q kept in %s", mode, leak, out)
			}
		}
		if string(out) != "https://shop.example/signup?page=2" || !f.Has(KindParam) {
			t.Errorf("%v: %s %v; want https://shop.example/signup?page=2 with param", mode, out, f)
		}
	}
	for _, key := range []string{"first-name", "Last-Name", "date-of-birth", "access-token"} {
		if !c.SensitiveName([]byte(key)).Has(KindParam) {
			t.Errorf("property key %q: not a sensitive name", key)
		}
	}
	// The campaign's parameters and other dashed names stay.
	out, _ := c.AppendURL(nil, []byte("https://shop.example/p?utm_source=news&size-eu=42&color-name=red"), URLClean)
	if string(out) != "https://shop.example/p?utm_source=news&size-eu=42&color-name=red" {
		t.Errorf("got %s; want the dashed names that say nothing kept", out)
	}
}
