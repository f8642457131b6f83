package adplatform_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/upstream/adplatform"
)

// TestPreviewIsWhatTheSinkSends: adplatform.Preview, which beacongate
// explain shows as what leaves for the platform, gives for a record the
// very event (and GA4's envelope) the sink sends to the platform's
// contract server, without the credential; and for a record the sink
// dead-letters unsent, nothing and the reason.
func TestPreviewIsWhatTheSinkSends(t *testing.T) {
	for _, p := range []adplatform.Platform{adplatform.Meta, adplatform.GA4, adplatform.TikTok} {
		t.Run(p.String(), func(t *testing.T) {
			var opts adplatform.Options
			srv, s, _, _ := setup(t, p, func(o *adplatform.Options) { opts = *o })
			rec := fullRecord(t, p, "pixel")
			if err := send(s, batch(0, rec)); err != nil {
				t.Fatalf("send: %v", err)
			}
			opts.TokenFile = "" // Preview reads none
			body, unsent := adplatform.Preview(opts, rec)
			if unsent != "" || body == nil {
				t.Fatalf("Preview: unsent %q", unsent)
			}
			if strings.Contains(string(body), token) {
				t.Errorf("Preview shows the credential: %s", body)
			}
			var req map[string]any
			if err := json.Unmarshal(body, &req); err != nil {
				t.Fatalf("Preview's body is no JSON object: %v: %s", err, body)
			}
			key := "data"
			if p == adplatform.GA4 {
				key = "events"
			}
			evs, _ := req[key].([]any)
			sent := srv.Events()
			if len(evs) != 1 || len(sent) != 1 {
				t.Fatalf("Preview shows %d events, the platform got %d", len(evs), len(sent))
			}
			var got any
			if err := json.Unmarshal(sent[0].Raw, &got); err != nil {
				t.Fatal(err)
			}
			if a, b := compact(t, evs[0]), compact(t, got); a != b {
				t.Errorf("Preview shows\n%s\nthe platform got\n%s", a, b)
			}
			if p == adplatform.GA4 {
				delete(req, "events")
				if env := srv.Envelopes(); len(env) != 1 || compact(t, req) != env[0] {
					t.Errorf("Preview's envelope\n%s\nthe platform got\n%q", compact(t, req), env)
				}
			}
		})
	}
	// What the sinks dead-letter unsent: Meta's website event without the
	// user agent, GA4's without a client id, an app event, a TikTok store
	// visit without an offline event set id, an event too old.
	now := clock.Fixed(testNow)
	for _, c := range []struct {
		p      adplatform.Platform
		rec    []byte
		reason string
	}{
		{adplatform.Meta, fullRecord(t, adplatform.Meta, "pixel", "user_agent"), "unmappable: "},
		{adplatform.GA4, fullRecord(t, adplatform.GA4, "pixel", "client", "click.ga_client_id"), "unmappable: "},
		{adplatform.TikTok, fullRecord(t, adplatform.TikTok, "ble"), "no_event_source_id: "},
		{adplatform.Meta, []byte(strings.Replace(string(fullRecord(t, adplatform.Meta, "pixel")), `"received":"2026-12-04`, `"received":"2026-11-04`, 1)), "too_old: "},
		{adplatform.Meta, []byte(strings.Replace(string(fullRecord(t, adplatform.Meta, "pixel")), `"bot":false`, `"bot":false,"class":"http_client"`, 1)), "no_app_data: "},
	} {
		body, unsent := adplatform.Preview(adplatform.Options{Platform: c.p, ID: pixelID, Clock: now}, c.rec)
		if body != nil || !strings.HasPrefix(unsent, c.reason) {
			t.Errorf("%v: Preview gives %s, %q; want nothing, %q...", c.p, body, unsent, c.reason)
		}
	}
}

// compact is v as JSON with sorted keys.
func compact(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
