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

// TestContactKeysRemovedFromURLs: fn and ln, the keys under which the
// gateway itself takes a first and last name (contact data, hashed for ad
// platforms only) and the ad platforms name them, go from cleaned URLs as
// fname and lname do: a personalised landing page of an e-mail campaign
// ("/offer?fn=Jane&ln=Doe&utm_source=newsletter") put the visitor's name
// into every record's url and referrer, and Meta's event_source_url, GA4's
// page_location and TikTok's page.url, until 2026-12-07. Whole names only:
// as the last word of a longer name they are too short to tell.
func TestContactKeysRemovedFromURLs(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://shop.example/offer?fn=Jane&ln=Doe&utm_source=newsletter", "https://shop.example/offer?utm_source=newsletter"},
		{"https://shop.example/offer?utm_source=newsletter&FN=Jane&Ln=Doe", "https://shop.example/offer?utm_source=newsletter"},
		{"https://shop.example/offer#fn=Jane&page=2", "https://shop.example/offer#page=2"},
	} {
		got, found := defaultCleaner.AppendURL(nil, []byte(c.in), URLClean)
		if string(got) != c.want || !found.Has(KindParam) {
			t.Errorf("AppendURL(%q) = %q %s; want %q (param)", c.in, got, found, c.want)
		}
	}
	for _, in := range []string{"https://shop.example/export?export_fn=report.csv&fns=2"} {
		if got, found := defaultCleaner.AppendURL(nil, []byte(in), URLClean); string(got) != in || found != 0 {
			t.Errorf("AppendURL(%q) = %q %s; want it unchanged", in, got, found)
		}
	}
}

// TestSubscriberAndExternalIDsRemovedFromURLs: e-mail tools put the
// recipient's id into every link of a newsletter (Kit's ck_subscriber_id,
// MailerLite's ml_subscriber and ml_subscriber_hash), and external_id is
// the name Meta and the gateway's own contact data give the site's id of
// the visitor: each names one person wherever the URL goes.
func TestSubscriberAndExternalIDsRemovedFromURLs(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://shop.example/sale?ck_subscriber_id=2210573190&utm_source=kit", "https://shop.example/sale?utm_source=kit"},
		{"https://shop.example/sale?ml_subscriber=1234567890123&ml_subscriber_hash=a1b2c3&utm_medium=email", "https://shop.example/sale?utm_medium=email"},
		{"https://shop.example/welcome?external_id=cust-88213&page=2", "https://shop.example/welcome?page=2"},
		{"https://shop.example/welcome#External_ID=cust-88213", "https://shop.example/welcome"},
	} {
		if got, _ := defaultCleaner.AppendURL(nil, []byte(c.in), URLClean); string(got) != c.want {
			t.Errorf("AppendURL(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}
