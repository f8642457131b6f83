package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A meta_capi or tiktok destination drops HTTP client libraries' events
// unless its file says otherwise: neither platform takes the app events
// they make (their sinks would dead-letter them, reason no_app_data), while
// the site-wide default keeps them ("server-to-server senders act for
// people") and other destinations inherit that.
func TestAdPlatformDestinationsDropHTTPClientsByDefault(t *testing.T) {
	tok := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tok, []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Parse("t.yaml", []byte(`
consent: {purposes: [analytics, ads]}
destinations:
  - name: meta
    type: meta_capi
    requires: [ads]
    meta_capi: {pixel_id: "1234567890", access_token_file: `+tok+`}
  - name: tt
    type: tiktok
    requires: [ads]
    tiktok: {event_source_id: C4ABC123DEF, access_token_file: `+tok+`}
    policies: {ads: {url: clean}}
  - name: lake
    type: file
`))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []BotAction{BotsDrop, BotsDrop, c.Policies.Ads.HTTPClients} {
		d := &c.Destinations[i]
		if got := d.Policies.Ads.HTTPClients; got != want {
			t.Errorf("%s: policies.ads.http_clients %v, want %v", d.Name, got, want)
		}
	}
	if c.Policies.Ads.HTTPClients != BotsKeep {
		t.Fatalf("site-wide policies.ads.http_clients %v; the test assumes keep", c.Policies.Ads.HTTPClients)
	}
	if got := c.Destinations[1].Policies.Analytics.HTTPClients; got != BotsDrop {
		t.Errorf("tt: policies.analytics.http_clients %v, want drop (only ads.url was set)", got)
	}
	// Set to keep or flag it is refused: the destination would take
	// events its platform cannot be sent.
	_, err = Parse("t.yaml", []byte(`
consent: {purposes: [analytics, ads]}
destinations:
  - name: meta-apps
    type: meta_capi
    requires: [ads]
    meta_capi: {pixel_id: "1234567890", access_token_file: `+tok+`}
    policies: {ads: {http_clients: flag}}
`))
	if err == nil || !strings.Contains(err.Error(), "destinations[0].policies.ads.http_clients: must be drop (or left out) for a meta_capi destination") {
		t.Fatalf("http_clients: flag on meta_capi: %v", err)
	}
}
