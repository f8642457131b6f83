package scrub

import "testing"

// TestNestedFormFieldNamesAreSensitive checks that a sensitive name written
// as a form library nests it (Rails and PHP "user[password]", Shopify
// "checkout[email]", "customer[first_name]", an array "email[]", Spring's
// "user.password") goes like the bare name. Until 2026-12-06 only the bare
// name was looked up, so a GET form's "user[password]=hunter2" or
// "checkout[shipping_address][address1]=..." reached every destination
// whose policy keeps the query (analytics and ads by default).
func TestNestedFormFieldNamesAreSensitive(t *testing.T) {
	for _, in := range []string{
		"https://shop.example/login?user[password]=hunter2&page=2",
		"https://shop.example/login?user%5Bpassword%5D=hunter2&page=2",
		"https://shop.example/c?checkout[email]=jane&page=2",
		"https://shop.example/c?customer[first_name]=Jane&page=2",
		"https://shop.example/c?checkout[shipping_address][address1]=Hauptstr+12&page=2",
		"https://shop.example/c?billing[street][]=Hauptstr+12&page=2",
		"https://shop.example/c?Email[]=jane&page=2",
		"https://shop.example/c?user.password=hunter2&page=2",
		"https://shop.example/c#user[token]=abc&page=2",
		"https://shop.example/c?next=/a?user[password]=hunter2&page=2",
	} {
		got, found := defaultCleaner.AppendURL(nil, []byte(in), URLClean)
		if string(got) != "https://shop.example/c?page=2" && string(got) != "https://shop.example/login?page=2" && string(got) != "https://shop.example/c#page=2" || !found.Has(KindParam) {
			t.Errorf("AppendURL(%q) = %q %s; want the nested sensitive parameter removed (param)", in, got, found)
		}
	}
	// Property keys are matched the same way.
	for _, k := range []string{"user[password]", "customer.first_name", "email[]"} {
		if f := defaultCleaner.SensitiveName([]byte(k)); !f.Has(KindParam) {
			t.Errorf("SensitiveName(%q) = %s; want param", k, f)
		}
	}
	// Nested names that say nothing stay, values and all.
	for _, in := range []string{
		"https://shop.example/c?filter[color]=red&filter[price][gte]=20&sort.by=price&ids[]=42",
		"https://shop.example/c?product[emailable]=1&page[size]=20",
	} {
		if got, found := defaultCleaner.AppendURL(nil, []byte(in), URLClean); string(got) != in || found != 0 {
			t.Errorf("AppendURL(%q) = %q %s; want it unchanged", in, got, found)
		}
	}
}
