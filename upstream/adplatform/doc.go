// Package adplatform delivers records to ad platforms' server-side event
// APIs: Meta's Conversions API, the GA4 Measurement Protocol and TikTok's
// Events API. Each is an upstream.Sink: it takes a batch of records as the
// shipper reads them from the spool, maps every record to the platform's
// event, sends them in requests of the platform's size limit (Meta and
// TikTok 1,000 events, GA4 25 events of one client), up to
// Options.MaxInFlight at once (a batch of 1,000 GA4 visitors is 1,000
// requests), and answers the shipper so that:
//
//   - 2xx: the events are delivered; per-event errors in the answer (GA4's
//     validation messages in test mode, TikTok's partial failures) and
//     events Meta or TikTok refuse as invalid (found by splitting the
//     refused request in halves until the bad events stand alone: Meta
//     refuses a whole request for one bad event) are counted in
//     beacongate_upstream_platform_event_errors_total and dead-lettered
//     alone (upstream.RejectedRecords), never sent again with the good ones.
//     A 2xx that does not account for each event is no acknowledgement
//     and is retried like a 5xx: a body that cannot be read, Meta's
//     events_received other than the number of events sent, a TikTok
//     answer without an integer code, or a partial failure that does not
//     name each failed event once by its index in the request. After
//     MaxUnsettled such answers in a row to one request, its events are
//     dead-lettered alone (reason "unsettled"), so that the destination's
//     later events are not held up behind them for ever;
//   - 429, 5xx, network errors and the platforms' rate-limit and transient
//     error codes: retried by the shipper after Retry-After or its backoff.
//     Requests already answered for the batch are not sent again: the sink
//     remembers which events of the batch are done. Such an answer, or a
//     refusal below, starts no further request of the batch: those in
//     flight end and what they delivered is kept; the Retry-After waited
//     is the longest among the answers;
//   - 401, 403 and the platforms' token errors: a refusal (credentials
//     rotate), retried, dead-lettered after retry.auth_dead_letter_after;
//   - 3xx: never followed (the request holds the credentials): a redirect
//     refusal, retried, named by the Location's host only, dead-lettered
//     after retry.redirect_dead_letter_after;
//   - records that cannot make a valid event (no event time, a website event
//     without the user agent Meta requires, a GA4 event without a client id)
//     are dead-lettered without being sent (reason "unmappable"), as are
//     events older than the platform takes (reason "too_old": Meta 7 days,
//     GA4 72 hours, judged by Options.Clock), TikTok events of a source
//     without a configured id (reason "no_event_source_id") and app events
//     (reason "no_app_data": Meta requires app_data, TikTok the app's id
//     and ATT status, which the gateway does not know).
//
// # Record fields read
//
// Fields absent from the record are absent from the request: the policy
// decides what a destination gets, this package only maps it. Package
// adwire describes, per platform, which record members the requests carry,
// where and in what form (TestWireDescriptionIsWhatTheMappingSends checks
// it against the mappings): change it with the mappings, since beacongate
// report and subject tell officers what each platform receives from it.
//
//	id, eid          event_id: the page's eid when present (the browser
//	                 pixel got the same one: the platform de-duplicates the
//	                 two), else our id
//	received         event_time (ble.seen for BLE sightings)
//	kind             pixel/beacon: website (beacon from an HTTP client
//	                 library, ua.class http_client: app, which neither
//	                 Meta nor TikTok gets: their app events require app
//	                 data the record does not hold (Meta app_data, TikTok
//	                 data[].app and the ATT status), and they are
//	                 dead-lettered unsent, reason "no_app_data"); ble: a
//	                 store visit (Meta physical_store, TikTok offline).
//	                 TikTok sends web events under the pixel code
//	                 (Options.ID) and offline ones under the Offline Event
//	                 Set ID (OfflineEventSetID); an event whose source has
//	                 none is dead-lettered unsent (reason
//	                 "no_event_source_id")
//	event            event name (Meta event_name, TikTok event, GA4
//	                 events[].name made to GA4's rules, "e_" put before
//	                 a reserved name or prefix); absent: PageView
//	                 (page_view for GA4), StoreVisit for BLE
//	url, referrer    event_source_url / page.url / page_location, and
//	                 page.referrer / page_referrer; a path-only url is made
//	                 absolute with the site's origin (Options.Origins)
//	ip, user_agent   client_ip_address / user.ip, client_user_agent /
//	                 user.user_agent
//	client, user     GA4 client_id (click.ga_client_id first) and user_id
//	consent          GA4 consent.ad_user_data (ads granted) and
//	                 ad_personalization (ads granted and the record's
//	                 consent.ad_personalization true: ads for personalised
//	                 advertising too; our personalization purpose is
//	                 content personalisation, not read); Meta
//	                 data_processing_options ["LDU"] and TikTok
//	                 limited_data_use when the deciding signal is
//	                 us_privacy, gpp or gpc and ads is not granted
//	                 (never for an event routed here: an ad platform
//	                 destination's requires must list ads; only records
//	                 spooled for another type of destination of the same
//	                 name before a restart retyped it)
//	props            Meta custom_data, TikTok properties, GA4 params (GA4:
//	                 session_id and engagement_time_msec pass as numbers;
//	                 names made to GA4's rules as event names are, and of
//	                 parameters whose names so become one only the first
//	                 is sent, the others counted in
//	                 beacongate_upstream_platform_dropped_params_total,
//	                 reason duplicate_name)
//
// Fields the engine adds per destination in phase 2 of issue 15, mapped
// when present:
//
//	contact          {"em","ph","fn","ln","ct","zp","country","external_id"}:
//	                 values already normalised and hashed for this
//	                 destination's platform (package contact), 64
//	                 lowercase hex; Google's ct, zp and country in clear.
//	                 Meta user_data, TikTok user.email/phone/external_id,
//	                 GA4 user_data (sha256_email_address, sha256_phone_number,
//	                 address[]; only with a user_id, which GA4 requires
//	                 beside it). A value that is not 64 lowercase hex where a
//	                 hash is due is left out, never sent.
//	click            {"fbc","fbp","ttclid","ttp","gclid","gbraid","wbraid",
//	                 "ga_client_id"}: click ids and platform cookies, as
//	                 captured; fbc/fbp to Meta (left out unless in Meta's
//	                 fb.<index>.<ms>.<value> format: a malformed fbc fails
//	                 the whole request), ttclid/ttp to TikTok,
//	                 ga_client_id as GA4's client_id.
package adplatform
