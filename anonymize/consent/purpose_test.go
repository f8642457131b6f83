package consent

import (
	"encoding/json"
	"testing"
)

func TestParsePurposes(t *testing.T) {
	f := func(s string, want Purposes, wantErr error) {
		t.Helper()
		got, err := ParsePurposes(s)
		if got != want || err != wantErr {
			t.Fatalf("ParsePurposes(%q) = %v, %v; want %v, %v", s, got, err, want, wantErr)
		}
	}
	f("", 0, nil)
	f("none", 0, nil)
	f("analytics", Of(Analytics), nil)
	f("analytics,ads,personalization,precise_geo,device_storage", AllPurposes, nil)
	f(" ads , analytics ", Of(Ads, Analytics), nil)
	f("ads,ads", Of(Ads), nil)
	f("Ads", 0, ErrUnknownPurpose)
	f("ads,,analytics", 0, ErrPurposeList)
	f("ads,", 0, ErrPurposeList)
	f("none,ads", 0, ErrPurposeList)
	f("geo", 0, ErrUnknownPurpose)

	if _, err := ParseExplicit(nil); err != ErrPurposeList {
		t.Fatalf("empty explicit field: %v", err)
	}
	// Sites write purposes as their banners show them: the explicit field
	// matches case-insensitively (config stays exact).
	explicit := func(s string, want Purposes, wantErr error) {
		t.Helper()
		got, err := ParseExplicit([]byte(s))
		if got != want || err != wantErr {
			t.Fatalf("ParseExplicit(%q) = %v, %v; want %v, %v", s, got, err, want, wantErr)
		}
	}
	explicit("Analytics", Of(Analytics), nil)
	explicit("ADS, Precise_Geo", Of(Ads, PreciseGeo), nil)
	explicit("NONE", 0, nil)
	explicit("analytic", 0, ErrUnknownPurpose)
	explicit("Analytics_and_more_than_sixteen_bytes", 0, ErrUnknownPurpose)
	for p := Purpose(1); int(p) <= numPurposes; p++ {
		if q, err := ParsePurpose(p.String()); q != p || err != nil {
			t.Fatalf("ParsePurpose(%v) = %v, %v", p, q, err)
		}
	}
	if _, err := ParsePurpose("all"); err != ErrUnknownPurpose {
		t.Fatal(err)
	}
	if Purpose(0).String() != "purpose(0)" || Purposes(0).String() != "none" {
		t.Fatal("zero values")
	}
}

func TestPurposesSet(t *testing.T) {
	s := Of(Analytics, PreciseGeo)
	if !s.Has(Analytics) || s.Has(Ads) || s.Len() != 2 || s.With(Ads).Len() != 3 || s.Without(Analytics) != Of(PreciseGeo) {
		t.Fatal(s)
	}
	if s.Has(0) || s.With(0) != s || s.Has(9) {
		t.Fatal("invalid purposes must be ignored")
	}
	if s.String() != "analytics,precise_geo" || AllPurposes.Len() != 5 {
		t.Fatal(s.String())
	}
	// JSON round trip through MarshalText/UnmarshalText.
	b, err := json.Marshal(map[string]Purposes{"p": s})
	if err != nil || string(b) != `{"p":"analytics,precise_geo"}` {
		t.Fatalf("%s %v", b, err)
	}
	var back map[string]Purposes
	if err := json.Unmarshal(b, &back); err != nil || back["p"] != s {
		t.Fatalf("%v %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"p":"cookies"}`), &back); err == nil {
		t.Fatal("unknown purpose accepted")
	}
}
