package adplatform_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/upstream/adplatform"
)

const (
	tiktokAppID    = "7300000000000000001"
	tiktokEventSet = "7300000000000000002"
)

// sourceRecs returns a web event (a browser's pixel), an app event (an
// HTTP client library's) and an offline one (a BLE store visit).
func sourceRecs() [][]byte {
	app := strings.Replace(string(rec(2, "c", false)), `"user_agent":`, `"ua":{"class":"http_client"},"user_agent":`, 1)
	ble := strings.Replace(string(rec(3, "c", false)), `"kind":"pixel"`, `"kind":"ble"`, 1)
	return [][]byte{rec(1, "c", false), []byte(app), []byte(ble)}
}

// TikTok's event_source_id is the Pixel code for web events and the
// Offline Event Set ID for offline ones: each source's request carries its
// own, which the contract checks. An app event is not sent: TikTok wants
// the app's own id (data[].app.app_id) and, on iOS, the ATT status, which
// the gateway does not know (the contract refuses app events without
// them); it is dead-lettered unsent (reason no_app_data).
func TestTikTokEventSourceIDs(t *testing.T) {
	srv, s, _, reg := setup(t, adplatform.TikTok, func(o *adplatform.Options) { o.OfflineEventSetID = tiktokEventSet })
	srv.SetSourceID("app", tiktokAppID) // the account has an app
	srv.SetSourceID("offline", tiktokEventSet)
	rej := rejectedOf(send(s, batch(0, sourceRecs()...)))
	if !slices.Equal(rej, []int{1}) {
		t.Fatalf("rejected %v; want the app event [1]", rej)
	}
	if st := srv.Stats(); st.Events != 2 || st.Requests != 2 || len(st.Refused) > 0 {
		t.Fatalf("stats %+v; want 2 events in 2 requests (web, offline)", st)
	}
	if got := counter(t, reg, "beacongate_upstream_platform_event_errors_total", map[string]string{"reason": "no_app_data"}); got != 1 {
		t.Fatalf("no_app_data %v", got)
	}
}

// An event whose source has no id configured is not sent under another
// source's id: it is dead-lettered unsent (reason no_event_source_id).
func TestTikTokNoSourceIDNotSent(t *testing.T) {
	srv, s, _, reg := setup(t, adplatform.TikTok, nil)
	srv.SetSourceID("offline", tiktokEventSet) // the account has the event set: the gateway was not told it
	rej := rejectedOf(send(s, batch(0, sourceRecs()...)))
	if !slices.Equal(rej, []int{1, 2}) {
		t.Fatalf("rejected %v; want the app and offline events [1 2]", rej)
	}
	if st := srv.Stats(); st.Events != 1 || st.Requests != 1 || len(st.Refused) > 0 {
		t.Fatalf("stats %+v", st)
	}
	if got := counter(t, reg, "beacongate_upstream_platform_event_errors_total", map[string]string{"reason": "no_event_source_id"}); got != 1 {
		t.Fatalf("no_event_source_id %v", got)
	}
	// A destination for store visits alone needs no pixel code.
	srv2, s2, _, _ := setup(t, adplatform.TikTok, func(o *adplatform.Options) { o.ID, o.OfflineEventSetID = "", tiktokEventSet })
	srv2.SetSourceID("web", "")
	srv2.SetSourceID("offline", tiktokEventSet)
	if rej := rejectedOf(send(s2, batch(0, sourceRecs()...))); !slices.Equal(rej, []int{0, 1}) {
		t.Fatalf("rejected %v; want the web and app events [0 1]", rej)
	}
	if st := srv2.Stats(); st.Events != 1 || len(st.Refused) > 0 {
		t.Fatalf("stats %+v", st)
	}
}
