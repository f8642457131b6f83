package scrub

import "testing"

// TestBuiltinNamesCoverLocationAndContactSpellings checks parameter names
// whose values the value scanner cannot recognise: a visitor's precise
// location from a store locator ("?lat=52.520008&lng=13.404954"), the
// usual spellings of contact fields ("phone_number=5551234"), OpenID
// Connect's name claims and US social security numbers. Until 2026-12-06
// they reached every destination whose policy keeps the query, though the
// location went past the city-level geo of the same record.
func TestBuiltinNamesCoverLocationAndContactSpellings(t *testing.T) {
	for _, p := range []string{
		"lat=52.520008&lng=13.404954", "latitude=52.520008&longitude=13.404954", "lat=52.520008&lon=13.404954",
		"ll=52.520008,13.404954", "latlng=52.520008,13.404954", "coords=52.520008,13.404954",
		"phone_number=5551234", "phonenumber=5551234", "telephone=5551234", "mobile_number=15112345678",
		"email_address=jane", "emailaddress=jane",
		"given_name=Jane&family_name=Doe&middle_name=Ann",
		"ssn=123456789", "social_security_number=123456789", "passport=C01X00T47", "passport_number=C01X00T47",
	} {
		in := "https://shop.example/stores?" + p + "&page=2"
		got, found := defaultCleaner.AppendURL(nil, []byte(in), URLClean)
		if string(got) != "https://shop.example/stores?page=2" || !found.Has(KindParam) {
			t.Errorf("AppendURL(%q) = %q %s; want only page=2 left (param)", in, got, found)
		}
	}
	// Words that merely begin like them stay.
	in := "https://shop.example/s?latest=1&lang=de&long_sleeve=1&location=berlin&zip=10115"
	if got, found := defaultCleaner.AppendURL(nil, []byte(in), URLClean); string(got) != in || found != 0 {
		t.Errorf("AppendURL(%q) = %q %s; want it unchanged", in, got, found)
	}
}
