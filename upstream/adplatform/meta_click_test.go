package adplatform_test

import (
	"strings"
	"testing"

	"github.com/beacongate/beacongate/upstream/adplatform"
)

// A _fbc or _fbp cookie that is not in the format Meta documents
// (fb.<subdomain index>.<creation time, ms>.<fbclid or random number>,
// https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/fbp-and-fbc)
// is left out of user_data: Meta refuses the whole request for a
// malformed fbc (code 100, subcode 2804001, "Click ID Incorrectly
// Formatted"), so sending it would cost the event; the event goes without
// it, with the rest of its customer information.
func TestMetaMalformedClickCookiesLeftOut(t *testing.T) {
	const fbc, fbp = "fb.1.1733306400123.AbCdEf", "fb.1.1733306400123.987654321" // as Meta documents them
	for _, c := range []struct{ fbc, fbp, bad string }{
		{"fb.1.1733306400123", fbp, "fb.1.1733306400123"},                               // fbc without its fbclid
		{"AbCdEf", fbp, "AbCdEf"},                                                       // the bare fbclid
		{"fb.x.1733306400123.AbCdEf", fbp, "fb.x.1733306400123.AbCdEf"},                 // no subdomain index
		{fbc, "987654321", "987654321"},                                                 // fbp without its prefix
		{fbc, "fb.1.1733306400123.", "fb.1.1733306400123."},                             // fbp without its random number
		{fbc, "fb.1.17333064001234567890.9876543", "fb.1.17333064001234567890.9876543"}, // no creation time in ms
		{fbc, "fb.1.1733306400123.987654321.Abc", "fb.1.1733306400123.987654321.Abc"},   // no Parameter Builder appendix
	} {
		srv, s, _, reg := setup(t, adplatform.Meta, nil)
		r := strings.Replace(string(rec(1, "c", true)), `"fbc":"`+fbc+`"`, `"fbc":"`+c.fbc+`"`, 1)
		r = strings.Replace(r, `"fbp":"`+fbp+`"`, `"fbp":"`+c.fbp+`"`, 1)
		if err := send(s, batch(0, []byte(r))); err != nil {
			t.Fatalf("fbc %q fbp %q: %v", c.fbc, c.fbp, err)
		}
		st := srv.Stats()
		if len(st.Refused) > 0 || st.Events != 1 {
			t.Fatalf("fbc %q fbp %q: %d events, refused %q", c.fbc, c.fbp, st.Events, st.Refused)
		}
		raw := string(srv.Events()[0].Raw)
		if strings.Contains(raw, `"`+c.bad+`"`) {
			t.Errorf("malformed %q sent: %s", c.bad, raw)
		}
		if c.fbc == fbc && !strings.Contains(raw, `"fbc":"`+fbc+`"`) || c.fbp == fbp && !strings.Contains(raw, `"fbp":"`+fbp+`"`) {
			t.Errorf("well-formed cookie left out: %s", raw)
		}
		if !strings.Contains(raw, `"em":["`+emHash+`"]`) || !strings.Contains(raw, `"client_user_agent":`) {
			t.Errorf("event lost its other customer information: %s", raw)
		}
		if got := counter(t, reg, "beacongate_upstream_platform_event_errors_total", nil); got != 0 {
			t.Errorf("fbc %q fbp %q: %v events dead-lettered", c.fbc, c.fbp, got)
		}
	}
}

// Meta's Parameter Builder Library, which the Conversions API
// documentation recommends for fbc and fbp ("Increases coverage of
// important event parameters including fbc (Meta click ID), fbp (Meta
// browser ID)", https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameter-builder-library),
// writes the _fbp and _fbc cookies with an appendix after the random
// number or the fbclid: a 2-character token (.Ag) or 8 characters of
// URL-safe base64 (github.com/facebook/capi-param-builder, linked from
// that page: fb.<index>.<ms>.<payload>.<appendix>, and getFbp returns it
// so for the fbp parameter). Such cookies are Meta's own: they are sent
// as they are, not left out as malformed.
func TestMetaClickCookiesWithParamBuilderAppendix(t *testing.T) {
	const fbc, fbp = "fb.1.1733306400123.AbCdEf", "fb.1.1733306400123.987654321"
	for _, c := range []struct{ fbc, fbp string }{
		{"fb.1.1733306400123.AbCdEf.Ag", "fb.1.1733306400123.987654321.Ag"},
		{"fb.1.1733306400123.AbCdEf.AQEAAgAB", "fb.1.1733306400123.987654321.AQEAAgAB"},
		{"fb.2.1733306400123.AbCdEf.Bg", "fb.2.1733306400123.987654321.Bg"},
	} {
		srv, s, _, _ := setup(t, adplatform.Meta, nil)
		r := strings.Replace(string(rec(1, "c", true)), `"fbc":"`+fbc+`"`, `"fbc":"`+c.fbc+`"`, 1)
		r = strings.Replace(r, `"fbp":"`+fbp+`"`, `"fbp":"`+c.fbp+`"`, 1)
		if err := send(s, batch(0, []byte(r))); err != nil {
			t.Fatalf("fbc %q fbp %q: %v", c.fbc, c.fbp, err)
		}
		st := srv.Stats()
		if len(st.Refused) > 0 || st.Events != 1 {
			t.Fatalf("fbc %q fbp %q: %d events, refused %q", c.fbc, c.fbp, st.Events, st.Refused)
		}
		raw := string(srv.Events()[0].Raw)
		if !strings.Contains(raw, `"fbc":"`+c.fbc+`"`) || !strings.Contains(raw, `"fbp":"`+c.fbp+`"`) {
			t.Errorf("fbc %q fbp %q: a cookie of Meta's library left out: %s", c.fbc, c.fbp, raw)
		}
	}
}
