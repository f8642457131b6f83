package scrub

import (
	"strings"
	"testing"
)

// TestCamelCaseParamNames: a form whose fields are named in camel case
// (<input name="dateOfBirth">, as JavaScript frameworks name them) names
// the same things as date_of_birth; until now only spellings listed as
// run together (firstName, userId) were removed, and a visitor's birth
// date, given name or access token reached every destination in the page
// URL.
func TestCamelCaseParamNames(t *testing.T) {
	c := MustNew(Options{DropParams: []string{"loyalty_card"}})
	const raw = "https://shop.example/signup?dateOfBirth=1990-04-01&givenName=Zelda&familyName=Quux&accessToken=tkn42" +
		"&clientSecret=sec77&passportNumber=P1234567&emailAddress=zq%40example.org&sessionId=s42&loyaltyCard=LC9917&page=2"
	out, f := c.AppendURL(nil, []byte(raw), URLClean)
	for _, leak := range []string{"1990", "Zelda", "Quux", "tkn42", "sec77", "P1234567", "zq", "s42", "LC9917"} {
		if strings.Contains(string(out), leak) {
			t.Errorf("%q kept in %s", leak, out)
		}
	}
	if string(out) != "https://shop.example/signup?page=2" || !f.Has(KindParam) {
		t.Errorf("%s %v; want https://shop.example/signup?page=2 with param", out, f)
	}
	for _, key := range []string{"dateOfBirth", "givenName", "accessToken"} {
		if !c.SensitiveName([]byte(key)).Has(KindParam) {
			t.Errorf("property key %q: not a sensitive name", key)
		}
	}
	// Click ids with a leading underscore keep their own names, and names
	// that say nothing stay.
	out, _ = c.AppendURL(nil, []byte("https://shop.example/p?ga=1&gl=de&sizeEu=42&colorName=red&pageSize=20"), URLClean)
	if string(out) != "https://shop.example/p?ga=1&gl=de&sizeEu=42&colorName=red&pageSize=20" {
		t.Errorf("got %s; want the names that say nothing kept", out)
	}
}
