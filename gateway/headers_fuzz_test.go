package gateway

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/beacongate/beacongate/clock/clocktest"
)

// FuzzRequestHeaders feeds arbitrary values of the request headers the
// gateway reads (User-Agent, Accept-Language, Sec-GPC, DNT, the
// euconsent-v2 cookie, Referer) to the pixel, as raw requests the server
// would read, through the real privacy engine. The pixel always answers
// its GIF; every record is strict JSON; the opt-out headers count exactly
// when one of their list items is "1"; a record's lang is a primary
// language subtag or absent; and an e-mail address planted in the
// User-Agent, the Accept-Language and the Referer's query reaches no
// record.
func FuzzRequestHeaders(f *testing.F) {
	f.Add("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		"de-DE,de;q=0.9,en;q=0.8", "1", "", "euconsent-v2="+realTC, "https://shop.example/p?x=1")
	f.Add("Googlebot/2.1 (+http://www.google.com/bot.html)", "DE-de", "0, 1", "0,1", "a=b; euconsent-v2=; euconsent-v2="+realTC, "")
	f.Add("", "bob@example.org", "1 , 0", "1", "euconsent-v2=x; euconsent-v2=y", "not a url")
	f.Add("caf\xc3\xa9 \xff", "zh-Hant-TW;q=1", "\t1\t", " 1", "euconsent-v2=\xff", "https://shop.example/%ff")
	f.Add("x", "de-", "", "", "", "//shop.example/u/jane")
	rec := &recorder{}
	g := New(Settings{Handler: rec}, nil)
	d := newDriver(g, "192.0.2.1")
	p := newPipelineGateway(f, goldenConfig, "", clocktest.Golden)
	pd := newDriver(p.g, "81.2.69.142")
	const planted = "zq.planted@mailhost.example"
	f.Fuzz(func(t *testing.T, ua, lang, gpc, dnt, cookie, referer string) {
		for _, v := range []string{ua, lang, gpc, dnt, cookie, referer} {
			if strings.ContainsAny(v, "\r\n") || strings.Contains(strings.ToLower(v), "planted") {
				return // another request, or the mark itself
			}
		}
		for _, plant := range []bool{false, true} {
			u, l, r := ua, lang, referer
			if plant {
				u, l = u+" "+planted, planted+", "+l
				if strings.Contains(r, "?") {
					r += "&e=" + planted
				} else {
					r += "?e=" + planted
				}
			}
			raw := rawRequest("GET", "/p.gif?site=s&consent=analytics,ads&event=e", nil,
				"User-Agent", u, "Accept-Language", l, "Sec-GPC", gpc, "DNT", dnt, "Cookie", cookie, "Referer", r)
			if !pd.try(raw) {
				return // fasthttp refuses the header (a control byte)
			}
			for _, s := range p.sp.records {
				if plant && strings.Contains(s, "planted") {
					t.Fatalf("the planted address reached a record:\n%s", s)
				}
				var m map[string]any
				if err := json.Unmarshal([]byte(s), &m); err != nil {
					t.Fatalf("record: %v\n%s", err, s)
				}
				if v, ok := m["lang"]; ok {
					if s, _ := v.(string); len(s) < 2 || len(s) > 3 || strings.ToLower(s) != s || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz") != "" {
						t.Fatalf("lang %q from Accept-Language %q", v, l)
					}
				}
			}
			checkRecords(t, p.sp)
			rec.events = rec.events[:0]
			if !d.try(raw) {
				t.Fatal("the second driver refused what the first read")
			}
			if d.ctx.Response.StatusCode() != 200 || len(d.ctx.Response.Body()) != 43 {
				t.Fatalf("pixel answered %d with %d bytes", d.ctx.Response.StatusCode(), len(d.ctx.Response.Body()))
			}
			for _, e := range rec.events {
				if e.Consent.GPC != refAnyOne(gpc) || e.Consent.DNT != refAnyOne(dnt) {
					t.Fatalf("Sec-GPC %q DNT %q read as %v %v", gpc, dnt, e.Consent.GPC, e.Consent.DNT)
				}
				if !utf8.Valid(e.UserAgent) || !utf8.Valid(e.AcceptLanguage) || !utf8.Valid(e.Consent.TCString) || !utf8.Valid(e.URL) {
					t.Fatalf("event with invalid UTF-8: %+v", e)
				}
			}
		}
	})
}

// refAnyOne is the reference for anyOne over one header line: a
// comma-separated list, spaces and tabs around its items ignored.
func refAnyOne(v string) bool {
	for _, item := range strings.Split(v, ",") {
		if strings.Trim(item, " \t") == "1" {
			return true
		}
	}
	return false
}

// try is do for a request fasthttp may refuse: false if it does.
func (d *driver) try(raw []byte) bool {
	d.ctx.Request.Reset()
	d.ctx.Response.Reset()
	d.rd.Reset(raw)
	d.br.Reset(&d.rd)
	if d.ctx.Request.Header.Read(d.br) != nil || d.ctx.Request.ContinueReadBody(d.br, 0, false) != nil {
		return false
	}
	d.g.Handle(&d.ctx)
	return true
}
