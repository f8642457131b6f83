package recordtest

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestExceeds(t *testing.T) {
	rec := func(s string) map[string]any {
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	a := rec(`{"id":"x","ip":"81.2.69.0","url":"https://shop.example/p?a=1","geo":{"country":"GB","lat":51.5,"lon":-0.1},"consent":{"purposes":["analytics","ads"],"ad_personalization":true},"props":{"plan":"pro"}}`)
	for _, c := range []struct {
		b    string
		more bool
	}{
		{`{"id":"y","ip":"81.2.0.0","url":"https://shop.example/p","geo":{"country":"GB"},"consent":{"purposes":[]}}`, false},
		{`{"ip":"81.2.69.0"}`, false},
		{`{"ip":"81.2.69.142"}`, true}, // no prefix of A's
		{`{"ip":"81.3.0.0"}`, true},    // nor this
		{`{"url":"https://shop.example/p?b=2"}`, true},
		{`{"geo":{"lat":51.51}}`, true}, // finer
		{`{"props":{"plan":"max"}}`, true},
		{`{"props":{"note":"x"}}`, true}, // A has none
		{`{"user":"u"}`, true},           // A has no pseudonym
		{`{"consent":{"ad_personalization":true}}`, false},
	} {
		if got := Exceeds(a, rec(c.b)); (len(got) > 0) != c.more {
			t.Errorf("Exceeds(A, %s) = %q; want more: %v", c.b, got, c.more)
		}
	}
	b := rec(`{"consent":{"ad_personalization":true}}`)
	if got := Exceeds(rec(`{"consent":{}}`), b); len(got) != 1 {
		t.Errorf("ad_personalization granted only in B: %q", got)
	}
}
