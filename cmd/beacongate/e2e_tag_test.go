package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/tag"
)

// This file runs bg.js, the first-party tag, in a real headless Chromium
// against the real binary. Each scenario is a page on another origin than
// the gateway's, loading the tag the way the README's snippet does (async,
// versioned URL, SRI, crossorigin), and each one asserts the records the
// gateway wrote and that the page logged no error. Scenarios run at the same
// time, each in its own browser tab, with its own site id.

// tagTCAll is a valid TCF 2.2 TC string consenting to every purpose and both
// special features (the one the README decodes).
const tagTCAll = "CQd924AQd924AASACCENCNFsAP_gAEIAACiQL6QBAAGAAOANmAcAF9IAIADgAA"

// tagTCRefuseAll returns tc with every special feature opt-in and purpose
// consent bit cleared: the TC string of a visitor who refused everything.
// In the core segment the special features take bits 140-151 and the
// purpose consents bits 152-175.
func tagTCRefuseAll(tc string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := []byte(tc)
	for bit := 140; bit < 176; bit++ {
		i, shift := bit/6, 5-bit%6
		v := strings.IndexByte(alphabet, b[i]) &^ (1 << shift)
		b[i] = alphabet[v]
	}
	return string(b)
}

// tagStubCMP implements the part of the IAB TCF v2.2 CMP API (__tcfapi) that
// a vendor script uses: addEventListener calls back at once with the
// current TCData and again on each change, with a listenerId;
// removeEventListener and ping. The page drives it with cmp.show() (the
// banner is shown: cmpuishown) and cmp.answer(tcString, purposes)
// (useractioncomplete); cmp.loaded(...) is a returning visitor (tcloaded).
const tagStubCMP = `<script>
(function () {
  var listeners = {}, next = 1;
  var state = {cmpStatus: "loaded", eventStatus: "cmpuishown", gdprApplies: true, tcString: "",
    purpose: {consents: {}, legitimateInterests: {}}, vendor: {consents: {}, legitimateInterests: {}},
    specialFeatureOptins: {}, tcfPolicyVersion: 5, cmpId: 18, cmpVersion: 2, isServiceSpecific: true};
  var shown = false;
  function data(id) { var d = JSON.parse(JSON.stringify(state)); d.listenerId = id; return d; }
  function notify() { for (var id in listeners) listeners[id](data(+id), true); }
  window.__tcfapi = function (cmd, version, cb, param) {
    if (version !== 2 && version !== undefined) { cb(null, false); return; }
    switch (cmd) {
    case "ping":
      cb({gdprApplies: true, cmpLoaded: true, cmpStatus: "loaded", displayStatus: shown ? "visible" : "hidden",
          apiVersion: "2.2", cmpVersion: 2, cmpId: 18, gvlVersion: 141, tcfPolicyVersion: 5}, true);
      return;
    case "addEventListener":
      var id = next++;
      listeners[id] = cb;
      if (shown || state.tcString) cb(data(id), true);
      return;
    case "removeEventListener":
      var ok = !!listeners[param];
      delete listeners[param];
      cb(ok);
      return;
    }
    cb(null, false);
  };
  function consents(ids) { var m = {}; for (var i = 1; i <= 11; i++) m[i] = ids.indexOf(i) >= 0; return m; }
  window.cmp = {
    show: function () { shown = true; state.eventStatus = "cmpuishown"; notify(); },
    answer: function (tc, ids) { shown = false; state.eventStatus = "useractioncomplete"; state.tcString = tc;
      state.purpose.consents = consents(ids); notify(); },
    loaded: function (tc, ids) { state.eventStatus = "tcloaded"; state.tcString = tc; state.purpose.consents = consents(ids); notify(); }
  };
})();
</script>
`

// tagPage is one scenario's page: head (before the snippet), the snippet
// and body scripts.
const tagPage = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>bg.js e2e</title>
%s
%s
</head><body><pre id="out"></pre>
%s
</body></html>
`

// tagScenario is one page and what its records must show.
type tagScenario struct {
	name    string
	timeout int    // data-consent-timeout, ms
	head    string // before the snippet (a stub CMP, a GPC flag)
	body    string // page script after the snippet
	query   string // landing URL query
	attrs   string // more attributes of the snippet's script element
	gpc     bool   // the browser sends Sec-GPC: 1 and navigator.globalPrivacyControl is true
	dnt     bool   // the browser sends DNT: 1 and navigator.doNotTrack is "1"
	demo    bool   // examples/demo.html with the README's snippet, on another site (localhost)
	prefix  bool   // the gateway behind a reverse proxy under /collect/, the snippet from beacongate tag -url PROXY/collect
	// csp serves the page with a Content-Security-Policy of its own
	// (default-src 'self', its inline scripts by nonce tagNonce) and the
	// sources `beacongate tag` prints for the snippet: "origins", or
	// "strict-dynamic", which ignores origins in script-src, with the
	// integrity value `beacongate tag -sri` prints added as the README says.
	csp string
	// drive acts on the loaded page; it may return values for check.
	drive func(ctx context.Context, s *tagRun) error
	// want returns true once the scenario's records are all there.
	want func(recs []tagRecord) bool
	// check asserts the records and the page's state.
	check func(s *tagRun, recs []tagRecord)
}

// tagRecord is an output record with the fields the tag scenarios read.
type tagRecord struct {
	e2eRecord
	EID string `json:"eid"`
	// Click holds click ids and ad cookies: the destination's ads policy
	// keeps them (click_ids: keep); they are never in props.
	Click map[string]string `json:"click"`
}

// tagRun is one scenario's run: its failures are collected, then reported
// by the scenario's subtest.
type tagRun struct {
	sc   *tagScenario
	site string
	mu   sync.Mutex
	errs []string
	logs []string
	vals map[string]string // values the drive step read from the page
	recs []tagRecord
	// vendorless holds the records of the destination without a TCF
	// vendor declaration (neither tcf.vendor_id nor tcf.without_vendor),
	// which the gateway gives no event where GDPR applies.
	vendorless []tagRecord
	pageJS     []string // console errors and exceptions
}

func (s *tagRun) errorf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
}

func (s *tagRun) logf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logs = append(s.logs, fmt.Sprintf(format, args...))
}

func tagEvents(recs []tagRecord, name string) []tagRecord {
	var out []tagRecord
	for _, r := range recs {
		if r.Event == name {
			out = append(out, r)
		}
	}
	return out
}

func tagHasEvents(recs []tagRecord, names ...string) bool {
	for _, n := range names {
		if len(tagEvents(recs, n)) == 0 {
			return false
		}
	}
	return true
}

// tagEval evaluates js in the page and returns its string result.
func tagEval(ctx context.Context, js string) (string, error) {
	v, err := chromedp.Run(ctx, chromedp.Evaluate[any](js))
	if err != nil {
		return "", err
	}
	if v == nil {
		return "", nil
	}
	return fmt.Sprint(v), nil
}

// tagAdIDsHead is the head of a page whose visitor has an ad cookie (the
// landing URL gets tagAdQuery's click id): it logs every beacon's body in
// window.sent, so a scenario can tell what the tag read and sent.
const tagAdIDsHead = `<script>
document.cookie = "_fbp=fb.1.1700000000000.31337; path=/";
window.sent = [];
var realBeacon = navigator.sendBeacon.bind(navigator);
navigator.sendBeacon = function (u, body) { sent.push(String(body)); return realBeacon(u, body); };
</script>`

// tagAdQuery is the landing URL query of tagAdIDsHead's pages.
const tagAdQuery = "?gclid=Cj0leak42&utm_source=news"

// tagNoAdIDs returns the check of a page on which the gateway does not grant
// ads (every record is state, decided by signal): the tag must neither read
// nor send the ad cookie or the landing click id, not even in the URL.
func tagNoAdIDs(state, signal string) func(s *tagRun, recs []tagRecord) {
	return func(s *tagRun, recs []tagRecord) {
		for _, r := range recs {
			if r.Consent.State != state || r.Consent.Signal != signal {
				s.errorf("%s: consent %+v; want %s decided by %s", r.Event, r.Consent, state, signal)
			}
			for _, k := range []string{"_fbp", "gclid"} {
				if v, ok := r.Props[k]; ok {
					s.errorf("%s: record has %s=%v although the gateway did not grant ads", r.Event, k, v)
				}
			}
			if len(r.Click) > 0 {
				s.errorf("%s: record has click %v although the gateway did not grant ads", r.Event, r.Click)
			}
		}
		if s.vals["sent"] == "" {
			s.errorf("no beacon body was logged")
		}
		for _, id := range []string{"_fbp", "31337", "gclid", "Cj0leak42"} {
			if strings.Contains(s.vals["sent"], id) {
				s.errorf("the tag sent %q although the gateway does not grant ads; beacons:\n%s", id, s.vals["sent"])
			}
		}
	}
}

// tagStubGPPReady is a GPP 1.1 CMP whose signal is ready at once: a US
// Privacy section (uspv1, id 6) saying the visitor opted out of sale.
const tagStubGPPReady = `<script>
(function () {
  var ping = {gppVersion: "1.1", cmpStatus: "loaded", cmpDisplayStatus: "hidden", signalStatus: "ready",
    supportedAPIs: ["6:uspv1"], cmpId: 18, sectionList: [6], applicableSections: [6], gppString: "DBABTA~1YYN", parsedSections: {}};
  window.__gpp = function (cmd, cb) {
    if (cmd === "ping") { cb(ping, true); return; }
    if (cmd === "addEventListener") { cb({eventName: "listenerRegistered", listenerId: 1, data: true, pingData: ping}, true); }
  };
})();
</script>`

// tagStubTCFNoString is a TCF CMP that says GDPR applies but has no TC
// string (tcloaded with tcString ""): the gateway reads that as malformed.
const tagStubTCFNoString = `<script>
window.__tcfapi = function (cmd, version, cb) {
  if (cmd === "addEventListener") {
    cb({cmpStatus: "loaded", eventStatus: "tcloaded", gdprApplies: true, tcString: "", listenerId: 1,
      purpose: {consents: {1: true, 3: true, 4: true, 7: true}, legitimateInterests: {}}}, true);
    return;
  }
  cb(null, false);
};
</script>`

// tagStubTCFGDPRUnknown is a TCF CMP that has a TC string granting every
// purpose (tcloaded) but does not know whether GDPR applies: its TCData
// leaves gdprApplies undefined, which the TCF allows. The page logs every
// beacon's body in window.sent.
const tagStubTCFGDPRUnknown = `<script>
window.__tcfapi = function (cmd, version, cb) {
  if (cmd === "addEventListener") {
    cb({cmpStatus: "loaded", eventStatus: "tcloaded", tcString: "` + tagTCAll + `", listenerId: 1,
      purpose: {consents: {1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 7: true, 8: true, 9: true, 10: true, 11: true}, legitimateInterests: {}}}, true);
    return;
  }
  cb(null, false);
};
window.sent = [];
var realBeacon = navigator.sendBeacon.bind(navigator);
navigator.sendBeacon = function (u, body) { sent.push(String(body)); return realBeacon(u, body); };
</script>`

// tagScenarios are the scenarios: no banner, banner refuses, banner
// accepts later, GPC on, SPA navigation, a page unloaded right after an
// event; pages on which the gateway grants no ads although a source the tag
// reads does (the tag must not read ad ids there); the cross-origin demo
// page is TestE2ETagDemo's.
func tagScenarios() []*tagScenario {
	return []*tagScenario{
		{
			name: "no-banner", timeout: 300,
			// Count the tag's beacons and the events in each.
			head: `<script>
window.beacons = [];
var sendBeacon = navigator.sendBeacon.bind(navigator);
navigator.sendBeacon = function (u, body) { beacons.push(JSON.parse(body).length); return sendBeacon(u, body); };
</script>`,
			// Bad input from the page: nothing may throw, a non-plain
			// property is dropped, the event still goes out.
			body: `<script>
bg(); bg(42); bg("nope", 1); bg("track"); bg("track", 42); bg("track", ""); bg("consent", null); bg("gcm", 5);
bg("track", "signup", {plan: "pro", n: 3, ok: true, nested: {x: 1}, list: [1], f: function () {}, nan: NaN, u: undefined});
</script>`,
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "signup") },
			check: func(s *tagRun, recs []tagRecord) {
				for _, r := range recs {
					if r.Consent.State != "none" || r.Consent.Signal != "none" {
						s.errorf("%s: consent %+v; want none by the strict default (no signal)", r.Event, r.Consent)
					}
					if r.Client != "" || r.EID != "" {
						s.errorf("%s: client %q eid %q; want neither without consent", r.Event, r.Client, r.EID)
					}
				}
				if s.vals["storage"] != "0|" {
					s.errorf("storage and cookies after the page: %q; want none (0 localStorage keys, no cookie)", s.vals["storage"])
				}
				if s.vals["beacons"] != "2" {
					s.errorf("beacons sent, events in each: %q; want one beacon with both events (batched)", s.vals["beacons"])
				}
			},
		},
		{
			name: "banner-refuses", timeout: 3000,
			head: tagStubCMP,
			body: `<script>
cmp.show();
setTimeout(function () { cmp.answer(` + "`" + tagTCRefuseAll(tagTCAll) + "`" + `, []); bg("track", "after_refusal"); }, 150);
</script>`,
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "after_refusal") },
			check: func(s *tagRun, recs []tagRecord) {
				for _, r := range recs {
					// The page view waited for the banner: it carries the refusal.
					if r.Consent.State != "none" || r.Consent.Signal != "tcf" {
						s.errorf("%s: consent %+v; want none decided by tcf", r.Event, r.Consent)
					}
					if r.Client != "" {
						s.errorf("%s: client id without device_storage consent", r.Event)
					}
				}
				if s.vals["storage"] != "0|" {
					s.errorf("storage and cookies: %q; want none", s.vals["storage"])
				}
			},
		},
		{
			name: "banner-accepts-later", timeout: 300, query: "?gclid=Cj0test42&utm_source=news",
			head: tagStubCMP + `<script>document.cookie = "_fbp=fb.1.1700000000000.424242; path=/";</script>`,
			body: `<script>cmp.show();</script>`,
			drive: func(ctx context.Context, s *tagRun) error {
				// The page view has gone out without consent after the
				// timeout; the visitor accepts later.
				if err := tagWaitRecords(ctx, s, func(r []tagRecord) bool { return tagHasEvents(r, "pageview") }); err != nil {
					return err
				}
				if _, err := tagEval(ctx, "cmp.answer(`"+tagTCAll+"`, [1,2,3,4,5,6,7,8,9,10,11])"); err != nil {
					return err
				}
				eid, err := tagEval(ctx, `bg("track", "purchase", {value: 9.5, currency: "EUR", coupon: {code: "X"}})`)
				s.vals["eid"] = eid
				return err
			},
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "purchase") },
			check: func(s *tagRun, recs []tagRecord) {
				pv := tagEvents(recs, "pageview")[0]
				if pv.Consent.State != "none" || pv.Consent.Signal != "none" {
					s.errorf("pageview: consent %+v; want none (sent after the timeout, before the answer)", pv.Consent)
				}
				p := tagEvents(recs, "purchase")[0]
				if p.Consent.State != "ads" || p.Consent.Signal != "tcf" {
					s.errorf("purchase: consent %+v; want ads from tcf (the answer applies to later events)", p.Consent)
				}
				if len(s.vals["eid"]) != 22 || p.EID != s.vals["eid"] {
					s.errorf("purchase: record eid %q, page got %q; want the same 22-character id", p.EID, s.vals["eid"])
				}
				if p.Client == "" {
					s.errorf("purchase: no client pseudonym although device_storage was granted")
				}
				if p.Props["value"] != 9.5 || p.Props["currency"] != "EUR" || p.Props["coupon"] != nil {
					s.errorf("purchase props %v; want value and currency, coupon (an object) dropped", p.Props)
				}
				if p.Click["fbp"] != "fb.1.1700000000000.424242" || p.Click["gclid"] != "Cj0test42" {
					s.errorf("purchase click %v; want _fbp and the landing gclid with ads consent", p.Click)
				}
				if !strings.HasPrefix(s.vals["storage"], "1|") {
					s.errorf("storage: %q; want the one first-party id in localStorage", s.vals["storage"])
				}
			},
		},
		{
			name: "gpc", timeout: 3000, gpc: true,
			head: `<script>document.cookie = "_fbp=fb.1.1700000000000.777; path=/";</script>`,
			body: `<script>bg("consent", ["analytics", "ads", "device_storage"]); bg("track", "add_to_cart", {value: 3});</script>`,
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "add_to_cart") },
			check: func(s *tagRun, recs []tagRecord) {
				if s.vals["gpc"] != "true" {
					s.errorf("navigator.globalPrivacyControl = %q in the page", s.vals["gpc"])
				}
				for _, r := range recs {
					if r.Consent.State != "analytics" {
						s.errorf("%s: consent %+v; want analytics (GPC removes ads)", r.Event, r.Consent)
					}
					if _, ok := r.Props["_fbp"]; ok {
						s.errorf("%s: _fbp was read and sent under GPC", r.Event)
					}
					if r.Client == "" {
						s.errorf("%s: no client pseudonym although device_storage was granted", r.Event)
					}
				}
			},
		},
		{
			name: "spa", timeout: 3000,
			head: `<script>window.seen = []; addEventListener("bg:event", function (e) { seen.push(e.detail.event + ":" + e.detail.eid); });</script>`,
			body: `<script>bg("consent", ["analytics"]);</script>`,
			drive: func(ctx context.Context, s *tagRun) error {
				if err := tagWaitRecords(ctx, s, func(r []tagRecord) bool { return len(tagEvents(r, "pageview")) >= 1 }); err != nil {
					return err
				}
				if _, err := tagEval(ctx, `history.pushState({}, "", "/page/spa/two?tab=1"); "ok"`); err != nil {
					return err
				}
				if err := tagWaitRecords(ctx, s, func(r []tagRecord) bool { return len(tagEvents(r, "pageview")) >= 2 }); err != nil {
					return err
				}
				_, err := tagEval(ctx, `history.back(); "ok"`)
				return err
			},
			want: func(r []tagRecord) bool { return len(tagEvents(r, "pageview")) >= 3 },
			check: func(s *tagRun, recs []tagRecord) {
				pv := tagEvents(recs, "pageview")
				var paths []string
				for _, r := range pv {
					if r.Consent.State != "analytics" {
						s.errorf("pageview %s: consent %+v; want analytics", r.URL, r.Consent)
					}
					_, path, _ := strings.Cut(strings.TrimPrefix(r.URL, "http://"), "/")
					paths = append(paths, "/"+path)
				}
				if want := "/page/spa /page/spa/two?tab=1 /page/spa"; strings.Join(paths, " ") != want {
					s.errorf("page views %q; want %q", strings.Join(paths, " "), want)
				}
				for _, r := range pv {
					if r.EID == "" || !strings.Contains(" "+s.vals["seen"]+" ", " pageview:"+r.EID+" ") {
						s.errorf("pageview %s: eid %q was not announced to the page (bg:event saw %q)", r.URL, r.EID, s.vals["seen"])
					}
				}
				if len(pv) == 3 && (pv[1].Referrer != pv[0].URL || pv[2].Referrer != pv[1].URL) {
					s.errorf("SPA referrers %q, %q; want the previous URLs %q, %q", pv[1].Referrer, pv[2].Referrer, pv[0].URL, pv[1].URL)
				}
			},
		},
		{
			name: "pageview-off", timeout: 3000, attrs: `data-pageview="off"`,
			// A single-page app that sends its own page views: none is
			// counted by the tag itself, on load or on a route change, and
			// each one's referrer is the previous route.
			body: `<script>bg("consent", ["analytics"]); bg("page", {plan: "one"});</script>`,
			drive: func(ctx context.Context, s *tagRun) error {
				if err := tagWaitRecords(ctx, s, func(r []tagRecord) bool { return len(tagEvents(r, "pageview")) >= 1 }); err != nil {
					return err
				}
				_, err := tagEval(ctx, `history.pushState({}, "", "/page/pageview-off/two"); bg("page", {plan: "two"}); "ok"`)
				return err
			},
			want: func(r []tagRecord) bool { return len(tagEvents(r, "pageview")) >= 2 },
			check: func(s *tagRun, recs []tagRecord) {
				pv := tagEvents(recs, "pageview")
				if len(pv) != 2 {
					s.errorf("%d page views; want 2, the page's own", len(pv))
					return
				}
				if !strings.HasSuffix(pv[1].URL, "/page/pageview-off/two") || pv[1].Referrer != pv[0].URL {
					s.errorf("second page view %s from %q; want /page/pageview-off/two from %s", pv[1].URL, pv[1].Referrer, pv[0].URL)
				}
			},
		},
		{
			name: "unload", timeout: 10000,
			// Consent never answers within the page's life: the page view
			// and the event are still waiting when the page goes away, in
			// the same task as the event, and pagehide sends them.
			drive: func(ctx context.Context, s *tagRun) error {
				_, err := tagEval(ctx, `bg("track", "leaving", {step: 1}); location.href = "/page/blank"; "ok"`)
				return err
			},
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "leaving") },
			check: func(s *tagRun, recs []tagRecord) {
				if n := len(recs); n != 2 {
					s.errorf("%d records; want exactly pageview and leaving", n)
				}
			},
		},
		{
			name: "unload-late", timeout: 10000,
			// The page's own pagehide and visibilitychange handlers,
			// added after the tag's, track an event (time on page): the
			// tag has already sent what waited, and the page is going away,
			// so the event must leave at once, not after a timer that never
			// runs in an unloaded page.
			drive: func(ctx context.Context, s *tagRun) error {
				_, err := tagEval(ctx, `addEventListener("pagehide", function () { bg("track", "bye", {step: 1}); });
document.addEventListener("visibilitychange", function () { bg("track", "hidden", {step: 2}); });
location.href = "/page/blank"; "ok"`)
				return err
			},
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "bye", "hidden") },
			check: func(s *tagRun, recs []tagRecord) {
				if n := len(recs); n != 3 {
					s.errorf("%d records; want exactly pageview, bye and hidden", n)
				}
			},
		},
		{
			name: "consent-mode", timeout: 3000, query: tagAdQuery,
			// gtag's consent commands in the dataLayer: the default is not an
			// answer, the update is; a later update applies to later events.
			head: tagAdIDsHead + `<script>
window.dataLayer = window.dataLayer || [];
function gtag() { dataLayer.push(arguments); }
gtag("consent", "default", {ad_storage: "denied", analytics_storage: "denied", ad_user_data: "denied", ad_personalization: "denied"});
setTimeout(function () { gtag("consent", "update", {analytics_storage: "granted"}); }, 100);
</script>`,
			drive: func(ctx context.Context, s *tagRun) error {
				if err := tagWaitRecords(ctx, s, func(r []tagRecord) bool { return tagHasEvents(r, "pageview") }); err != nil {
					return err
				}
				_, err := tagEval(ctx, `gtag("consent", "update", {ad_storage: "granted", ad_user_data: "granted", ad_personalization: "granted"}); bg("track", "lead")`)
				return err
			},
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "lead") },
			check: func(s *tagRun, recs []tagRecord) {
				pv, lead := tagEvents(recs, "pageview")[0], tagEvents(recs, "lead")[0]
				if pv.Consent.State != "analytics" || pv.Consent.Signal != "consent_mode" {
					s.errorf("pageview: consent %+v; want analytics from consent_mode (waited for the update)", pv.Consent)
				}
				if lead.Consent.State != "ads" || lead.Consent.Signal != "consent_mode" || lead.Client == "" {
					s.errorf("lead: consent %+v client %q; want ads from consent_mode and a client id (both storages granted)", lead.Consent, lead.Client)
				}
				if _, ok := pv.Props["_fbp"]; ok || strings.Contains(pv.URL, "gclid") {
					s.errorf("pageview: props %v url %q; want no ad ids under analytics", pv.Props, pv.URL)
				}
				if lead.Click["fbp"] != "fb.1.1700000000000.31337" || lead.Click["gclid"] != "Cj0leak42" {
					s.errorf("lead click %v; want _fbp and the landing gclid (all three ad types granted)", lead.Click)
				}
			},
		},
		// The gateway does not grant ads on the pages below; the tag must
		// not read or send ad ids there.
		{
			name: "gcm-ad-user-data-unset", timeout: 3000, head: tagAdIDsHead, query: tagAdQuery,
			// Consent Mode with ad_user_data never set: the gateway reads
			// it as denied and grants no ads.
			body:  `<script>bg("gcm", {ad_storage: "granted", analytics_storage: "granted"}); bg("track", "lead");</script>`,
			want:  func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "lead") },
			check: tagNoAdIDs("analytics", "consent_mode"),
		},
		{
			name: "gcm-ad-personalization-unset", timeout: 3000, head: tagAdIDsHead, query: tagAdQuery,
			// The tag sends an unset type in gcd, which the gateway reads as
			// denied: ad_personalization unset is no ads either.
			body:  `<script>bg("gcm", {ad_storage: "granted", analytics_storage: "granted", ad_user_data: "granted"}); bg("track", "lead");</script>`,
			want:  func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "lead") },
			check: tagNoAdIDs("analytics", "consent_mode"),
		},
		{
			name: "dnt", timeout: 3000, dnt: true, head: tagAdIDsHead, query: tagAdQuery,
			// DNT: 1 removes ads whatever the banner says.
			body: `<script>bg("consent", ["analytics", "ads"]); bg("track", "lead");</script>`,
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "lead") },
			check: func(s *tagRun, recs []tagRecord) {
				if s.vals["dnt"] != "1" {
					s.errorf("navigator.doNotTrack = %q in the page", s.vals["dnt"])
				}
				tagNoAdIDs("analytics", "dnt")(s, recs)
			},
		},
		{
			name: "gpp-opt-out", timeout: 3000, head: tagStubGPPReady + tagAdIDsHead, query: tagAdQuery,
			// A GPP string with another source's grant: the gateway decodes
			// the opt-out of sale and removes ads; the tag cannot decode GPP.
			body:  `<script>bg("consent", ["analytics", "ads"]); bg("track", "lead");</script>`,
			want:  func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "lead") },
			check: tagNoAdIDs("analytics", "gpp"),
		},
		{
			name: "tcf-gdpr-no-string", timeout: 3000, head: tagStubTCFNoString + tagAdIDsHead, query: tagAdQuery,
			// gdpr applies without a TC string: malformed, a refusal.
			body:  `<script>bg("consent", ["analytics", "ads"]); bg("track", "lead");</script>`,
			want:  func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "lead") },
			check: tagNoAdIDs("none", "tcf"),
		},
		{
			name: "tcf-gdpr-unknown", timeout: 3000, head: tagStubTCFGDPRUnknown,
			// A CMP that does not know whether GDPR applies (TCData
			// gdprApplies undefined, as the TCF allows) with a TC string:
			// the gateway must take GDPR to apply, as it does for a TC
			// string without gdpr=0, and so give the event to no
			// destination the string does not allow. A gdpr=0 the CMP never
			// said would switch off its vendor checks.
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview") },
			check: func(s *tagRun, recs []tagRecord) {
				if pv := tagEvents(recs, "pageview")[0]; pv.Consent.State != "ads" || pv.Consent.Signal != "tcf" {
					s.errorf("pageview: consent %+v; want ads from tcf", pv.Consent)
				}
				for _, r := range s.vendorless {
					s.errorf("%s reached the destination without a TCF vendor declaration, as if GDPR did not apply: %s", r.Event, r.raw)
				}
				if strings.Contains(s.vals["sent"], `"gdpr":0`) {
					s.errorf("the tag sent gdpr=0 although the CMP did not say GDPR does not apply:\n%s", s.vals["sent"])
				}
			},
		},
		{
			name: "tcf-gdpr-no-string-storage", timeout: 3000, head: tagStubTCFNoString,
			// gdpr applies without a TC string: the gateway refuses every
			// purpose, device_storage too, so the site's own grant of it
			// must not make the tag store an id on the device.
			body: `<script>bg("consent", ["analytics", "device_storage"]);</script>`,
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview") },
			check: func(s *tagRun, recs []tagRecord) {
				for _, r := range recs {
					if r.Consent.State != "none" || r.Client != "" {
						s.errorf("%s: consent %+v client %q; want none (gdpr applies, no TC string) and no client id", r.Event, r.Consent, r.Client)
					}
				}
				if s.vals["storage"] != "0|" {
					s.errorf("storage and cookies: %q; want none", s.vals["storage"])
				}
			},
		},
		{
			name: "explicit-unknown-purpose", timeout: 3000, head: tagAdIDsHead, query: tagAdQuery,
			// A purpose name the gateway does not know makes the list
			// malformed, a refusal.
			body:  `<script>bg("consent", ["analytics", "ads", "marketing"]); bg("track", "lead");</script>`,
			want:  func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "lead") },
			check: tagNoAdIDs("none", "explicit"),
		},
		{
			name: "gpp", timeout: 3000,
			// A stub GPP 1.1 CMP (__gpp addEventListener: listenerRegistered,
			// then signalStatus ready) whose string carries a tcfeuv2
			// section consenting to everything.
			head: `<script>
(function () {
  var ping = {gppVersion: "1.1", cmpStatus: "loaded", cmpDisplayStatus: "visible", signalStatus: "not ready",
    supportedAPIs: ["2:tcfeuv2"], cmpId: 18, sectionList: [], applicableSections: [-1], gppString: "", parsedSections: {}};
  var listeners = [];
  window.__gpp = function (cmd, cb) {
    if (cmd === "ping") { cb(ping, true); return; }
    if (cmd === "addEventListener") {
      var id = listeners.push(cb);
      cb({eventName: "listenerRegistered", listenerId: id, data: true, pingData: ping}, true);
    }
  };
  setTimeout(function () {
    ping = Object.assign({}, ping, {signalStatus: "ready", cmpDisplayStatus: "hidden", sectionList: [2], applicableSections: [2],
      gppString: "DBABM~` + tagTCAll + `"});
    listeners.forEach(function (cb, i) { cb({eventName: "signalStatus", listenerId: i + 1, data: "ready", pingData: ping}, true); });
  }, 150);
})();
</script>`,
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview") },
			check: func(s *tagRun, recs []tagRecord) {
				pv := tagEvents(recs, "pageview")[0]
				if pv.Consent.State != "ads" || pv.Consent.Signal != "gpp" {
					s.errorf("pageview: consent %+v; want ads from gpp (waited for signalStatus ready)", pv.Consent)
				}
				if pv.Client != "" || s.vals["storage"] != "0|" {
					s.errorf("client %q, storage %q: the tag does not decode GPP, so it stores nothing", pv.Client, s.vals["storage"])
				}
			},
		},
		{
			name: "withdraw", timeout: 3000,
			// Consent to storage, then withdrawn: the one first-party id is
			// sent while granted and removed with the withdrawal.
			body: `<script>bg("consent", ["analytics", "device_storage"]); bg("track", "first");</script>`,
			drive: func(ctx context.Context, s *tagRun) error {
				if err := tagWaitRecords(ctx, s, func(r []tagRecord) bool { return tagHasEvents(r, "first") }); err != nil {
					return err
				}
				id, err := tagEval(ctx, `localStorage.getItem("bg_cid")`)
				s.vals["id_granted"] = id
				if err != nil {
					return err
				}
				// Withdrawn with no event after it (the visitor refuses,
				// then reads on or leaves): the id goes at once.
				s.vals["id_withdrawn"], err = tagEval(ctx, `bg("consent", []); String(localStorage.getItem("bg_cid"))`)
				if err != nil {
					return err
				}
				_, err = tagEval(ctx, `bg("track", "second"); "ok"`)
				return err
			},
			want: func(r []tagRecord) bool { return tagHasEvents(r, "first", "second") },
			check: func(s *tagRun, recs []tagRecord) {
				first, second := tagEvents(recs, "first")[0], tagEvents(recs, "second")[0]
				if len(s.vals["id_granted"]) != 22 || first.Client == "" || first.Consent.State != "analytics" {
					s.errorf("first: stored id %q, client %q, consent %+v; want a 22-character id and its pseudonym under analytics", s.vals["id_granted"], first.Client, first.Consent)
				}
				if second.Client != "" || second.Consent.State != "none" || second.Consent.Signal != "explicit" {
					s.errorf("second: client %q consent %+v; want no id, none by explicit refusal", second.Client, second.Consent)
				}
				if s.vals["id_withdrawn"] != "null" {
					s.errorf("stored id right after the withdrawal: %q; want none (removed when consent is withdrawn, not at the next event)", s.vals["id_withdrawn"])
				}
				if s.vals["storage"] != "0|" {
					s.errorf("storage after withdrawal: %q; want empty", s.vals["storage"])
				}
			},
		},
		{
			name: "returning-late-consent", timeout: 300,
			// A returning visitor who granted storage before: the site's
			// consent manager answers after the tag's wait (a slow banner
			// script). The page view goes out unconsented, without the id,
			// but no source has refused storage, so the stored id must stay:
			// the events after the answer carry the same id, not a new one.
			head: `<script>localStorage.setItem("bg_cid", "returningVisitor000001");</script>`,
			drive: func(ctx context.Context, s *tagRun) error {
				if err := tagWaitRecords(ctx, s, func(r []tagRecord) bool { return tagHasEvents(r, "pageview") }); err != nil {
					return err
				}
				_, err := tagEval(ctx, `bg("consent", ["analytics", "device_storage"]); bg("track", "after_answer"); "ok"`)
				return err
			},
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "after_answer") },
			check: func(s *tagRun, recs []tagRecord) {
				pv, after := tagEvents(recs, "pageview")[0], tagEvents(recs, "after_answer")[0]
				if pv.Client != "" || after.Client == "" {
					s.errorf("client: pageview %q, after_answer %q; want none, then the id", pv.Client, after.Client)
				}
				if s.vals["storage"] != "1|" {
					s.errorf("storage %q; want the one id", s.vals["storage"])
				}
				if s.vals["id"] != "returningVisitor000001" {
					s.errorf("stored id %q; want the returning visitor's returningVisitor000001 (removed and replaced by a new one: every page view with a slow banner makes a new visitor)", s.vals["id"])
				}
			},
		},
		{
			name: "beacon-refused", timeout: 300,
			// sendBeacon refuses (its quota is used up): the tag falls back
			// to fetch with keepalive, still text/plain, still no preflight.
			head: `<script>navigator.sendBeacon = function () { return false; };
window.fetches = [];
var realFetch = window.fetch;
window.fetch = function (u, o) { fetches.push(o.method + " " + o.mode + " " + o.keepalive); return realFetch.apply(this, arguments); };
</script>`,
			body: `<script>bg("track", "via_fetch");</script>`,
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "via_fetch") },
			check: func(s *tagRun, recs []tagRecord) {
				if s.vals["fetches"] != "POST no-cors true" {
					s.errorf("fetch calls %q; want one POST no-cors keepalive", s.vals["fetches"])
				}
			},
		},
		{
			name: "cmp-api-throws", timeout: 300,
			// A CMP stub whose API throws (not ready yet, a broken build):
			// the tag must still start, send the page view after the
			// timeout and follow single-page navigation.
			head: `<script>
window.__tcfapi = function () { throw new Error("tcf: not ready"); };
window.__gpp = function () { throw new Error("gpp: not ready"); };
</script>`,
			body: `<script>bg("track", "despite_cmp");</script>`,
			drive: func(ctx context.Context, s *tagRun) error {
				_, err := tagEval(ctx, `history.pushState({}, "", "?step=2")`)
				return err
			},
			want: func(r []tagRecord) bool { return len(tagEvents(r, "pageview")) == 2 && tagHasEvents(r, "despite_cmp") },
			check: func(s *tagRun, recs []tagRecord) {
				pv := tagEvents(recs, "pageview")
				if len(pv) != 2 || !strings.HasSuffix(pv[1].URL, "/page/cmp-api-throws") {
					s.errorf("page views %d; want the load's and the pushState's", len(pv))
				}
			},
		},
		{
			name: "props-limits", timeout: 300, query: tagAdQuery,
			// The gateway refuses a whole request when one property breaks
			// its limits (64 per event, names of 1-64 bytes, values of at
			// most 1024 bytes): the tag keeps every event within them,
			// counting bytes, not UTF-16 units, and adding ad ids only
			// where they fit.
			head: tagAdIDsHead,
			body: `<script>
bg("consent", ["analytics", "ads", "device_storage"]);
var p = {}; for (var i = 0; i < 64; i++) p["k" + i] = "v";
bg("track", "many_props", p);
bg("track", "wide_props", {plan: new Array(1001).join("\u20ac"), n: 1});
</script>`,
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "many_props", "wide_props") },
			check: func(s *tagRun, recs []tagRecord) {
				w := tagEvents(recs, "wide_props")
				if len(w) != 1 || w[0].Props["n"] != 1.0 || w[0].Props["plan"] != nil || w[0].Click["fbp"] == "" {
					s.errorf("wide_props: %+v; want n, no plan (3000 bytes), the ad cookie under click", w)
				}
			},
		},
		{
			name: "malformed-strings", timeout: 300,
			// The gateway refuses a whole request for an event name with a
			// control character (a newline from a page's text) or for any
			// string with an unpaired UTF-16 surrogate (a title cut in the
			// middle of an emoji; JSON.stringify writes it as "\ud83d"):
			// the tag leaves such a name or property out, and the events
			// fired with it still arrive.
			head: `<script>
window.sent = [];
var realBeacon = navigator.sendBeacon.bind(navigator);
navigator.sendBeacon = function (u, body) { sent.push(String(body)); return realBeacon(u, body); };
</script>`,
			body: `<script>
bg("consent", ["analytics"]);
bg("track", "added\nto cart");
bg("track", "cut\ud83d");
bg("track", "titled", {title: "Sale \ud83d", ok: true});
bg("track", "keyed", {["k\udc00"]: "v", n: 2});
bg("track", "fine", {plan: "\ud83d\ude00"});
</script>`,
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "titled", "keyed", "fine") },
			check: func(s *tagRun, recs []tagRecord) {
				if n := len(recs); n != 4 {
					s.errorf("%d records; want pageview, titled, keyed and fine (the malformed names left out)", n)
				}
				if ti := tagEvents(recs, "titled"); len(ti) != 1 || ti[0].Props["ok"] != true {
					s.errorf("titled: %+v; want ok", ti)
				}
				if sent := strings.ToLower(s.vals["sent"]); sent == "" || strings.Contains(sent, `\ud8`) || strings.Contains(sent, `\udc`) || strings.Contains(sent, "cart") {
					s.errorf("beacons sent: %q; want neither a surrogate escape nor the name with a newline", s.vals["sent"])
				}
				if k := tagEvents(recs, "keyed"); len(k) != 1 || k[0].Props["n"] != 2.0 || len(k[0].Props) != 1 {
					s.errorf("keyed: %+v; want n alone", k)
				}
				if f := tagEvents(recs, "fine"); len(f) != 1 || f[0].Props["plan"] != "\U0001F600" {
					s.errorf("fine: %+v; want the paired surrogates kept", f)
				}
			},
		},
		{
			name: "big-batch", timeout: 300,
			// Events fired together whose JSON is over 64 KiB: one body that
			// large is refused by sendBeacon, by a keepalive fetch and by
			// the gateway (server.max_body_bytes): the tag splits by size.
			body: `<script>
var big = new Array(1001).join("x");
for (var i = 0; i < 30; i++) bg("track", "bulk", {plan: big, coupon: big, currency: big});
</script>`,
			want: func(r []tagRecord) bool { return len(tagEvents(r, "bulk")) == 30 && tagHasEvents(r, "pageview") },
			check: func(s *tagRun, recs []tagRecord) {
				if n := len(tagEvents(recs, "bulk")); n != 30 {
					s.errorf("%d bulk events; want 30", n)
				}
			},
		},
		{
			name: "huge-event", timeout: 300,
			// One event whose properties are each within the gateway's
			// limits but whose JSON is over 64 KiB (quotes are escaped, so
			// 1024 bytes of them take 2048): sendBeacon and a keepalive
			// fetch refuse such a body and the gateway answers 413, so the
			// whole event was lost. The tag leaves out the properties
			// beyond 30,000 bytes of JSON, and the event arrives.
			body: `<script>
bg("consent", ["analytics"]);
var p = {plan: "pro", n: 7}, q = new Array(1025).join('"');
for (var i = 0; i < 40; i++) p["k" + i] = q;
bg("track", "huge", p);
</script>`,
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "huge") },
			check: func(s *tagRun, recs []tagRecord) {
				if h := tagEvents(recs, "huge"); len(h) != 1 || h[0].Props["plan"] != "pro" || h[0].Props["n"] != 7.0 {
					s.errorf("huge: %+v; want one record with plan and n (the large properties left out)", h)
				}
			},
		},
		{
			name: "gcm-region-default", timeout: 300, query: tagAdQuery,
			// Consent Mode denied by default, granted by default only in
			// another region (gtag places the visitor, the tag cannot): the
			// visitor here is denied, so the tag must not grant ads itself.
			head: tagAdIDsHead + `<script>
window.dataLayer = window.dataLayer || [];
function gtag() { dataLayer.push(arguments); }
gtag("consent", "default", {ad_storage: "denied", ad_user_data: "denied", ad_personalization: "denied", analytics_storage: "denied"});
gtag("consent", "default", {ad_storage: "granted", ad_user_data: "granted", ad_personalization: "granted", analytics_storage: "granted", region: ["US-CA"]});
</script>`,
			want:  func(r []tagRecord) bool { return tagHasEvents(r, "pageview") },
			check: tagNoAdIDs("none", "consent_mode"),
		},
		{
			name: "gcm-default-after-update", timeout: 300, query: tagAdQuery,
			// A CMP that restores a returning visitor's refusal as soon as
			// it loads, before the page's own gtag default (granted): gtag
			// keeps the update over any default, so the visitor is denied
			// and the tag must not grant ads itself.
			head: tagAdIDsHead + `<script>
window.dataLayer = window.dataLayer || [];
function gtag() { dataLayer.push(arguments); }
gtag("consent", "update", {ad_storage: "denied", ad_user_data: "denied", ad_personalization: "denied", analytics_storage: "denied"});
gtag("consent", "default", {ad_storage: "granted", ad_user_data: "granted", ad_personalization: "granted", analytics_storage: "granted"});
</script>`,
			want:  func(r []tagRecord) bool { return tagHasEvents(r, "pageview") },
			check: tagNoAdIDs("none", "consent_mode"),
		},
		{
			name: "gcm-region-default-first", timeout: 300, query: tagAdQuery,
			// Google's layout in the other order: denied by default in the
			// visitor's regions, then granted by default everywhere else.
			// gtag keeps a region's default over the global one whatever
			// their order, so the tag cannot take the later grant.
			head: tagAdIDsHead + `<script>
window.dataLayer = window.dataLayer || [];
function gtag() { dataLayer.push(arguments); }
gtag("consent", "default", {ad_storage: "denied", ad_user_data: "denied", ad_personalization: "denied", analytics_storage: "denied", region: ["DE", "FR"]});
gtag("consent", "default", {ad_storage: "granted", ad_user_data: "granted", ad_personalization: "granted", analytics_storage: "granted"});
</script>`,
			want:  func(r []tagRecord) bool { return tagHasEvents(r, "pageview") },
			check: tagNoAdIDs("none", "consent_mode"),
		},
		{
			name: "ad-cookie-bad-encoding", timeout: 3000,
			// An ad cookie another script wrote with a stray "%": reading it
			// under ads consent must not lose the events.
			head: `<script>document.cookie = "_ga=GA1.1.50%off; path=/";</script>`,
			body: `<script>bg("consent", ["analytics", "ads"]); bg("track", "with_bad_cookie");</script>`,
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "with_bad_cookie") },
			check: func(s *tagRun, recs []tagRecord) {
				for _, r := range recs {
					if r.Consent.State != "ads" {
						s.errorf("%s: consent %+v; want ads", r.Event, r.Consent)
					}
				}
			},
		},
		{
			name: "late-cmp", timeout: 300, query: tagAdQuery,
			// Consent Mode granted by default; the TCF CMP loads only after
			// the wait, and refuses: the events after it must carry its
			// answer, and the tag must stop reading ad ids.
			head: tagAdIDsHead + tagStubCMP + `<script>
window.lateTCF = window.__tcfapi; delete window.__tcfapi;
window.dataLayer = window.dataLayer || [];
function gtag() { dataLayer.push(arguments); }
gtag("consent", "default", {ad_storage: "granted", ad_user_data: "granted", ad_personalization: "granted", analytics_storage: "granted"});
</script>`,
			drive: func(ctx context.Context, s *tagRun) error {
				// The page view has gone out after the wait, with Consent
				// Mode only; then the CMP loads.
				if err := tagWaitRecords(ctx, s, func(r []tagRecord) bool { return tagHasEvents(r, "pageview") }); err != nil {
					return err
				}
				_, err := tagEval(ctx, `window.__tcfapi = lateTCF; cmp.loaded(`+"`"+tagTCRefuseAll(tagTCAll)+"`"+`, []); bg("track", "after_cmp")`)
				return err
			},
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "after_cmp") },
			check: func(s *tagRun, recs []tagRecord) {
				for _, r := range tagEvents(recs, "after_cmp") {
					if r.Consent.State != "none" || len(r.Click) > 0 {
						s.errorf("after_cmp: consent %+v click %v; want none (the CMP refused), no click ids", r.Consent, r.Click)
					}
				}
				for _, b := range strings.Split(s.vals["sent"], "\n") {
					if strings.Contains(b, "after_cmp") && (strings.Contains(b, "31337") || strings.Contains(b, "Cj0leak42")) {
						s.errorf("the tag read ad ids after the CMP refused: %s", b)
					}
				}
			},
		},
		{
			name: "consent-none-and-ads", timeout: 3000, query: tagAdQuery,
			// A banner's list with "none" among granted names is malformed
			// for the gateway (a refusal of every purpose): the tag must not
			// drop "none" and turn it into a grant, nor store an id or read
			// ad ids.
			head: tagAdIDsHead,
			body: `<script>bg("consent", ["none", "analytics", "ads", "device_storage"]);</script>`,
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview") },
			check: func(s *tagRun, recs []tagRecord) {
				tagNoAdIDs("none", "explicit")(s, recs)
				for _, r := range recs {
					if r.Client != "" {
						s.errorf("%s: client id without device_storage consent", r.Event)
					}
				}
				if s.vals["storage"] != "0|" {
					s.errorf("storage and cookies: %q; want none", s.vals["storage"])
				}
			},
		},
		{
			name: "consent-case", timeout: 3000, query: tagAdQuery,
			// The gateway reads bg('consent') names case-insensitively and
			// with spaces around them (a banner's "Analytics, Ads"): it
			// grants them, so the tag must store the id and send the ad ids
			// as it does for the lower-case list.
			head: tagAdIDsHead,
			body: `<script>bg("consent", "Analytics, Ads, Device_Storage");</script>`,
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview") },
			check: func(s *tagRun, recs []tagRecord) {
				pv := tagEvents(recs, "pageview")[0]
				if pv.Consent.Signal != "explicit" {
					s.errorf("pageview: consent %+v; want from explicit", pv.Consent)
				}
				if pv.Client == "" {
					s.errorf("pageview: no client pseudonym although device_storage was granted")
				}
				if pv.Click["fbp"] != "fb.1.1700000000000.31337" || pv.Click["gclid"] != "Cj0leak42" {
					s.errorf("pageview click %v; want _fbp and the landing gclid with ads consent", pv.Click)
				}
				if !strings.HasPrefix(s.vals["storage"], "1|") {
					s.errorf("storage: %q; want the one first-party id in localStorage", s.vals["storage"])
				}
			},
		},
		{
			name: "noscript-pixel", timeout: 300,
			// The README's pixel for visitors without JavaScript, as pasted
			// (here outside <noscript>, since the browser runs scripts): it
			// names no url, so the gateway takes the Referer, which the
			// browser must send with the page's path, not its origin alone.
			body: tagReadmePixel,
			want: func(r []tagRecord) bool {
				for _, e := range r {
					if e.Kind == "pixel" {
						return true
					}
				}
				return false
			},
			check: func(s *tagRun, recs []tagRecord) {
				for _, r := range recs {
					if r.Kind == "pixel" && !strings.HasSuffix(r.URL, "/page/noscript-pixel") {
						s.errorf("pixel page view: url %q; want the page's path (the Referer was cut to the origin)", r.URL)
					}
				}
			},
		},
		{
			name: "path-prefix", timeout: 300, prefix: true,
			// The gateway behind a proxy under a path (beacongate tag -url
			// https://www.shop.example/collect): the beacons must go to
			// /collect/b, not to /b of the proxy's origin.
			body:  `<script>bg("track", "behind_proxy");</script>`,
			want:  func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "behind_proxy") },
			check: func(s *tagRun, recs []tagRecord) {},
		},
		{
			name: "long-url", timeout: 300,
			// A page URL over the gateway's 4096 bytes (a search page with
			// its state in the query) makes it refuse the whole request:
			// the tag sends the URL without its query instead.
			head: `<script>history.replaceState(null, "", location.pathname + "?q=" + new Array(5001).join("x"));</script>`,
			body: `<script>bg("track", "on_long_url");</script>`,
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "on_long_url") },
			check: func(s *tagRun, recs []tagRecord) {
				for _, r := range recs {
					if !strings.HasSuffix(r.URL, "/page/long-url") {
						s.errorf("%s: url %q; want the page's path", r.Event, r.URL)
					}
				}
			},
		},
		{
			name: "storage-blocked", timeout: 3000,
			// Storage that throws (blocked third-party storage, a sandbox):
			// the tag goes on without an id and without an error.
			head: `<script>Object.defineProperty(window, "localStorage", {get: function () { throw new DOMException("blocked", "SecurityError"); }});</script>`,
			body: `<script>bg("consent", ["analytics", "device_storage"]); bg("track", "blocked");</script>`,
			want: func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "blocked") },
			check: func(s *tagRun, recs []tagRecord) {
				for _, r := range recs {
					if r.Client != "" || r.Consent.State != "analytics" {
						s.errorf("%s: client %q consent %+v; want no id (storage blocked), analytics", r.Event, r.Client, r.Consent)
					}
				}
			},
		},
		{
			name: "csp", timeout: 300, csp: "origins",
			// A site with a Content-Security-Policy (no 'unsafe-inline',
			// connect-src its own origin) that adds what `beacongate tag`
			// prints for the snippet: the inline stub must run (the page's
			// own bg() calls before the tag loads would throw without it),
			// the tag must load, and its beacons must reach the gateway on
			// another origin; the browser reports no violation.
			body:  `<script nonce="` + tagNonce + `">bg("consent", ["analytics"]); bg("track", "under_csp");</script>`,
			want:  func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "under_csp") },
			check: func(s *tagRun, recs []tagRecord) {},
		},
		{
			name: "csp-strict-dynamic", timeout: 300, csp: "strict-dynamic",
			// The same under 'strict-dynamic', which ignores the gateway's
			// origin in script-src: the tag's integrity value lets it load.
			body:  `<script nonce="` + tagNonce + `">bg("consent", ["analytics"]); bg("track", "under_csp");</script>`,
			want:  func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "under_csp") },
			check: func(s *tagRun, recs []tagRecord) {},
		},
		{
			name: "element-named-bg", timeout: 300,
			// The snippet pasted into the body after an element with
			// id="bg" (a background image or video; the parser moves the
			// div, and all after it, into the body): window.bg is then that
			// element, so a stub that only checks window.bg for a value was
			// never installed, and the page's own bg() calls before the tag
			// loaded threw "bg is not a function" and were lost.
			head:  `<div id="bg"></div>`,
			body:  `<script>bg("consent", ["analytics"]); bg("track", "early");</script>`,
			want:  func(r []tagRecord) bool { return tagHasEvents(r, "pageview", "early") },
			check: func(s *tagRun, recs []tagRecord) {},
		},
		{
			name: "cross-origin-demo", demo: true,
			// examples/demo.html, on another site than the gateway, with the
			// README's snippet pasted in; driven by its buttons.
			drive: func(ctx context.Context, s *tagRun) error {
				if err := tagWaitRecords(ctx, s, func(r []tagRecord) bool { return tagHasEvents(r, "pageview") }); err != nil {
					return err
				}
				if _, err := tagEval(ctx, `document.getElementById("accept").click(); document.getElementById("cart").click(); "ok"`); err != nil {
					return err
				}
				if err := tagWaitRecords(ctx, s, func(r []tagRecord) bool { return tagHasEvents(r, "add_to_cart") }); err != nil {
					return err
				}
				l, err := tagEval(ctx, `document.getElementById("nav").click(); document.getElementById("log").textContent`)
				_, s.vals["eid"], _ = strings.Cut(l, "add_to_cart, event id ")
				s.vals["eid"], _, _ = strings.Cut(s.vals["eid"], "\n")
				return err
			},
			want: func(r []tagRecord) bool { return len(tagEvents(r, "pageview")) >= 2 && tagHasEvents(r, "add_to_cart") },
			check: func(s *tagRun, recs []tagRecord) {
				pv := tagEvents(recs, "pageview")
				cart := tagEvents(recs, "add_to_cart")[0]
				if pv[0].Consent.State != "none" || !strings.HasPrefix(pv[0].URL, "http://localhost:") {
					s.errorf("first pageview: consent %+v url %q; want none (before the banner) from localhost", pv[0].Consent, pv[0].URL)
				}
				if cart.Consent.State != "analytics" || cart.Consent.Signal != "explicit" || cart.EID == "" || cart.EID != s.vals["eid"] {
					s.errorf("add_to_cart: consent %+v eid %q (page logged %q); want analytics, explicit, the logged id", cart.Consent, cart.EID, s.vals["eid"])
				}
				if cart.Props["sku"] != "A-42" || cart.Props["value"] != 19.9 || cart.Props["gift"] != false {
					s.errorf("add_to_cart props %v", cart.Props)
				}
				if len(pv) != 2 || !strings.HasSuffix(pv[1].URL, "/demo.html?step=checkout") || pv[1].Referrer != pv[0].URL || pv[1].Consent.State != "analytics" {
					s.errorf("single-page navigation: %d page views, last %q from %q (%+v)", len(pv), pv[len(pv)-1].URL, pv[len(pv)-1].Referrer, pv[len(pv)-1].Consent)
				}
			},
		},
	}
}

// tagWaitRecords polls the scenario's records until done accepts them.
func tagWaitRecords(ctx context.Context, s *tagRun, done func([]tagRecord) bool) error {
	for {
		s.mu.Lock()
		ok := done(s.recs)
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for records: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// tagUserAgent is a desktop Chrome's user agent.
const tagUserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// tagBrowser starts one headless Chromium for the suite, with the flags a
// machine without network needs, and returns the allocator context.
func tagBrowser(t *testing.T, dir string) (context.Context, context.CancelFunc) {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not on PATH (Debian package chromium; .ci/run installs it): skipping the bg.js browser suite")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-default-browser-check", true),
		// The default HeadlessChrome user agent is a bot, which the ads
		// policy drops; the scenarios are about a visitor's browser.
		chromedp.UserAgent(tagUserAgent),
		chromedp.UserDataDir(filepath.Join(dir, "chromium-profile")),
		// TMPDIR too: Chromium makes org.chromium.Chromium.* directories
		// there and leaves them behind.
		chromedp.Env("HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_CACHE_HOME="+dir, "TMPDIR="+dir),
	}
	return chromedp.NewExecAllocator(context.Background(), opts...)
}

// startBrowser starts the browser of bctx, a context from
// chromedp.NewContext, within a minute: a Chromium that hangs at start
// fails the test then, instead of holding it until go test's own timeout.
// The first action allocates the browser and ties it to the context it
// is given, so the bound is a timer that cancels bctx, not a deadline.
func startBrowser(t *testing.T, bctx context.Context, cancel context.CancelFunc) {
	t.Helper()
	timer := time.AfterFunc(time.Minute, cancel)
	defer timer.Stop()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
}

// watchConsole records the page's console errors, uncaught exceptions and
// error-level log entries (failed loads, CSP, SRI mismatches).
func watchConsole(ctx context.Context, s *tagRun) error {
	return chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				s.mu.Lock()
				s.pageJS = append(s.pageJS, "console."+string(ev.Type)+": "+strings.Join(parts, " "))
				s.mu.Unlock()
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			s.mu.Lock()
			s.pageJS = append(s.pageJS, "exception: "+msg)
			s.mu.Unlock()
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				s.mu.Lock()
				s.pageJS = append(s.pageJS, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
				s.mu.Unlock()
			}
		}
	})
}

// tagSnippet is the README's snippet for a gateway at base and site.
func tagSnippet(base, site string, timeout int) string {
	s := tag.Snippet(base, site)
	return strings.Replace(s, `data-site=`, fmt.Sprintf(`data-consent-timeout="%d" data-site=`, timeout), 1)
}

// readTagRecords reads every record under out and sorts them to their
// scenario by site id.
func readTagRecords(t *testing.T, out string) map[string][]tagRecord {
	t.Helper()
	_, recs := readOut(t, out)
	by := map[string][]tagRecord{}
	for _, r := range recs {
		var tr tagRecord
		if err := json.Unmarshal([]byte(r.raw), &tr); err != nil {
			t.Fatalf("record %s: %v", r.raw, err)
		}
		tr.raw = r.raw
		by[r.Site] = append(by[r.Site], tr)
	}
	return by
}

// TestE2ETag runs the bg.js scenarios in parallel tabs of one Chromium
// against one gateway process.
func TestE2ETag(t *testing.T) {
	if testing.Short() {
		t.Skip("browser suite: not in -short mode")
	}
	t.Parallel() // its own gateway, browser and ports
	start := time.Now()
	dir := t.TempDir()
	actx, cancelAlloc := tagBrowser(t, dir)
	defer cancelAlloc()

	var gwBase, prefixBase string
	var mu sync.Mutex
	scenarios := tagSelected(t, tagScenarios())
	pixel := readmeNoscriptPixel(t)
	for _, sc := range scenarios {
		sc.body = strings.ReplaceAll(sc.body, tagReadmePixel, pixel)
	}
	byName := map[string]*tagScenario{}
	for _, sc := range scenarios {
		byName[sc.name] = sc
	}
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		base := gwBase
		mu.Unlock()
		rest, ok := strings.CutPrefix(r.URL.Path, "/page/")
		name, _, _ := strings.Cut(rest, "/")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if name == "blank" {
			fmt.Fprint(w, `<!doctype html><html><head><link rel="icon" href="data:,"></head><body>left</body></html>`)
			return
		}
		sc := byName[name]
		if !ok || sc == nil {
			http.NotFound(w, r)
			return
		}
		body := strings.ReplaceAll(sc.body, "https://collect.example.com/", base+"/")
		body = strings.ReplaceAll(body, "site=shop.example", "site=tag-"+sc.name)
		snippetBase := base
		if sc.prefix {
			mu.Lock()
			snippetBase = prefixBase
			mu.Unlock()
		}
		if sc.csp != "" {
			w.Header().Set("Content-Security-Policy", tagPageCSP(snippetBase, sc.csp == "strict-dynamic"))
		}
		fmt.Fprintf(w, tagPage, sc.head, strings.Replace(tagSnippet(snippetBase, "tag-"+sc.name, sc.timeout), "data-site=", sc.attrs+" data-site=", 1), body)
	}))
	defer page.Close()

	// A reverse proxy that serves the gateway under /collect/ (stripped
	// before it passes the request on), as a site that mounts it under its
	// own origin does.
	prefixed := httptest.NewServer(http.StripPrefix("/collect", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		base := gwBase
		mu.Unlock()
		u, err := url.Parse(base)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
	})))
	defer prefixed.Close()
	mu.Lock()
	prefixBase = prefixed.URL + "/collect"
	mu.Unlock()

	// The demo page is on another site (localhost, not 127.0.0.1), as a
	// customer's site is, with the README's snippet pasted in.
	demoHTML := demoWithReadmeSnippet(t)
	demo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		base := gwBase
		mu.Unlock()
		if r.URL.Path != "/demo.html" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, strings.ReplaceAll(demoHTML, "http://localhost:8080", base))
	}))
	defer demo.Close()
	demoBase := strings.Replace(demo.URL, "127.0.0.1", "localhost", 1)

	var sites strings.Builder
	for _, sc := range scenarios {
		if !sc.demo {
			fmt.Fprintf(&sites, "  - id: tag-%s\n    origins: [%s]\n", sc.name, page.URL)
		}
	}
	fmt.Fprintf(&sites, "  - id: demo.example\n    origins: [%s]\n", demoBase)
	cfg := writeE2EConfig(t, dir, "tag.yaml", "sites:\n"+sites.String()+`consent:
  purposes: [analytics, ads, personalization, precise_geo, device_storage]
properties:
  allow: [plan, n, ok, value, currency, coupon, step, _fbp, gclid, sku, gift]
destinations:
  - name: local
    type: file
    tcf: {without_vendor: true}
    batch: {max_age: 100ms}
    policies:
      ads: {click_ids: keep}
  - name: vendorless
    type: file
    batch: {max_age: 100ms}
`)
	data := filepath.Join(dir, "data")
	// Pinned: tagTCAll was last updated on 2026-01-13, and a TC string
	// older than consent.tcf.max_age (395 days) grants nothing.
	p := startGatewayAt(t, clocktest.Golden, data, cfg)
	defer p.kill()
	mu.Lock()
	gwBase = "http://" + p.addr
	mu.Unlock()

	// One browser for all scenarios: the first context starts it.
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	startBrowser(t, bctx, cancelBrowser)
	t.Logf("chromium started in %v", time.Since(start).Round(time.Millisecond))

	runs := make([]*tagRun, len(scenarios))
	for i, sc := range scenarios {
		runs[i] = &tagRun{sc: sc, site: "tag-" + sc.name, vals: map[string]string{}}
		if sc.demo {
			runs[i].site = "demo.example"
		}
	}
	// Collect records for all scenarios in one poller.
	out, vendorless := filepath.Join(data, "out", "local"), filepath.Join(data, "out", "vendorless")
	stopPoll := make(chan struct{})
	var pollWG sync.WaitGroup
	pollWG.Add(1)
	go func() {
		defer pollWG.Done()
		for {
			by, byV := readTagRecords(t, out), readTagRecords(t, vendorless)
			for _, s := range runs {
				s.mu.Lock()
				s.recs = by[s.site]
				s.vendorless = byV[s.site]
				s.mu.Unlock()
			}
			select {
			case <-stopPoll:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()

	// At most tagTabs tabs at a time: with every scenario's tab opening at
	// once, a busy 2-CPU machine timed tabs out while opening them
	// (Inspector.enable: context deadline exceeded). Each tab still has its
	// own 20 s.
	var wg sync.WaitGroup
	tabs := make(chan struct{}, tagTabs)
	for _, s := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tabs <- struct{}{}
			defer func() { <-tabs }()
			u := page.URL + "/page/" + s.sc.name + s.sc.query
			if s.sc.demo {
				u = demoBase + "/demo.html"
			}
			runTagScenario(bctx, u, s)
		}()
	}
	wg.Wait()
	close(stopPoll)
	pollWG.Wait()

	for _, s := range runs {
		t.Run(s.sc.name, func(t *testing.T) {
			for _, l := range s.logs {
				t.Log(l)
			}
			for _, r := range s.recs {
				t.Logf("record: %s", r.raw)
			}
			for _, e := range s.errs {
				t.Error(e)
			}
			for _, e := range s.pageJS {
				t.Errorf("page console: %s", e)
			}
		})
	}
	if st, m := httpGet(t, "http://"+p.admin+"/metrics"); st == 200 {
		for _, line := range strings.Split(string(m), "\n") {
			if strings.HasPrefix(line, "beacongate_gateway_rejected_total{") && !strings.HasSuffix(line, " 0") {
				t.Errorf("the gateway rejected a request from bg.js: %s", line)
			}
			if strings.HasPrefix(line, "beacongate_gateway_tag_requests_total{") ||
				strings.HasPrefix(line, `beacongate_gateway_requests_total{endpoint="beacon"}`) ||
				strings.HasPrefix(line, `beacongate_gateway_events_total{endpoint="beacon"}`) {
				t.Log(line)
			}
		}
	}
	t.Logf("bg.js suite: %d scenarios in %v", len(runs), time.Since(start).Round(time.Millisecond))
}

// tagNonce is the nonce of a csp scenario's own inline scripts.
const tagNonce = "e2e-nonce"

// tagPageCSP returns the Content-Security-Policy of a csp scenario's page
// for a gateway at base: the site's own, strict one (no 'unsafe-inline':
// its inline scripts carry a nonce), with the sources that
// `beacongate tag -url BASE` prints for the snippet added; with
// strictDynamic, 'strict-dynamic' and the integrity value of
// `beacongate tag -sri` too.
func tagPageCSP(base string, strictDynamic bool) string {
	out, _, _ := tagCmd("-url", base, "-site", "csp.example")
	var printed string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "Content-Security-Policy") {
			_, after, _ := strings.Cut(line, ": ")
			printed, _, _ = strings.Cut(after, " -->")
		}
	}
	csp := "default-src 'self'; img-src data:; script-src 'nonce-" + tagNonce + "'"
	if strictDynamic {
		sri, _, _ := tagCmd("-sri")
		csp += " 'strict-dynamic' '" + strings.TrimSpace(sri) + "'"
	}
	for _, d := range strings.Split(printed, ";") {
		d = strings.TrimSpace(d)
		if rest, ok := strings.CutPrefix(d, "script-src "); ok {
			csp += " " + rest
		} else if d != "" {
			csp += "; " + d
		}
	}
	return csp
}

// tagTabs is how many scenarios run at the same time, each in its own tab.
const tagTabs = 6

// tagReadmePixel in a scenario's body stands for the README's <noscript>
// pixel, without the <noscript> element.
const tagReadmePixel = "{{readme pixel}}"

// readmeNoscriptPixel returns the element inside the README's <noscript>.
func readmeNoscriptPixel(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "<noscript>")
	img, _, ok2 := strings.Cut(after, "</noscript>")
	if !ok || !ok2 || !strings.Contains(img, "https://collect.example.com/p.gif?site=shop.example") {
		t.Fatalf("README.md has no <noscript> pixel for https://collect.example.com and shop.example")
	}
	return img
}

// tagSelected keeps the scenarios that -run selects by their subtest name
// (-run 'TestE2ETag/withdraw|spa'), so that one scenario can be run alone
// on a busy machine; without a subtest pattern it keeps them all.
func tagSelected(t *testing.T, all []*tagScenario) []*tagScenario {
	f := flag.Lookup("test.run")
	if f == nil {
		return all
	}
	_, sub, ok := strings.Cut(f.Value.String(), "/")
	if !ok || sub == "" {
		return all
	}
	re, err := regexp.Compile(sub)
	if err != nil {
		t.Fatalf("-run: %v", err)
	}
	var out []*tagScenario
	for _, sc := range all {
		if re.MatchString(sc.name) {
			out = append(out, sc)
		}
	}
	return out
}

// runTagScenario opens the scenario's page in a new tab, drives it and
// waits for its records, all within 20 s.
func runTagScenario(bctx context.Context, pageURL string, s *tagRun) {
	sc := s.sc
	// Each scenario in its own browser context: no cookie or storage is
	// shared between the tabs (they are all on the page server's origin).
	tctx, cancelTab := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	defer cancelTab()
	ctx, cancel := context.WithTimeout(tctx, 20*time.Second)
	defer cancel()
	if err := watchConsole(ctx, s); err != nil {
		s.errorf("opening a tab: %v", err)
		return
	}
	began := time.Now()
	if sc.gpc || sc.dnt {
		// What a browser with Global Privacy Control (or Do Not Track) on
		// does: the header on every request, and the property in every page.
		headers, prop, val := network.Headers{"Sec-GPC": "1"}, "globalPrivacyControl", "true"
		if sc.dnt {
			headers, prop, val = network.Headers{"DNT": "1"}, "doNotTrack", `"1"`
		}
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			s.errorf("network.enable: %v", err)
			return
		}
		if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: headers}); err != nil {
			s.errorf("extra headers: %v", err)
			return
		}
		if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{
			Source: `Object.defineProperty(Navigator.prototype, "` + prop + `", {get: function () { return ` + val + `; }, configurable: true});`,
		}); err != nil {
			s.errorf("%s property: %v", prop, err)
			return
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		s.errorf("loading the page: %v", err)
		return
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!(window.bg && window.bg.v === 1)`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		s.errorf("waiting for bg.js to load: %v", err)
		return
	}
	if sc.drive != nil {
		if err := sc.drive(ctx, s); err != nil {
			s.errorf("driving the page: %v", err)
			return
		}
	}
	if err := tagWaitRecords(ctx, s, sc.want); err != nil {
		s.errorf("%v; records so far: %d", err, len(s.recs))
		return
	}
	s.logf("records complete after %v", time.Since(began).Round(time.Millisecond))
	if !strings.HasPrefix(sc.name, "unload") {
		st, err := tagEval(ctx, `(function () { try { return localStorage.length; } catch (e) { return 0; } })() + "|" + document.cookie.replace(/_fbp=[^;]*(; )?/, "")`)
		if err != nil {
			s.errorf("reading storage: %v", err)
		}
		s.vals["storage"] = st
		s.vals["id"], _ = tagEval(ctx, `(function () { try { return String(localStorage.getItem("bg_cid")); } catch (e) { return ""; } })()`)
		if sc.gpc {
			s.vals["gpc"], _ = tagEval(ctx, `String(navigator.globalPrivacyControl)`)
		}
		if sc.dnt {
			s.vals["dnt"], _ = tagEval(ctx, `String(navigator.doNotTrack)`)
		}
		s.vals["sent"], _ = tagEval(ctx, `(window.sent || []).join("\n")`)
		s.vals["seen"], _ = tagEval(ctx, `(window.seen || []).join(" ")`)
		s.vals["beacons"], _ = tagEval(ctx, `(window.beacons || []).join(" ")`)
		s.vals["fetches"], _ = tagEval(ctx, `(window.fetches || []).join(" ")`)
	}
	// Late duplicates would show here: wait for one more shipper batch.
	time.Sleep(300 * time.Millisecond)
	s.mu.Lock()
	recs := append([]tagRecord(nil), s.recs...)
	s.mu.Unlock()
	sc.check(s, recs)
}

// demoWithReadmeSnippet returns examples/demo.html with its snippet replaced
// by the README's, after checking that the two are the same.
func demoWithReadmeSnippet(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	snippet := strings.TrimSpace(readmeTagSnippet(t, string(readme)))
	b, err := os.ReadFile("../../examples/demo.html")
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	const begin, end = "<!-- bg.js snippet", "<!-- end of bg.js snippet -->"
	i := strings.Index(html, begin)
	j := strings.Index(html, end)
	if i < 0 || j < i {
		t.Fatalf("examples/demo.html lacks the %q ... %q markers", begin, end)
	}
	i += strings.Index(html[i:], "-->") + len("-->")
	if own := strings.TrimSpace(html[i:j]); own != snippet {
		t.Errorf("examples/demo.html's snippet differs from the README's:\n%s\nREADME:\n%s", own, snippet)
	}
	return html[:i] + "\n" + snippet + "\n" + html[j:]
}
