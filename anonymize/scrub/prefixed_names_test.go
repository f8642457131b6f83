package scrub

import (
	"slices"
	"strings"
	"testing"
)

// TestPrefixedParamNames: a checkout form names its fields after whose
// they are (<input name="billing-first-name">, shipping_last_name,
// billingEmail, new-password, confirmPassword, customer_phone, as HTML's
// autocomplete tokens and form builders write them): the sensitive names
// matched whole names only, and the visitor's name, password or phone
// number reached every destination in the page URL and the referrer. A
// listed name that reads as a phrase or a distinctive word now also
// matches as the trailing words of a parameter's name; generic words
// (name, code, key, state, id) still match whole names only, so ordinary
// parameters such as product-name, promo_code and campaign_id stay.
func TestPrefixedParamNames(t *testing.T) {
	c := MustNew(Options{DropParams: []string{"loyalty_card", "ref"}})
	const raw = "https://shop.example/checkout?billing-first-name=Zelda&shipping_last_name=Quux&billingEmail=zq%40example.org" +
		"&new-password=hunter2xyz&confirmPassword=hunter3xyz&current_password=hunter4xyz&cc-number=4111%201111%201111%201111" +
		"&customer_phone=0301234567&user[first_name]=Zelda&checkout.shippingAddress=Hauptstr+5&cc-csc=737" +
		"&x-csrf-token=tkn42&customerDateOfBirth=1990-04-01&member_loyalty_card=LC9917&page=2"
	for _, in := range []string{raw, "https://shop.example/cart#/checkout?" + raw[strings.IndexByte(raw, '?')+1:]} {
		out, f := c.AppendURL(nil, []byte(in), URLClean)
		for _, leak := range []string{"Zelda", "Quux", "zq", "hunter", "4111", "0301234567", "Hauptstr", "737", "tkn42", "1990", "LC9917"} {
			if strings.Contains(string(out), leak) {
				t.Errorf("%q kept in %s", leak, out)
			}
		}
		if !strings.HasSuffix(string(out), "page=2") || !f.Has(KindParam) {
			t.Errorf("%s %v; want page=2 kept, with param", out, f)
		}
	}
	// Generic words and configured single words match whole names only:
	// the shop's and the campaign's own parameters stay.
	const keep = "https://shop.example/p?product-name=Boot&productName=Boot&promo_code=SPRING&campaign_id=42&sort_key=price" +
		"&filter_state=open&color-name=red&is_mobile=1&day-pass=1&map_pin=3&site_ref=nav&utm_source=news&page=2"
	if out, f := c.AppendURL(nil, []byte(keep), URLClean); string(out) != keep || f != 0 {
		t.Errorf("got %s %v; want the ordinary parameters kept", out, f)
	}
	// Property keys are governed by the allowlist: they keep whole-name
	// matching.
	for _, key := range []string{"billing_first_name", "customer_phone"} {
		if f := c.SensitiveName([]byte(key)); f != 0 {
			t.Errorf("property key %q: %v; want nothing", key, f)
		}
	}
}

// TestWholeNamesOnlyAreListed: each word kept from suffix matching is a
// listed single word (a typo would silently let it match as a suffix).
func TestWholeNamesOnlyAreListed(t *testing.T) {
	for _, w := range wholeNamesOnly {
		if !slices.Contains(BuiltinDropParams, w) && !slices.Contains(BuiltinURLDropParams, w) {
			t.Errorf("%q is in no list", w)
		}
	}
}
