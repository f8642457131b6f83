package main

import (
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/upstream/adplatform/contract"
)

// TestE2EExplainShowsWhatThePlatformsGet: for an ad platform destination
// explain shows the request its sink sends, not the record the sink reads
// it from (which holds the pseudonyms, the visitor hash, the language and
// contact data a platform does not take). The same pixel, explained and
// then sent to the real binary with the shop example's ad platforms
// pointed at their contract servers, gives per platform exactly the event
// (and GA4's envelope) explain showed, but its time. The output is
// decoded loosely, so that the test runs (and fails) on the code before,
// which showed the record alone.
func TestE2EExplainShowsWhatThePlatformsGet(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	dir := t.TempDir()
	const tok, secret = "e2e-token-0123456789", "e2e-secret-0123456789abcdef0123456789"
	meta := contract.New(t, contract.Meta, "1234567890", tok)
	ga := contract.New(t, contract.GA4, "G-ABC123DEF4", tok)
	tt := contract.New(t, contract.TikTok, "CABCDEFGHIJKLMNOP", tok)
	certs, tokFile := writeContractFiles(t, dir, tok, meta, ga, tt)
	partner := newBLESink(t)
	cfg := shopExampleFor(t, dir, map[string]map[string]any{
		"warehouse":   {"type": "file", "dir": filepath.Join(dir, "out")},
		"retargeting": {"url": "http://" + partner.addr + "/v1/batches", "timeout": "5s"},
		"meta":        {"pixel_id": "1234567890", "access_token_file": tokFile, "endpoint": meta.URL()},
		"ga4":         {"measurement_id": "G-ABC123DEF4", "api_secret_file": tokFile, "endpoint": ga.URL()},
		"tiktok":      {"event_source_id": "CABCDEFGHIJKLMNOP", "access_token_file": tokFile, "endpoint": tt.URL()},
	})
	data := filepath.Join(dir, "data")
	const ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
	query := "site=shop&event=Purchase&eid=explainEid0001&uid=u-1234&cid=c-5678&consent=analytics,ads" +
		"&url=" + url.QueryEscape("https://shop.example.com/checkout?fbclid=IwAR3xYz-Q_9") +
		"&ref=" + url.QueryEscape("https://news.example/a") +
		"&p.em=" + url.QueryEscape("Jane.Doe@Gmail.com") + "&p.ph=" + url.QueryEscape("+49 30 1234567") +
		"&p.fn=Jane&p.ct=Berlin&p._fbp=fb.1.1700000000000.42&p.cart_value=12.5"
	sample := "GET /p.gif?" + query + " HTTP/1.1\nUser-Agent: " + ua + "\nAccept-Language: de-DE,de;q=0.9\n"

	// The instant explain and the gateway start at, pinned: the platform
	// sinks judge an event's age (too_old beyond Meta's 7 days, GA4's 72
	// hours) by the gateway's clock, so the outcome does not depend on the
	// day the test runs (before the sinks took the gateway's clock, they
	// judged by the real one and dropped these events as too old).
	at := "2026-11-24T10:00:00Z"
	t.Setenv("BEACONGATE_PSEUDONYM_SECRET", secret)
	out, errs, code := explainRun(t, sample, "-config", cfg, "-data", data, "-ip", "127.0.0.1", "-at", at, "-json")
	if code != 0 {
		t.Fatalf("explain: exit %d\n%s", code, errs)
	}
	var o struct {
		Events []struct {
			Recipients []map[string]json.RawMessage `json:"recipients"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &o); err != nil || len(o.Events) != 1 {
		t.Fatalf("explain output (%v):\n%s", err, out)
	}
	shown := map[string]map[string]any{} // destination → the request explain shows
	var record map[string]any            // meta's record: what the request was made from
	for _, r := range o.Events[0].Recipients {
		var name string
		_ = json.Unmarshal(r["destination"], &name)
		if name != "meta" && name != "ga4" && name != "tiktok" {
			continue
		}
		if string(r["gets"]) != "true" {
			t.Fatalf("%s: gets nothing: %s", name, r["why"])
		}
		var req map[string]any
		if err := json.Unmarshal(r["request"], &req); err != nil || req == nil {
			t.Errorf("%s: explain shows no platform request, only the record: %s", name, r["record"])
			continue
		}
		shown[name] = req
		if name == "meta" {
			_ = json.Unmarshal(r["record"], &record)
		}
	}
	if len(shown) != 3 {
		t.Fatalf("explain showed the request of %d platforms of 3", len(shown))
	}
	for _, k := range []string{"user", "client", "visitor", "lang"} {
		if v, ok := record[k].(string); !ok || v == "" {
			t.Fatalf("meta's record lacks %s: the sample does not test what it should: %v", k, record)
		}
	}

	// Explain's text names what leaves, and no pseudonym for Meta.
	text, _, _ := explainRun(t, sample, "-config", cfg, "-data", data, "-ip", "127.0.0.1", "-at", at)
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "  meta: gets") && (strings.Contains(l, record["user"].(string)) || strings.Contains(l, record["visitor"].(string))) {
			t.Errorf("text output says Meta gets the pseudonyms or the visitor hash: %s", l)
		}
	}

	p := startGatewayEnv(t, []string{e2eStartEnv + "=" + at, "SSL_CERT_FILE=" + certs,
		"BEACONGATE_PSEUDONYM_SECRET=" + secret}, nil, data, cfg)
	getPixel(t, p.url("/p.gif?"+query), "User-Agent", ua, "Accept-Language", "de-DE,de;q=0.9")
	deadline := time.Now().Add(20 * time.Second)
	for meta.Stats().Events < 1 || ga.Stats().Events < 1 || tt.Stats().Events < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("delivered: meta %+v, ga4 %+v, tiktok %+v\n%s", meta.Stats(), ga.Stats(), tt.Stats(), p.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}

	// normal is v as compact JSON with sorted keys, without the event's
	// time, also in Meta's fbc (fb.1.<ms>.<fbclid>): the binary's clock
	// moved on from the instant explain used.
	normal := func(v any) string {
		if m, ok := v.(map[string]any); ok {
			for _, k := range []string{"event_time", "timestamp_micros"} {
				delete(m, k)
			}
			if ud, ok := m["user_data"].(map[string]any); ok {
				if fbc, ok := ud["fbc"].(string); ok {
					if f := strings.SplitN(fbc, ".", 4); len(f) == 4 {
						ud["fbc"] = f[0] + "." + f[1] + ".<time>." + f[3]
					}
				}
			}
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	sent := func(s *contract.Server) any {
		evs := s.Events()
		if len(evs) != 1 {
			t.Fatalf("%s: %d events, want 1", s.Platform, len(evs))
		}
		var v any
		if err := json.Unmarshal(evs[0].Raw, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		dest, events string
		s            *contract.Server
	}{{"meta", "data", meta}, {"tiktok", "data", tt}, {"ga4", "events", ga}} {
		req := shown[c.dest]
		evs, _ := req[c.events].([]any)
		if len(evs) != 1 {
			t.Errorf("%s: explain's request holds %d events: %v", c.dest, len(evs), req)
			continue
		}
		if got, want := normal(evs[0]), normal(sent(c.s)); got != want {
			t.Errorf("%s: explain shows the event\n%s\nthe platform got\n%s", c.dest, got, want)
		}
	}
	env := map[string]any{}
	for k, v := range shown["ga4"] {
		if k != "events" {
			env[k] = v
		}
	}
	if got, want := normal(env), ga.Envelopes(); len(want) != 1 || got != want[0] {
		t.Errorf("ga4: explain shows the envelope\n%s\nthe platform got\n%q", got, want)
	}
}
