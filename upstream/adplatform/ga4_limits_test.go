package adplatform_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/upstream/adplatform"
)

// GA4 limits a parameter value to 100 characters, whatever the script:
// its limits count characters, the same for single-byte and double-byte
// languages. A value of 100 characters in Japanese, Greek or with emoji
// (up to 400 bytes) is sent whole; a longer one is cut at 100 characters,
// never in the middle of one.
func TestGA4ValueLimitCountsCharacters(t *testing.T) {
	srv, s, _, _ := setup(t, adplatform.GA4, func(o *adplatform.Options) { o.TestMode = true })
	ja := strings.Repeat("商", 100)    // 100 characters, 300 bytes
	el := strings.Repeat("λ", 60)     // 60 characters, 120 bytes
	emoji := strings.Repeat("🛒", 101) // 101 characters, 404 bytes
	r := strings.Replace(string(rec(1, "c", false)), `"plan":"pro"`,
		`"plan":"pro","product":"`+ja+`","category":"`+el+`","cart":"`+emoji+`"`, 1)
	if err := send(s, batch(0, []byte(r))); err != nil {
		t.Fatal(err)
	}
	st := srv.Stats()
	if st.Events != 1 || len(st.Refused) > 0 {
		t.Fatalf("stats %+v", st)
	}
	raw := string(srv.Events()[0].Raw)
	for _, w := range []string{`"product":"` + ja + `"`, `"category":"` + el + `"`, `"cart":"` + strings.Repeat("🛒", 100) + `"`} {
		if !strings.Contains(raw, w) {
			t.Errorf("event %s\nlacks %s", raw, w)
		}
	}
}

// GA4 takes a page_title of up to 300 characters (the exception to the
// 100 of other values, as page_location's 1,000 and page_referrer's 420):
// a page's title is sent whole up to there, cut at 300 beyond.
func TestGA4PageTitleLimit(t *testing.T) {
	srv, s, _, _ := setup(t, adplatform.GA4, func(o *adplatform.Options) { o.TestMode = true })
	title := strings.Repeat("Größe ", 40) // 240 characters
	long := strings.Repeat("t", 301)
	var recs [][]byte
	for i, v := range []string{title, long} {
		recs = append(recs, []byte(strings.Replace(string(rec(i, "c", false)), `"plan":"pro"`, `"plan":"pro","page_title":"`+v+`"`, 1)))
	}
	if err := send(s, batch(0, recs...)); err != nil {
		t.Fatal(err)
	}
	st := srv.Stats()
	if st.Events != 2 || len(st.Refused) > 0 {
		t.Fatalf("stats %+v", st)
	}
	for i, w := range []string{title, long[:300]} {
		if raw := string(srv.Events()[i].Raw); !strings.Contains(raw, `"page_title":"`+w+`"`) {
			t.Errorf("event %s\nlacks page_title %q", raw, w)
		}
	}
}

// A GA4 request body must be smaller than 130kB, 130,000 bytes: the
// sink cuts a client's events into requests that stay below it, the
// envelope (client id, user id, consent, user data) counted, however the
// values' escapes swell the body.
func TestGA4BodyLimit(t *testing.T) {
	srv, s, _, _ := setup(t, adplatform.GA4, func(o *adplatform.Options) { o.TestMode = true })
	var props strings.Builder
	for k := range 22 {
		fmt.Fprintf(&props, `,"p%02d":"%s"`, k, strings.Repeat("&", 100)) // 100 characters, 600 bytes escaped
	}
	var recs [][]byte
	for i := range 10 {
		recs = append(recs, []byte(strings.Replace(string(rec(i, strings.Repeat("c", 250), false)), `"plan":"pro"`, `"plan":"pro"`+props.String(), 1)))
	}
	if err := send(s, batch(0, recs...)); err != nil {
		t.Fatal(err)
	}
	if st := srv.Stats(); st.Events != len(recs) || len(st.Refused) > 0 {
		t.Fatalf("events %d of %d, refused %q", st.Events, len(recs), st.Refused)
	}
}
