package adplatform_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/upstream/adplatform"
	"github.com/beacongate/beacongate/upstream/adplatform/contract"
)

// Every platform gets every event once, in requests within its limit,
// valid for its contract, with the page's eid as event id.
func TestDeliversWithinLimits(t *testing.T) {
	for _, c := range []struct {
		p        adplatform.Platform
		n, limit int
	}{{adplatform.Meta, 2500, 1000}, {adplatform.TikTok, 2500, 1000}, {adplatform.GA4, 200, 25}} {
		t.Run(c.p.String(), func(t *testing.T) {
			srv, s, _, reg := setup(t, c.p, nil)
			recs := records(c.n, true)
			if err := send(s, batch(0, recs...)); err != nil {
				t.Fatal(err)
			}
			st := srv.Stats()
			if len(st.Refused) > 0 {
				t.Fatalf("contract refused: %q", st.Refused[0])
			}
			if st.Events != c.n || st.MaxBatch != c.limit {
				t.Fatalf("%d events, largest request %d; want %d in requests of at most %d", st.Events, st.MaxBatch, c.n, c.limit)
			}
			if c.p == adplatform.GA4 {
				// 3 clients (67, 67, 66 events): requests of one client each.
				if st.Requests != 9 {
					t.Fatalf("%d requests for %d events of 3 clients", st.Requests, c.n)
				}
			} else if st.Requests != (c.n+c.limit-1)/c.limit {
				t.Fatalf("%d requests", st.Requests)
			}
			if c.p != adplatform.GA4 {
				ids := map[string]bool{}
				for _, e := range srv.Events() {
					ids[e.ID] = true
				}
				for i := range c.n {
					if !ids[fmt.Sprintf("eid-%06d", i)] {
						t.Fatalf("event eid-%06d missing or sent under another id", i)
					}
				}
			}
			if got := counter(t, reg, "beacongate_upstream_platform_events_total", nil); got != float64(c.n) {
				t.Fatalf("events_total %v", got)
			}
		})
	}
}

// What each platform gets of one full record.
func TestMapping(t *testing.T) {
	f := func(p adplatform.Platform, want ...string) {
		t.Helper()
		srv, s, _, _ := setup(t, p, nil)
		if err := send(s, batch(0, rec(7, "c1", true))); err != nil {
			t.Fatal(err)
		}
		ev := srv.Events()
		if len(ev) != 1 {
			t.Fatalf("%v: %d events, refused %q", p, len(ev), srv.Stats().Refused)
		}
		for _, w := range want {
			if !strings.Contains(string(ev[0].Raw), w) {
				t.Errorf("%v event %s\nlacks %s", p, ev[0].Raw, w)
			}
		}
	}
	f(adplatform.Meta, `"event_id":"eid-000007"`, `"event_time":1796378407`, `"action_source":"website"`,
		`"event_source_url":"https://shop.example/p/7"`, `"em":["`+emHash+`"]`, `"ph":["`+phHash+`"]`,
		`"client_ip_address":"81.2.69.0"`, `"client_user_agent":"Mozilla/5.0 (X11; Linux x86_64)"`,
		`"fbc":"fb.1.1733306400123.AbCdEf"`, `"fbp":"fb.1.1733306400123.987654321"`, `"custom_data":{"cart_value":129.5`)
	f(adplatform.TikTok, `"event_id":"eid-000007"`, `"email":"`+emHash+`"`, `"phone":"`+phHash+`"`,
		`"ttclid":"E.C.P.abc"`, `"ttp":"ttp-1"`, `"ip":"81.2.69.0"`, `"url":"https://shop.example/p/7"`,
		`"referrer":"https://news.example/a"`)
	f(adplatform.GA4, `"name":"add_to_cart"`, `"timestamp_micros":1796378407123000`, `"session_id":1733306400`,
		`"page_location":"https://shop.example/p/7"`, `"page_referrer":"https://news.example/a"`)
}

// GA4's request-level members: client id from the _ga cookie, consent from
// the record, enhanced-conversion user_data.
func TestGA4Envelope(t *testing.T) {
	srv, s, _, _ := setup(t, adplatform.GA4, func(o *adplatform.Options) { o.TestMode = true })
	r := strings.Replace(string(rec(1, "c1", true)), `"purposes":["analytics","ads","personalization"]`, `"purposes":["analytics","ads"]`, 1)
	if err := send(s, batch(0, []byte(r))); err != nil {
		t.Fatal(err)
	}
	if st := srv.Stats(); st.Events != 1 || st.Test["debug"] != 1 || len(st.Refused) > 0 {
		t.Fatalf("stats %+v", st)
	}
	env := srv.Envelopes()
	if len(env) != 1 {
		t.Fatalf("%d requests", len(env))
	}
	for _, w := range []string{`"client_id":"111.c1"`, `"user_id":"bdCsXP8rYIvgqcB6lLquEQ"`,
		`"consent":{"ad_personalization":"DENIED","ad_user_data":"GRANTED"}`,
		`"sha256_email_address":["` + emHash + `"]`} {
		if !strings.Contains(env[0], w) {
			t.Errorf("envelope %s\nlacks %s", env[0], w)
		}
	}
}

// A 429 with Retry-After and a 503 come back as retryable errors (with
// the delay asked for); requests already answered for the batch are not
// sent again on the retry.
func TestRetryKeepsProgress(t *testing.T) {
	for _, c := range []struct {
		p        adplatform.Platform
		n, limit int
	}{{adplatform.Meta, 2500, 1000}, {adplatform.TikTok, 2500, 1000}, {adplatform.GA4, 60, 25}} {
		t.Run(c.p.String(), func(t *testing.T) {
			// One request at a time: the script answers requests in the
			// order they arrive (TestConcurrentOutcomesAsSequential sends
			// them at once).
			srv, s, _, _ := setup(t, c.p, func(o *adplatform.Options) { o.MaxInFlight = 1 })
			recs := make([][]byte, c.n)
			for i := range recs {
				recs[i] = rec(i, "one-client", false) // GA4: one client, so requests of 25
			}
			b := batch(100, recs...)
			srv.Script(contract.Answer{Status: 429, RetryAfter: "7", Body: `{"error":{"message":"rate","code":4}}`})
			var se *upstream.SendError
			if err := send(s, b); !errors.As(err, &se) || se.RetryAfter != 7*time.Second || se.Permanent {
				t.Fatalf("429: %v; want retryable after 7s", err)
			}
			// Next attempt: the first request passes, the second meets a 503.
			srv.Script(contract.Answer{}, contract.Answer{Status: 503})
			if err := send(s, b); err == nil || errors.As(err, &se) && se.Permanent {
				t.Fatalf("503: %v; want retryable", err)
			}
			if st := srv.Stats(); st.Events != c.limit {
				t.Fatalf("%d events after the 503; want the first %d", st.Events, c.limit)
			}
			// Third attempt: the rest goes; the first request is not sent again.
			if err := send(s, b); err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			for _, e := range srv.Events() {
				seen[string(e.Raw)]++
				if seen[string(e.Raw)] > 1 {
					t.Fatalf("event sent twice: %s", e.Raw)
				}
			}
			if st := srv.Stats(); st.Events != c.n || st.Requests != 1+2+2 || len(st.Refused) > 0 {
				t.Fatalf("%d events in %d requests, refused %q; want %d once each in 5 requests (429, ok+503, ok+ok)", st.Events, st.Requests, st.Refused, c.n)
			}
			// A new batch starts afresh.
			if err := send(s, batch(5000, recs[:3]...)); err != nil || srv.Stats().Events != c.n+3 {
				t.Fatalf("next batch: %v, %d events", err, srv.Stats().Events)
			}
		})
	}
}

// Per-event errors: the refused events come back as rejected records (for
// the dead letters) and are counted; the good ones are delivered once.
func TestPerEventErrors(t *testing.T) {
	for _, p := range []adplatform.Platform{adplatform.Meta, adplatform.TikTok} {
		t.Run(p.String(), func(t *testing.T) {
			srv, s, _, reg := setup(t, p, nil)
			srv.RejectEvents("eid-000003", "eid-000777", "eid-001500")
			recs := records(2000, true)
			err := send(s, batch(0, recs...))
			rej := rejectedOf(err)
			slices.Sort(rej)
			if !slices.Equal(rej, []int{3, 777, 1500}) {
				t.Fatalf("rejected %v (%v); want [3 777 1500]", rej, err)
			}
			if st := srv.Stats(); st.Events != 1997 || len(st.Refused) > 0 {
				t.Fatalf("%d events delivered, refused %q; want 1997", st.Events, st.Refused)
			}
			ids := map[string]int{}
			for _, e := range srv.Events() {
				ids[e.ID]++
				if ids[e.ID] > 1 {
					t.Fatalf("%s delivered twice", e.ID)
				}
			}
			if got := counter(t, reg, "beacongate_upstream_platform_event_errors_total", map[string]string{"reason": "invalid_event"}); got != 3 {
				t.Fatalf("event_errors_total{invalid_event} = %v", got)
			}
			// The shipper retries a batch whose dead letter it could not
			// write: the same answer, nothing sent again.
			before := srv.Stats().Requests
			if rej2 := rejectedOf(send(s, batch(0, recs...))); len(rej2) != 3 || srv.Stats().Requests != before {
				t.Fatalf("resend: rejected %v, %d new requests", rej2, srv.Stats().Requests-before)
			}
		})
	}
}

// GA4's validation server (test mode) names bad events by path.
func TestGA4ValidationMessages(t *testing.T) {
	srv, s, _, reg := setup(t, adplatform.GA4, func(o *adplatform.Options) { o.TestMode = true })
	recs := records(30, false)
	recs[4] = []byte(strings.Replace(string(recs[4]), `"plan":"pro"`, `"plan":"pro","event_id":"bad-1"`, 1))
	srv.RejectEvents("bad-1")
	rej := rejectedOf(send(s, batch(0, recs...)))
	if !slices.Equal(rej, []int{4}) {
		t.Fatalf("rejected %v; want [4]", rej)
	}
	if st := srv.Stats(); st.Events != 29 || st.Test["debug"] != 29 {
		t.Fatalf("stats %+v", st)
	}
	if got := counter(t, reg, "beacongate_upstream_platform_event_errors_total", map[string]string{"reason": "validation_name_invalid"}); got != 1 {
		t.Fatalf("validation errors %v", got)
	}
}

// Test mode: Meta's and TikTok's test_event_code reach the platform.
func TestTestEventCode(t *testing.T) {
	for _, p := range []adplatform.Platform{adplatform.Meta, adplatform.TikTok} {
		srv, s, _, _ := setup(t, p, func(o *adplatform.Options) { o.TestEventCode = "TEST4711" })
		if err := send(s, batch(0, records(5, false)...)); err != nil {
			t.Fatal(err)
		}
		if st := srv.Stats(); st.Test["TEST4711"] != 5 {
			t.Fatalf("%v: test events %v", p, st.Test)
		}
	}
}

// A website event without the user agent Meta requires, a record without
// a time, and a line that is no JSON are dead-lettered unsent.
func TestUnmappable(t *testing.T) {
	srv, s, _, reg := setup(t, adplatform.Meta, nil)
	noUA := strings.Replace(string(rec(1, "c", false)), `"user_agent":"Mozilla/5.0 (X11; Linux x86_64)",`, "", 1)
	noTime := strings.Replace(string(rec(2, "c", false)), `"received":"2026-12-04T10:00:02.123Z",`, "", 1)
	rej := rejectedOf(send(s, batch(0, rec(0, "c", false), []byte(noUA), []byte(noTime), []byte("not json"))))
	if !slices.Equal(rej, []int{1, 2, 3}) {
		t.Fatalf("rejected %v", rej)
	}
	if st := srv.Stats(); st.Events != 1 || len(st.Refused) > 0 {
		t.Fatalf("stats %+v", st)
	}
	if got := counter(t, reg, "beacongate_upstream_platform_event_errors_total", map[string]string{"reason": "unmappable"}); got != 3 {
		t.Fatalf("unmappable %v", got)
	}
}

// A contact value that is not a digest is never sent as one.
func TestRawContactNeverSent(t *testing.T) {
	for _, p := range []adplatform.Platform{adplatform.Meta, adplatform.TikTok, adplatform.GA4} {
		srv, s, _, _ := setup(t, p, nil)
		r := strings.Replace(string(rec(1, "c", true)), emHash, "Jane.Doe@example.com", 1)
		if err := send(s, batch(0, []byte(r))); err != nil {
			t.Fatal(err)
		}
		ev := srv.Events()
		if len(ev) != 1 || strings.Contains(string(ev[0].Raw), "Jane") {
			t.Fatalf("%v: %d events: %s", p, len(ev), ev)
		}
	}
}

// Limited Data Use: a US opt-out that decided sends Meta's LDU and
// TikTok's limited_data_use.
func TestLimitedDataUse(t *testing.T) {
	f := func(p adplatform.Platform, flag string) {
		t.Helper()
		srv, s, _, _ := setup(t, p, nil)
		r := strings.Replace(string(rec(1, "c", false)), `"consent":{"state":"ads","purposes":["analytics","ads","personalization"],"signal":"explicit"}`,
			`"consent":{"state":"analytics","purposes":["analytics"],"signal":"us_privacy"}`, 1)
		if err := send(s, batch(0, []byte(r), rec(2, "c", false))); err != nil {
			t.Fatal(err)
		}
		ev := srv.Events()
		if len(ev) != 2 || !strings.Contains(string(ev[0].Raw), flag) || strings.Contains(string(ev[1].Raw), flag) {
			t.Fatalf("%v events %s; want %s on the first only", p, ev, flag)
		}
	}
	f(adplatform.Meta, `"data_processing_options":["LDU"]`)
	f(adplatform.TikTok, `"limited_data_use":true`)
}

// Bad credentials are a refusal (retried, dead-lettered after the auth
// window), and GA4's api_secret never appears in an error.
func TestCredentials(t *testing.T) {
	for _, p := range []adplatform.Platform{adplatform.Meta, adplatform.TikTok} {
		// The server expects another token than the sink's file holds.
		srv := contract.New(t, contractOf[p], pixelID, "rotated-token")
		_, s, _, _ := setup(t, p, func(o *adplatform.Options) {
			o.Endpoint = srv.URL()
			o.TLS.RootCAs = srv.CertPool()
		})
		if err := send(s, batch(0, rec(1, "c", false))); upstream.RefusalOf(err) != upstream.RefusalAuth {
			t.Fatalf("%v, bad token: %v; want an auth refusal", p, err)
		}
		if st := srv.Stats(); st.Events != 0 || len(st.Refused) != 1 {
			t.Fatalf("%v: stats %+v", p, st)
		}
	}
	_, g, _, _ := setup(t, adplatform.GA4, func(o *adplatform.Options) { o.Endpoint = "https://127.0.0.1:1" })
	err := send(g, batch(0, rec(1, "c", false)))
	if err == nil || strings.Contains(err.Error(), token) {
		t.Fatalf("network error %v: want one that does not name the api_secret", err)
	}
}

// The contract servers are not stubs: a raw e-mail, an oversized batch, a
// missing field (Meta: app_data of an app event) or a member name given
// twice is refused.
func TestContractRefuses(t *testing.T) {
	f := func(p contract.Platform, path string, hdr map[string]string, body string) {
		t.Helper()
		srv := contract.New(t, p, pixelID, token)
		req, _ := newRequest(srv.URL()+path, body, hdr)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if st := srv.Stats(); len(st.Refused) != 1 || st.Events != 0 {
			t.Fatalf("%s %s: stats %+v; want one refusal", p, body, st)
		}
	}
	ev := `{"event_name":"Purchase","event_time":1764842407,"action_source":"website","event_source_url":"https://s.example/","user_data":{"client_user_agent":"x","em":["Jane@example.com"]}}`
	f(contract.Meta, "/v23.0/"+pixelID+"/events", nil, `{"access_token":"`+token+`","data":[`+ev+`]}`)
	noUA := `{"event_name":"Purchase","event_time":1764842407,"action_source":"website","event_source_url":"https://s.example/","user_data":{"fbp":"fb.1.1733306400123.1"}}`
	f(contract.Meta, "/v23.0/"+pixelID+"/events", nil, `{"access_token":"`+token+`","data":[`+noUA+`]}`)
	app := `{"event_name":"Purchase","event_time":1764842407,"action_source":"app","user_data":{"client_ip_address":"81.2.69.0"}}`
	f(contract.Meta, "/v23.0/"+pixelID+"/events", nil, `{"access_token":"`+token+`","data":[`+app+`]}`)
	many := strings.Repeat(`{"name":"x"},`, 26)
	f(contract.GA4, "/mp/collect?measurement_id="+pixelID+"&api_secret="+token, nil, `{"client_id":"1","events":[`+many[:len(many)-1]+`]}`)
	f(contract.GA4, "/mp/collect?measurement_id="+pixelID+"&api_secret="+token, nil, `{"client_id":"1","events":[{"name":"session_start"}]}`)
	f(contract.GA4, "/mp/collect?measurement_id="+pixelID+"&api_secret="+token, nil, `{"client_id":"1","events":[{"name":"x","params":{"plan_type":"a","plan_type":"b"}}]}`)
	// user_data without user_id: "The user_id parameter must be present
	// whenever user_data is provided" (uid-data).
	f(contract.GA4, "/mp/collect?measurement_id="+pixelID+"&api_secret="+token, nil, `{"client_id":"1","user_data":{"sha256_email_address":["`+emHash+`"]},"events":[{"name":"x"}]}`)
	f(contract.TikTok, "/open_api/v1.3/event/track/", map[string]string{"Access-Token": token},
		`{"event_source":"web","event_source_id":"`+pixelID+`","data":[{"event":"x","event_time":1764842407,"user":{"phone":"+4912345678"}}]}`)
}

// An event older than the platform takes (Meta: 7 days, which would fail
// the whole request; GA4: 72 hours, dropped unseen) is dead-lettered
// unsent (reason too_old); the fresh one goes in one request.
func TestTooOldNotSent(t *testing.T) {
	f := func(p adplatform.Platform, received string) {
		t.Helper()
		srv, s, _, reg := setup(t, p, func(o *adplatform.Options) { o.TestMode = p == adplatform.GA4 })
		old := strings.Replace(string(rec(1, "c", false)), `"received":"2026-12-04T10:00:01.123Z"`, `"received":"`+received+`"`, 1)
		rej := rejectedOf(send(s, batch(0, rec(0, "c", false), []byte(old))))
		if !slices.Equal(rej, []int{1}) {
			t.Fatalf("%v: rejected %v", p, rej)
		}
		if st := srv.Stats(); st.Events != 1 || st.Requests != 1 || len(st.Refused) > 0 {
			t.Fatalf("%v: stats %+v", p, st)
		}
		if got := counter(t, reg, "beacongate_upstream_platform_event_errors_total", map[string]string{"reason": "too_old"}); got != 1 {
			t.Fatalf("%v: too_old %v", p, got)
		}
	}
	f(adplatform.Meta, "2026-11-27T11:58:00Z") // 7 days and 2 minutes before testNow
	f(adplatform.GA4, "2026-12-01T11:58:00Z")  // 72 hours and 2 minutes
}

// TestTokenRotatedInFile: after the platform refuses the credentials, the
// sink reads its token file again, so a token rotated there is taken by
// the running gateway (before, the file was read once, at start, and the
// refusals went on until the auth window dead-lettered the batch). GA4's
// api_secret, which rides in the query, is rotated the same way.
func TestTokenRotatedInFile(t *testing.T) {
	for _, p := range []adplatform.Platform{adplatform.Meta, adplatform.TikTok} {
		srv := contract.New(t, contractOf[p], pixelID, "rotated-token")
		srv.SetNow(testNow)
		tf := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(tf, []byte(token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, s, _, _ := setup(t, p, func(o *adplatform.Options) {
			o.Endpoint = srv.URL()
			o.TLS.RootCAs = srv.CertPool()
			o.TokenFile = tf
		})
		b := batch(0, rec(1, "c", false))
		if err := send(s, b); upstream.RefusalOf(err) != upstream.RefusalAuth {
			t.Fatalf("%v, the old token: %v; want an auth refusal", p, err)
		}
		if err := os.WriteFile(tf, []byte("rotated-token\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := send(s, b); err != nil {
			t.Fatalf("%v, the token rotated in the file: %v", p, err)
		}
		if st := srv.Stats(); st.Events != 1 {
			t.Fatalf("%v: %d events received; want 1", p, st.Events)
		}
	}
}

// TestGA4SecretRotatedInFile: GA4 refuses no api_secret (/mp/collect
// answers 2xx to a wrong one and drops the events), so the sink cannot
// wait for a refusal to read its secret file again: a secret rotated in
// the file is taken for the next batch. Before the fix the file was read
// again only after a 401/403, which GA4 never sends: once the old secret
// was deleted in GA4, every later event was dropped unseen while the
// gateway counted it delivered, until a restart.
func TestGA4SecretRotatedInFile(t *testing.T) {
	srv := contract.New(t, contract.GA4, pixelID, "rotated-secret")
	srv.SetNow(testNow)
	tf := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(tf, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, s, _, _ := setup(t, adplatform.GA4, func(o *adplatform.Options) {
		o.Endpoint = srv.URL()
		o.TLS.RootCAs = srv.CertPool()
		o.TokenFile = tf
	})
	if err := send(s, batch(0, rec(1, "c", false))); err != nil {
		t.Fatal(err)
	}
	if st := srv.Stats(); st.Events != 0 || len(st.Refused) != 1 {
		t.Fatalf("the old secret: stats %+v; want the hit dropped as GA4 drops it", st)
	}
	if err := os.WriteFile(tf, []byte("rotated-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := send(s, batch(1, rec(2, "c", false))); err != nil {
		t.Fatal(err)
	}
	if st := srv.Stats(); st.Events != 1 {
		t.Fatalf("the secret rotated in the file: %d events received; want 1 (refused: %v)", st.Events, st.Refused)
	}
}

// TestTokenFileBlankFirstLine: an access_token_file or api_secret_file
// whose first line is blank, the token on a later line, passed config
// check but the start refused it as "empty". The start now says the
// first line is empty (config check says the same), never quoting it.
func TestTokenFileBlankFirstLine(t *testing.T) {
	tf := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tf, []byte("  \n"+token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []adplatform.Platform{adplatform.Meta, adplatform.GA4, adplatform.TikTok} {
		_, err := adplatform.New(adplatform.Options{Destination: "ads", Platform: p, ID: pixelID, TokenFile: tf})
		if err == nil || !strings.Contains(err.Error(), "first line is empty") || strings.Contains(err.Error(), token) {
			t.Fatalf("%v: %v; want an error saying the first line is empty, without the token", p, err)
		}
	}
}
