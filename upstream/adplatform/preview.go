package adplatform

import (
	"github.com/beacongate/beacongate/clock"
)

// Preview returns the request body a sink built from o would send to the
// platform for record alone, or why it would dead-letter the record unsent
// instead: the reason label of beacongate_upstream_platform_event_errors_total
// ("unmappable", "too_old", "no_app_data", "no_event_source_id"; see the
// package doc) and what it means. It runs the sink's own
// mapping, sends nothing and reads no token file: the credential is left
// out (Meta's access_token; GA4's API secret is in the URL, not the body).
// beacongate explain shows with it what really leaves for the platform.
// Of o it reads Platform, ID, OfflineEventSetID, TestEventCode, Origins
// and Clock (an event's age is judged by it, as the sink judges it when it
// maps the batch).
func Preview(o Options, record []byte) (body []byte, reason string) {
	s := &Sink{o: o, clock: clock.Or(o.Clock)}
	s.nowMS = s.clock.Now().UnixMilli()
	r := &s.rec
	if !parseRecord(&s.parser, record, r) {
		return nil, previewWhy(reasonUnmappable)
	}
	defer func() { reason = previewWhy(reason) }()
	var ev []byte
	switch o.Platform {
	case Meta:
		if ev, reason = s.appendMetaEvent(nil, r); reason != "" {
			return nil, reason
		}
		return s.appendMetaBody(nil, [][]byte{ev}), ""
	case TikTok:
		if ev, reason = s.appendTikTokEvent(nil, r); reason != "" {
			return nil, reason
		}
		return s.appendTikTokBody(nil, tiktokSource(r), [][]byte{ev}), ""
	case GA4:
		var env []byte
		if env, reason = s.appendGA4Envelope(nil, r); reason != "" {
			return nil, reason
		}
		if ev, reason = s.appendGA4Event(nil, r); reason != "" {
			return nil, reason
		}
		return appendGA4Body(nil, env, [][]byte{ev}), ""
	}
	return nil, reasonUnmappable
}

// previewWhy says what an unsent reason means, after its label.
func previewWhy(reason string) string {
	switch reason {
	case "":
		return ""
	case reasonUnmappable:
		return reason + ": the record makes no valid event for the platform (Meta: a website event needs the user agent as sent and the page URL, and some customer information; GA4: a client id; every platform: the event's time)"
	case reasonTooOld:
		return reason + ": the event is older than the platform takes (Meta 7 days, GA4 72 hours)"
	case reasonNoAppData:
		return reason + ": an app event (sent by an HTTP client library), whose app data the platform requires and the gateway does not know"
	case reasonNoSourceID:
		return reason + ": no event source id is configured for the event's source (TikTok: event_source_id for web events, offline_event_set_id for store visits)"
	}
	return reason
}
