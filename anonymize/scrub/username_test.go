package scrub

import (
	"slices"
	"testing"
)

// TestUserNameParamsRemovedFromURLs: a query or fragment parameter that
// names the visitor by a user or display name ("?user=Zelda", a forum's
// "nickname", a CMS's "display_name") goes from cleaned URLs, as "username"
// and "first_name" do. Until 2026-12-07 "?user=Zelda" reached every
// destination whose policy keeps the query.
func TestUserNameParamsRemovedFromURLs(t *testing.T) {
	for _, name := range []string{"user", "User", "usr", "user_login", "login_name", "logon", "nickname", "nick",
		"display_name", "displayname", "screen_name", "screenname", "fname", "lname", "benutzer", "benutzername",
		"customer_name", "user_email", "customer_email", "cardholder", "cardholder_name"} {
		for _, in := range []string{
			"https://shop.example/c?" + name + "=Zelda&page=2",
			"https://shop.example/c?page=2&" + name + "=Zelda",
			"https://shop.example/c?customer[" + name + "]=Zelda&page=2",
		} {
			got, found := defaultCleaner.AppendURL(nil, []byte(in), URLClean)
			if string(got) != "https://shop.example/c?page=2" || !found.Has(KindParam) {
				t.Errorf("AppendURL(%q) = %q %s; want %s removed (param)", in, got, found, name)
			}
		}
	}
	for _, name := range []string{"user", "USER", "nickname", "display_name", "screen_name"} {
		in := "https://forum.example/t#" + name + "=Zelda&page=2"
		if got, _ := defaultCleaner.AppendURL(nil, []byte(in), URLClean); string(got) != "https://forum.example/t#page=2" {
			t.Errorf("AppendURL(%q) = %q; want %s removed from the fragment", in, got, name)
		}
	}
	// Names that only begin like one stay.
	for _, in := range []string{
		"https://shop.example/c?users=20&user_count=3&nicknames_enabled=1",
	} {
		if got, found := defaultCleaner.AppendURL(nil, []byte(in), URLClean); string(got) != in || found != 0 {
			t.Errorf("AppendURL(%q) = %q %s; want it unchanged", in, got, found)
		}
	}
}

// TestURLOnlyNamesAreNoPropertyRule: the names BuiltinURLDropParams adds go
// from URLs only; as property keys SensitiveName says nothing of them, so
// an allowlisted property named "user" stays governed by the allowlist and
// the free-text scanner alone. The two lists do not overlap, and a
// configured DropParams name still covers properties too.
func TestURLOnlyNamesAreNoPropertyRule(t *testing.T) {
	for _, name := range BuiltinURLDropParams {
		if slices.Contains(BuiltinDropParams, name) || slices.Contains(BuiltinClickIDs, name) {
			t.Errorf("%s is in both lists", name)
		}
		if f := defaultCleaner.SensitiveName([]byte(name)); f != 0 {
			t.Errorf("SensitiveName(%q) = %s; want nothing (URLs only)", name, f)
		}
	}
	c := MustNew(Options{DropParams: []string{"User"}})
	if f := c.SensitiveName([]byte("user")); !f.Has(KindParam) {
		t.Errorf("with DropParams [User]: SensitiveName(user) = %s; want param", f)
	}
	if got, _ := c.AppendURL(nil, []byte("https://shop.example/c?user=Zelda&page=2"), URLClean); string(got) != "https://shop.example/c?page=2" {
		t.Errorf("with DropParams [User]: %q", got)
	}
}
