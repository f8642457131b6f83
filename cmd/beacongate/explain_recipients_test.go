package main

import (
	"strings"
	"testing"
)

// TestExplainRecipients: explain says per destination whether it gets the
// event and why not. A pixel whose TC string grants analytics and ads but
// no vendor consent for vendor 755: the warehouse gets its own record (user
// agent reduced), the partner and GA4 nothing, "no vendor consent for
// vendor 755", and Meta and TikTok, which are not TCF vendors, nothing
// either where GDPR applies.
func TestExplainRecipients(t *testing.T) {
	const realTC = "CQd924AQd924AASACCENCNFsAP_gAEIAACiQL6QBAAGAAOANmAcAF9IAIADgAA" // vendors 12, 14, 435, 448
	sample := "GET /p.gif?site=shop&gdpr=1&gdpr_consent=" + realTC + "&url=https%3A%2F%2Fshop.example.com%2F HTTP/1.1\n" +
		"User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\n"
	o := explainJSON(t, sample, "-config", exampleConfig("shop-retargeting.yaml"))
	if len(o.Events) != 1 || o.Events[0].Consent.State != "ads" {
		t.Fatalf("events %+v; want one under ads", o.Events)
	}
	rs := o.Events[0].Recipients
	if len(rs) != 5 || rs[0].Destination != "warehouse" || rs[1].Destination != "retargeting" {
		t.Fatalf("recipients %+v; want warehouse, retargeting and the three ad platforms", rs)
	}
	for _, r := range rs[2:] {
		want := "no vendor consent for vendor 755"
		if r.Destination != "ga4" {
			want = "GDPR applies and the destination has no TCF vendor id (set tcf.vendor_id, or tcf.without_vendor for our own processing)"
		}
		if r.Gets || r.Why != want {
			t.Errorf("%s: gets %v, why %q; want nothing, %q", r.Destination, r.Gets, r.Why, want)
		}
	}
	if !rs[0].Gets || strings.Contains(string(rs[0].Record), "user_agent") || !strings.Contains(string(rs[0].Record), `"ua"`) {
		t.Errorf("warehouse: gets %v, record %s; want its own record with the reduced user agent only", rs[0].Gets, rs[0].Record)
	}
	if rs[1].Gets || rs[1].Why != "no vendor consent for vendor 755" || string(rs[1].Record) != "null" {
		t.Errorf("retargeting: gets %v, why %q, record %s; want nothing, no vendor consent for vendor 755", rs[1].Gets, rs[1].Why, rs[1].Record)
	}

	out, _, code := explainRun(t, sample, "-config", exampleConfig("shop-retargeting.yaml"))
	if code != 0 || !strings.Contains(out, "retargeting: gets nothing: no vendor consent for vendor 755") {
		t.Errorf("text output (exit %d) lacks the partner's reason:\n%s", code, out)
	}

	// Analytics only: the partner requires ads.
	o = explainJSON(t, strings.Replace(sample, "gdpr=1&gdpr_consent="+realTC, "consent=analytics", 1), "-config", exampleConfig("shop-retargeting.yaml"))
	if r := o.Events[0].Recipients[1]; r.Gets || r.Why != "requires analytics,ads; granted: analytics" {
		t.Errorf("analytics only: retargeting %+v; want requires analytics,ads", r)
	}
}
