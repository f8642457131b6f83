package config

// Config is one beacongate configuration file after parsing: defaults are
// filled in and every value has been validated. Treat a *Config as
// immutable once it is shared; build a new one to change anything.
//
// The field comments below are written for the people who edit the file.
// They become the descriptions in config.schema.json and the reference in
// docs/config.md, so keep them in plain language.
type Config struct {
	// Listeners, timeouts and request limits.
	Server Server `yaml:"server"`
	// Sites that may send events, each with the web origins allowed to send
	// from a browser. An empty list accepts any site id and answers no CORS
	// preflight, which suits server-to-server senders only.
	Sites []Site `yaml:"sites"`
	// Custom event properties that may be kept.
	Properties Properties `yaml:"properties"`
	// What the scanner removes from page URLs, referrers and kept free text,
	// beyond its built-in rules.
	Scan Scan `yaml:"scan"`
	// How consent signals are read and merged into the set of granted purposes.
	Consent Consent `yaml:"consent"`
	// How pseudonyms for user, client and device ids and the visitor hash are keyed.
	Pseudonym Pseudonym `yaml:"pseudonym"`
	// The optional GeoIP database used to derive coarse location.
	GeoIP GeoIP `yaml:"geoip"`
	// What is kept of each field, per consent state.
	Policies Policies `yaml:"policies"`
	// Where anonymized events are shipped. Each event goes to every destination
	// whose requires list is covered by the purposes granted for that event.
	// At most 64.
	Destinations []Destination `yaml:"destinations"`
	// The on-disk queue that holds accepted events until every destination
	// has taken them.
	Spool Spool `yaml:"spool"`
	// What becomes of BLE sightings: per-sighting records or edge aggregates.
	BLE BLE `yaml:"ble"`
	// Retention, the audit log, the pseudonym key store and suppressed subjects.
	Privacy Privacy `yaml:"privacy"`

	source string   // file name given to Parse; for messages only
	empty  bool     // the file held no settings (empty, or only comments)
	notes  []string // see Notes
}

// Server holds the listeners, timeouts and request limits.
type Server struct {
	// Address of the public listener for pixels, beacons and BLE pings, as host:port.
	Listen string `yaml:"listen"`
	// Address of the admin listener, as host:port. GET /metrics, /healthz and
	// /readyz answer anyone who can reach it; POST /-/reload, GET /tap and
	// /debug/pprof/ answer only loopback peers or, with admin_token_file,
	// only requests carrying its token as "Authorization: Bearer TOKEN".
	Admin string `yaml:"admin"`
	// Longest time to read one request, headers and body (100ms..5m).
	// Timeouts are armed coarsely: they fire never early and at most
	// 250ms late.
	ReadTimeout Duration `yaml:"read_timeout"`
	// Longest time to write one response (100ms..5m).
	WriteTimeout Duration `yaml:"write_timeout"`
	// How long an idle keep-alive connection stays open (1s..1h).
	IdleTimeout Duration `yaml:"idle_timeout"`
	// Largest request line and header block accepted together
	// (1KiB..64KiB): a pixel's query counts, so a pixel carrying a long
	// page URL and a TC or GPP string may need more than the default. A
	// larger request gets 431.
	MaxHeaderBytes ByteSize `yaml:"max_header_bytes"`
	// Largest request body accepted (64KiB..1MiB). Browsers cap sendBeacon
	// bodies at 64KiB, so less would reject legitimate beacons. A larger
	// body gets 413 on every path: up to twice this size, when its length
	// is announced, it is read, dropped and the connection kept open;
	// beyond that, or chunked, it is refused unread and the connection
	// closed. A connection that sent such a body keeps a body buffer of up
	// to twice what a body at the limit leaves it (128KiB by default).
	MaxBodyBytes ByteSize `yaml:"max_body_bytes"`
	// Most concurrent connections from one peer address: the socket's, so
	// behind a reverse proxy it limits the proxy, not each client; an IPv6
	// address is counted by its /64, from which one host may pick any
	// address (an IPv4-mapped one as its IPv4 address). A
	// connection beyond it has its request answered 429 naming this key
	// and is closed, counted in beacongate_gateway_rejected_total (reason
	// too_many_connections). See max_requests_per_client for a limit per
	// client.
	MaxConnsPerIP int `yaml:"max_conns_per_ip" jsonschema:"minimum=1,maximum=1000000"`
	// Most events accepted in one beacon request; larger batches are rejected whole.
	MaxEventsPerRequest int `yaml:"max_events_per_request" jsonschema:"minimum=1,maximum=10000"`
	// Most BLE sightings accepted in one request from a store; larger batches are rejected whole.
	MaxSightingsPerRequest int `yaml:"max_sightings_per_request" jsonschema:"minimum=1,maximum=100000"`
	// Oldest BLE sighting time accepted, before the receive time (1m..90d).
	// Store sensors that buffer while offline send old sightings; a time
	// further back is a clock bug, and the request is rejected.
	MaxSightingAge Duration `yaml:"max_sighting_age"`
	// Latest BLE sighting time accepted, after the receive time (1s..1h):
	// the clock skew allowed to a sensor.
	MaxSightingAhead Duration `yaml:"max_sighting_ahead"`
	// Networks of reverse proxies and load balancers whose client_ip_header
	// is believed, as CIDRs ("10.0.0.0/8") or single addresses. When the
	// peer is one of them, the client address is the rightmost address in
	// client_ip_header (all its header lines, in order) that is not in
	// these networks. Empty: no header is read and the peer address is the client.
	TrustedProxies []CIDR `yaml:"trusted_proxies"`
	// The one header trusted proxies append the client's address to:
	// X-Forwarded-For, Forwarded (RFC 7239, its for= parameter) or another
	// comma-separated list of addresses such as X-Real-IP. Every other
	// forwarding header is ignored, since a client can send any of them.
	ClientIPHeader string `yaml:"client_ip_header"`
	// Most requests from one client address in progress at once, counted on
	// the address resolved through trusted_proxies (an IPv6 address by its
	// /64, from which one host may pick any address); more are answered 429.
	// It is what max_conns_per_ip cannot be behind a proxy.
	MaxRequestsPerClient int `yaml:"max_requests_per_client" jsonschema:"minimum=1,maximum=1000000"`
	// Directory for the spool and the local file sink unless they name their
	// own, and for the dead letters, the audit log and the saved policies.
	// One gateway per directory: a second start on it (even with a
	// spool.dir of its own) is refused while the first runs. The -data
	// command-line flag overrides it.
	DataDir string `yaml:"data_dir"`
	// File holding the bearer token that the admin listener's mutating and
	// sensitive endpoints (POST /-/reload, GET /tap, /debug/pprof/) then
	// require from every peer, loopback ones too, as "Authorization: Bearer
	// TOKEN" (401 without it). Surrounding white space is ignored; at least
	// 16 printable ASCII characters, no white space inside, in a file of at
	// most 4 KiB; not readable or writable by
	// every user. Empty: those endpoints answer loopback peers only.
	AdminTokenFile string `yaml:"admin_token_file"`
	// Most connections open at once on the public listener. More wait in the
	// kernel's accept queue; at the cap the oldest idle keep-alive connection
	// is closed to make room. 0: derived from the open-file limit
	// (RLIMIT_NOFILE), leaving room for the spool, sinks and admin listener.
	// A cap above what the limit leaves would run the gateway out of file
	// descriptors under load: config check notes it and the gateway warns
	// at start; raise the limit (ulimit -n, LimitNOFILE=) or lower the cap.
	MaxConns int `yaml:"max_conns" jsonschema:"minimum=0,maximum=10000000"`
	// On SIGTERM or SIGINT, how long /readyz answers 503 while the listener
	// still serves, so a load balancer stops sending traffic before the
	// listener closes (0s..5m).
	DrainDelay Duration `yaml:"drain_delay"`
	// On SIGTERM or SIGINT, after drain_delay: the longest time to finish
	// in-flight requests and flush delivery; what is not shipped stays in
	// the spool (1s..10m). Keep drain_delay + shutdown_timeout below the
	// orchestrator's kill timeout (Docker: 10s, docker stop -t).
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
}

// Site is one site (website, app or store) allowed to send events.
type Site struct {
	// Site id as sent by the tracker (letters, digits, '.', '_' and '-'; up to 64).
	ID string `yaml:"id" jsonschema:"required"`
	// Browser origins allowed to send events for this site, as
	// scheme://host[:port] with no path, e.g. "https://shop.example.com".
	// Empty: no CORS, so browsers cannot send cross-origin beacons for it.
	Origins []string `yaml:"origins"`
	// Whether this site's events are posted server-to-server (an app
	// backend, a store's BLE box) rather than by the visitor's browser.
	// Then the client address is the sending server's, not the visitor's:
	// its events get no ip, no geo and no visitor hash, and an HTTP client
	// user agent (python-requests, okhttp, ...) is never dropped or flagged,
	// whatever http_clients says. Crawlers still follow bots. Records carry
	// "server_to_server": true. Such a site takes no origins.
	ServerToServer bool `yaml:"server_to_server"`
	// Path patterns of this site's pages, such as "/products/{sku}" or
	// "/user/{id}/orders": structure before scanning. A page URL whose path
	// has as many segments as a route and the same literal segments
	// matches it (the first match wins); each placeholder segment is
	// treated by its type: {sku} keeps a product code (letters, digits,
	// '.', '_', '-', up to 64 bytes), {number} keeps up to 20 digits,
	// {slug} keeps a word-like segment (the shape rule, up to 128 bytes),
	// {uuid} keeps a UUID, and {opaque} or {id} always becomes "{id}". A
	// value that does not fit its type becomes "{id}". Placeholders may be
	// named: {order:uuid}. Without a match, where a policy keeps the URL
	// path only (url: path), a segment is kept only when it has the shape
	// of a path word (letters, digits and '-', an optional ".ext", at most
	// scan.path_max_length bytes and scan.path_max_digit_percent % digits,
	// few case changes), else it becomes "{id}". When origins are listed,
	// the page URL's host must be one of theirs: a sub-domain of one is
	// reduced to it, any other host drops the URL.
	Routes []string `yaml:"routes"`
}

// Properties controls custom event properties.
type Properties struct {
	// Names of custom properties that may be kept (where the policy says
	// properties: allowlist). Other properties are dropped. Kept values are
	// still scanned: an e-mail address, phone number, IP address or card
	// number in one is replaced by a marker such as [email].
	Allow []string `yaml:"allow"`
}

// Scan extends the personal-data scanner that cleans URLs, referrers and
// kept free text. Built in: the click ids gclid, gbraid, wbraid, dclid,
// fbclid, msclkid, ttclid, twclid, li_fat_id, mc_eid, _hsenc, _hsmi, igshid,
// yclid, srsltid, mkt_tok, oly_enc_id, vero_id, epik, _kx, sccid,
// rdt_cid, irclickid, qclid, ck_subscriber_id, ml_subscriber,
// ml_subscriber_hash, _gl and _ga (also
// never a property, allowlisted or not); parameters named like e-mail,
// phone, password, token, session or the site's user id (uid, user_id,
// ...); and any value that looks like an e-mail address, phone number,
// card number, IBAN or long token.
type Scan struct {
	// More click-id parameter names to remove from queries and fragments
	// (matched case-insensitively, with '-' and '_' alike, a name of several
	// words also run together as camel case writes it, after decoding;
	// up to 64 bytes of printable ASCII without spaces, '&', '=', '#', '?'
	// or '%').
	ExtraClickIDs []string `yaml:"extra_click_ids"`
	// More parameter names to remove whatever their value (written as
	// extra_click_ids are; in URLs, a name of several words also as the
	// last words of a longer name: loyalty_card removes
	// member-loyalty-card and memberLoyaltyCard).
	DropParams []string `yaml:"drop_params"`
	// Whether utm_* campaign parameters are removed too. By default they are
	// kept (their values are still scanned).
	DropUTM bool `yaml:"drop_utm"`
	// Whether UUIDs are kept. By default a UUID in a URL is treated as a
	// token and removed, since it often names a user, session or order.
	KeepUUIDs bool `yaml:"keep_uuids"`
	// Longest path segment kept by the path-shape rule (see sites[].routes);
	// 0 means 32.
	PathMaxLength int `yaml:"path_max_length" json:",omitempty" jsonschema:"minimum=0,maximum=1024"`
	// Largest share of digits, in percent, in a path segment kept by the
	// path-shape rule; 0 means 30, 100 allows any.
	PathMaxDigitPercent int `yaml:"path_max_digit_percent" json:",omitempty" jsonschema:"minimum=0,maximum=100"`
}

// Consent controls how consent signals become granted purposes.
type Consent struct {
	// The purposes this deployment uses. A purpose not listed here is never
	// granted, whatever a signal says, and no destination may require it.
	// analytics and ads choose the policy; every purpose can gate destinations.
	Purposes []Purpose `yaml:"purposes"`
	// Purposes granted to a request that carries no consent signal at all,
	// and what a malformed or rejected signal (a TC string that does not
	// decode or has expired, gdpr=1 without one) says for the purposes it
	// speaks for, but never for one a readable signal on the same request
	// refuses. Must be a subset of purposes. Keep it empty unless you have
	// another legal basis for processing without consent.
	Default []Purpose `yaml:"default"`
	// How several signals on one request are combined. most_restrictive: a
	// purpose is granted only if every signal present grants it. priority: the
	// first signal present in the priority list decides alone.
	Merge MergeRule `yaml:"merge"`
	// Signal order for merge: priority. The grant signals (explicit, tcf,
	// gpp, consent_mode) not listed are ignored in that mode; at least one
	// must be listed. The opt-outs
	// (us_privacy, gpc, dnt, and a gpp string's US sections) only ever
	// withdraw purposes: they apply whether listed or not, wherever listed
	// (gpc and dnt unless honour_opt_out_signals is false).
	Priority []Signal `yaml:"priority"`
	// Whether Global Privacy Control (Sec-GPC: 1) and Do Not Track (DNT: 1)
	// withdraw ads and personalization, whatever the other signals say.
	HonourOptOutSignals bool `yaml:"honour_opt_out_signals"`
	// IAB TCF v2 settings.
	TCF TCF `yaml:"tcf"`
	// What to do with an IAB GPP string. honour: decode it like the other
	// signals. reject: do not decode it; a request carrying one (or a gpp_sid
	// without one) is treated as refusing every purpose.
	GPP GPPMode `yaml:"gpp"`
}

// TCF holds the IAB Transparency and Consent Framework v2 settings.
type TCF struct {
	// Our IAB Global Vendor List id (1..65535). When set, a TC string grants a
	// purpose only if this vendor also has consent, and, if the string has a
	// disclosed vendors segment (TCF v2.3), is listed in it. 0: no vendor
	// check.
	VendorID int `yaml:"vendor_id" jsonschema:"minimum=0,maximum=65535"`
	// true: a TC string that cannot be decoded refuses every purpose. false:
	// such a string is ignored as if it were absent when purposes are
	// decided; GDPR still applies (gdpr=1, or the string without gdpr=0), so
	// destinations are still held to their TCF vendor checks, which refuse
	// every vendor for want of a usable TC string.
	RequireValid bool `yaml:"require_valid"`
	// Which TCF purposes and special features must all be granted for each of
	// our purposes.
	Mapping TCFMapping `yaml:"mapping"`
	// Path of the IAB Global Vendor List (vendor-list.json) on disk. When
	// set, the purposes of each destination's tcf.vendor_id come from it
	// (a vendor_id not in the list is an error), and the file is re-read
	// on reload. Empty: destinations declare them under tcf.
	GVLFile string `yaml:"gvl_file"`
	// Oldest TC string, by its last update at the request's arrival, that
	// grants anything (1d..3650d). The IAB policy asks CMPs to renew
	// consent after 13 months, about 395 days. Older strings, strings dated
	// in the future, and strings last updated before they were created
	// decode but grant nothing.
	MaxAge Duration `yaml:"max_age"`
}

// TCFMapping maps each beacongate purpose to TCF purposes and special features.
type TCFMapping struct {
	// TCF requirements for analytics.
	Analytics TCFRule `yaml:"analytics"`
	// TCF requirements for ads.
	Ads TCFRule `yaml:"ads"`
	// TCF requirements for personalization.
	Personalization TCFRule `yaml:"personalization"`
	// TCF requirements for precise_geo.
	PreciseGeo TCFRule `yaml:"precise_geo"`
	// TCF requirements for device_storage.
	DeviceStorage TCFRule `yaml:"device_storage"`
}

// TCFRule lists the TCF purposes and special features that must all be
// granted for one beacongate purpose.
type TCFRule struct {
	// TCF purpose ids (1..11) that must all have consent.
	Purposes []TCFPurpose `yaml:"purposes"`
	// TCF special feature ids (1..2) that must all be opted in.
	SpecialFeatures []TCFFeature `yaml:"special_features"`
}

// Pseudonym controls pseudonym keys.
type Pseudonym struct {
	// How the pseudonym key is made. ephemeral: a random key is made at start
	// and replaced every period; it is never written down, so no one can
	// re-identify, but pseudonyms change on restart and differ between
	// gateway instances. derived: the key for each period is derived from a
	// secret, so all instances agree and restarts keep pseudonyms; whoever
	// holds the secret can re-identify.
	Mode PseudonymMode `yaml:"mode"`
	// How long one pseudonym key lives (1m..2160h). After that a new key
	// starts and old pseudonyms cannot be linked to new ones by their keys.
	// The visitor hash keeps its UTC day whatever the period: with a period
	// shorter than a day and visitor_hash on, a record's visitor hash, the
	// same all day for one browser and address (for a BLE sighting, one
	// device), links its pseudonyms of the day's periods; set visitor_hash:
	// false where that must not be.
	Period Duration `yaml:"period"`
	// File holding the secret for mode: derived (at least 32 bytes). It must
	// not be readable or writable by every user. Relative paths are relative to the
	// working directory.
	SecretFile string `yaml:"secret_file"`
	// Environment variable holding the secret for mode: derived (at least 32
	// bytes). Checked when the gateway starts.
	SecretEnv string `yaml:"secret_env"`
	// Whether the daily visitor hash (a keyed hash of site, address and user
	// agent, or of a BLE sighting's device id, whose key changes every UTC
	// day whatever pseudonym.period is) is made at all. false turns it off
	// in every policy.
	VisitorHash bool `yaml:"visitor_hash"`
}

// GeoIP controls location lookups.
type GeoIP struct {
	// Path of a MaxMind GeoIP2/GeoLite2 City or Country database. Empty: no
	// location. Re-read on reload.
	Database string `yaml:"database"`
	// Which address is looked up. full: the address as received, before the
	// policy truncates it (more accurate). truncated: the address after the
	// policy's ip rule (where that drops it, the address cut to /24 or /48,
	// as for the visitor hash), so the full address is never used for
	// anything.
	LookupFrom LookupFrom `yaml:"lookup_from"`
}

// Policies holds one policy per consent state. The policy applied to an
// event is ads when analytics and ads are both granted, else analytics when
// analytics is granted, else none.
type Policies struct {
	// Applied when analytics is not granted. The built-in default keeps
	// nothing that identifies a person.
	None Policy `yaml:"none"`
	// Applied when analytics is granted but ads is not.
	Analytics Policy `yaml:"analytics"`
	// Applied when analytics and ads are both granted.
	Ads Policy `yaml:"ads"`
}

// Policy says, field by field, what is kept of an event.
type Policy struct {
	// Client IP address.
	IP IPRule `yaml:"ip"`
	// Location derived from the IP address.
	Geo GeoRule `yaml:"geo"`
	// User-Agent header.
	UserAgent UARule `yaml:"user_agent"`
	// Requests from crawlers: search engine and other bots, headless
	// browsers (HeadlessChrome, PhantomJS) and uptime checkers. keep: treat
	// as people. flag: keep and mark as bot. drop: discard the event. HTTP
	// client libraries are not crawlers: see http_clients.
	Bots BotAction `yaml:"bots"`
	// Requests whose user agent is an HTTP client library or tool
	// (python-requests, Go-http-client, okhttp, Java, Dart, curl, ...): what
	// app backends, store boxes and native apps send with. keep: treat as
	// people. flag: keep and mark as http_client. drop: discard the event.
	// Where the user agent is recorded (reduce or keep), the record's ua
	// says the class either way. Ignored for sites with server_to_server.
	// In a meta_capi or tiktok destination's policies, drop (the default
	// there, and the only value): neither platform takes the app events
	// these records make, from any site, server_to_server ones included.
	HTTPClients BotAction `yaml:"http_clients"`
	// The site's own user id (e.g. a login). drop or pseudonymize (keyed hash
	// that changes every pseudonym period).
	UserID IDAction `yaml:"user_id"`
	// The tracker's client id (e.g. a first-party cookie value). drop or pseudonymize.
	ClientID IDAction `yaml:"client_id"`
	// Device ids: BLE MAC addresses and mobile advertising ids. drop or pseudonymize.
	DeviceID IDAction `yaml:"device_id"`
	// Page URL. drop; path: origin and path, no query or fragment (path
	// segments holding personal data become markers such as [email]);
	// clean: origin, path, query and fragment with click ids and every
	// parameter or segment that looks like personal data (e-mail, phone,
	// card number, IBAN, token) removed, utm_* kept; keep: as sent.
	URL URLAction `yaml:"url"`
	// Referrer URL. drop; origin: scheme and host only; path: origin and
	// path; clean: like url: clean; keep: as sent.
	Referrer ReferrerAction `yaml:"referrer"`
	// Accept-Language header. primary: first language only, without region
	// ("de"); drop.
	AcceptLanguage LanguageAction `yaml:"accept_language"`
	// Custom properties. drop: none; allowlist: only those named in
	// properties.allow.
	Properties PropertiesAction `yaml:"properties"`
	// Whether the event carries the daily visitor hash (see pseudonym.visitor_hash).
	VisitorHash bool `yaml:"visitor_hash"`
	// Contact data the page sends for an ad platform's matching (props em,
	// ph, fn, ln, ct, zp, country, external_id). drop: never recorded.
	// hash: normalised as the destination's platform documents and
	// SHA-256-hashed before the event is stored; only in the policies of a
	// meta_capi, ga4 or tiktok destination. Whatever the action, these
	// props never appear in props.
	Contact ContactAction `yaml:"contact"`
	// Click ids and ad platform cookies (gclid, gbraid, wbraid, fbclid as
	// fbc, _fbc, _fbp, ttclid, _ttp, _ga), from props or the page URL's
	// query. drop: never recorded. keep: recorded in the click field; only
	// in a destination's own policies, for the platform that needs them.
	ClickIDs ClickIDAction `yaml:"click_ids"`
}

// IPRule says what is kept of the client IP address.
type IPRule struct {
	// drop: nothing. truncate: the network part only (see v4_prefix and
	// v6_prefix). keep: the whole address.
	Action IPAction `yaml:"action"`
	// Bits of an IPv4 address kept by action: truncate (0..32). 24 keeps
	// 203.0.113.0 of 203.0.113.77.
	V4Prefix int `yaml:"v4_prefix" jsonschema:"minimum=0,maximum=32"`
	// Bits of an IPv6 address kept by action: truncate (0..128). 48 keeps
	// roughly the site or provider; 64 can still single out one household.
	V6Prefix int `yaml:"v6_prefix" jsonschema:"minimum=0,maximum=128"`
}

// GeoRule says how precise the derived location may be.
type GeoRule struct {
	// Finest location kept: none, continent, country, region or city.
	Level GeoLevel `yaml:"level"`
	// Coordinates are rounded to this grid, in degrees (0.01..10; 0.1° is
	// about 11 km). 0: no coordinates. Needs level: city.
	Grid float64 `yaml:"grid" jsonschema:"minimum=0,maximum=10"`
}

// UARule says what is kept of the User-Agent header.
type UARule struct {
	// drop: nothing. reduce: browser family and major version, OS family and
	// device class only. keep: the header as sent.
	Action UAAction `yaml:"action"`
}

// MaxDestinations is the most destinations a config may list: the spool
// routes each event with one bit per destination (a 64-bit route), and the
// engine's plan holds as many (plan.MaxDestinations, which must agree).
const MaxDestinations = 64

// Destination is one place anonymized events are shipped to.
type Destination struct {
	// Unique name, used in logs and metrics (lower-case letters, digits, '_'
	// and '-'; up to 32).
	Name string `yaml:"name" jsonschema:"required,pattern=^[a-z0-9][a-z0-9_-]*$,maxLength=32"`
	// Kind of destination: file (local files), http (POST batches to a URL)
	// kafka (produce to a topic), nats (publish to a JetStream stream), or an
	// ad platform's event API: meta_capi (Meta Conversions API), ga4 (GA4
	// Measurement Protocol), tiktok (TikTok Events API). Only the block of
	// the same name may be set.
	Type DestinationType `yaml:"type" jsonschema:"required"`
	// Purposes that must all be granted for an event to be sent here. Each
	// must be listed in consent.purposes. Empty: every event.
	Requires []Purpose `yaml:"requires"`
	// This destination's own policies, per consent state. A key set here
	// replaces that key of the site-wide policies for this destination
	// only; keys left out follow the site-wide policies (e.g. policies:
	// {ads: {user_agent: {action: reduce}}} keeps the full user agent from
	// this destination while others under the ads policy still get it).
	// Destinations whose policies end up equal share one record per event.
	Policies Policies `yaml:"policies"`
	// This recipient under IAB TCF: where GDPR applies (gdpr=1, or a TC
	// string without gdpr=0), an event goes here only if the TC string
	// gives this vendor what its purposes need.
	TCF DestinationTCF `yaml:"tcf"`
	// When a batch is closed and shipped.
	Batch Batch `yaml:"batch"`
	// Compression of each batch: zstd, gzip or none. A file destination
	// writes zstd only (.ndjson.zst files); nats (a message per record)
	// and the ad platforms (their own request formats) compress nothing
	// and refuse this key and level.
	Compression Compression `yaml:"compression"`
	// Compression level. 0: the codec's default (zstd: fastest, which costs
	// the least CPU for a ratio within a few percent of level 3; gzip: 6).
	// zstd: the zstd command's levels 1..9 (1-2 fastest, 3-5 default, 6-9
	// better). gzip: 1..9. none: must be 0.
	Level int `yaml:"level" jsonschema:"minimum=0,maximum=9"`
	// Settings for type: file.
	File FileDestination `yaml:"file"`
	// Settings for type: http.
	HTTP HTTPDestination `yaml:"http"`
	// Settings for type: kafka.
	Kafka KafkaDestination `yaml:"kafka"`
	// Settings for type: nats.
	NATS NATSDestination `yaml:"nats"`
	// Settings for type: meta_capi.
	MetaCAPI MetaCAPIDestination `yaml:"meta_capi"`
	// Settings for type: ga4.
	GA4 GA4Destination `yaml:"ga4"`
	// Settings for type: tiktok.
	TikTok TikTokDestination `yaml:"tiktok"`
}

// MetaCAPIDestination holds the settings of a meta_capi destination: events
// are POSTed to <endpoint>/<api_version>/<pixel_id>/events, up to 1,000 per
// request.
type MetaCAPIDestination struct {
	// The Meta pixel (data set) id: digits.
	PixelID string `yaml:"pixel_id"`
	// File holding the Conversions API access token on its first line (a
	// blank first line is refused). It must not be readable by every user. Read at start, and again after Meta refuses
	// the token: write a rotated token here, no restart needed.
	AccessTokenFile string `yaml:"access_token_file"`
	// Test mode: events carry this code and show in Events Manager's Test
	// Events tool instead of the live data set. Empty: live.
	TestEventCode string `yaml:"test_event_code"`
	// Graph API version, e.g. v23.0.
	APIVersion string `yaml:"api_version"`
	// Base URL of the Graph API (a test server's, in tests).
	Endpoint string `yaml:"endpoint"`
	// Longest time for one request (100ms..5m).
	Timeout Duration `yaml:"timeout"`
	// Backoff between failed attempts (429 and 5xx honour Retry-After).
	Retry Retry `yaml:"retry"`
}

// GA4Destination holds the settings of a ga4 destination: events are POSTed
// to <endpoint>/mp/collect, up to 25 of one client per request.
type GA4Destination struct {
	// The web data stream's measurement id, G-XXXXXXX.
	MeasurementID string `yaml:"measurement_id"`
	// File holding the Measurement Protocol API secret on its first line
	// (a blank first line is refused). It must not be readable by every
	// user. Read at start and again before every batch:
	// GA4 refuses no secret (it answers a wrong one with 2xx and drops the
	// events), so write a rotated secret here before deleting the old one
	// in GA4; no restart needed.
	APISecretFile string `yaml:"api_secret_file"`
	// Test mode: send to the validation server (/debug/mp/collect), which
	// records nothing and lists what it would refuse; refused events are
	// counted and dead-lettered.
	TestMode bool `yaml:"test_mode"`
	// Base URL of the Measurement Protocol (a test server's, in tests).
	Endpoint string `yaml:"endpoint"`
	// Longest time for one request (100ms..5m).
	Timeout Duration `yaml:"timeout"`
	// Most requests of a batch sent at once (1..64). GA4 takes 25 events
	// of one client per request, so a batch of 1,000 visitors is 1,000
	// requests: 8 at a time at a 50-100 ms round trip drain 80-160
	// visitors a second, one at a time 10-20. An answer that stops the
	// batch (429, 5xx, a refusal) starts no further request.
	MaxInFlight int `yaml:"max_in_flight" jsonschema:"minimum=1,maximum=64"`
	// Backoff between failed attempts (429 and 5xx honour Retry-After).
	Retry Retry `yaml:"retry"`
}

// TikTokDestination holds the settings of a tiktok destination: events are
// POSTed to <endpoint>/open_api/v1.3/event/track/, up to 1,000 of one event
// source (web or offline) per request, each source under its own id.
// At least one of event_source_id and offline_event_set_id is required; an
// event whose source has no id here is not sent and goes to the dead
// letters (reason no_event_source_id). App events (of HTTP client
// libraries) are never sent: TikTok requires app data the gateway does not
// know (reason no_app_data); policies.ads.http_clients defaults to drop
// for this destination.
type TikTokDestination struct {
	// The TikTok pixel code: capital letters and digits. The
	// event_source_id of web events (pixel and beacon events of browsers).
	EventSourceID string `yaml:"event_source_id"`
	// The Offline Event Set ID from Events Manager: digits. The
	// event_source_id of offline events (BLE store visits). Empty: offline
	// events are not sent; they go to the dead letters.
	OfflineEventSetID string `yaml:"offline_event_set_id"`
	// File holding the Events API access token on its first line (a blank
	// first line is refused). It must not be readable by every user. Read at start, and again after TikTok refuses the
	// token: write a rotated token here, no restart needed.
	AccessTokenFile string `yaml:"access_token_file"`
	// Test mode: events carry this code and show in Events Manager's Test
	// Events tool. Empty: live.
	TestEventCode string `yaml:"test_event_code"`
	// Base URL of the Business API (a test server's, in tests).
	Endpoint string `yaml:"endpoint"`
	// Longest time for one request (100ms..5m).
	Timeout Duration `yaml:"timeout"`
	// Backoff between failed attempts (429 and 5xx honour Retry-After).
	Retry Retry `yaml:"retry"`
}

// DestinationTCF declares a destination as a TCF vendor, or as our own
// processing that needs none.
type DestinationTCF struct {
	// The recipient's IAB Global Vendor List id (1..65535). Where GDPR
	// applies, a TC string with a disclosed vendors segment (TCF v2.3) must
	// list it. 0: none; then events where GDPR applies go here only with
	// without_vendor.
	VendorID int `yaml:"vendor_id" jsonschema:"minimum=0,maximum=65535"`
	// TCF purposes (1..11) the vendor processes under consent, for
	// deployments without consent.tcf.gvl_file (with it, the vendor list
	// declares them). Every listed purpose must have consent, and the
	// vendor its vendor consent.
	Purposes []TCFPurpose `yaml:"purposes"`
	// TCF purposes the vendor processes under legitimate interest (not 1,
	// 3, 4, 5 or 6, which TCF 2.2 allows only with consent). Each needs
	// its legitimate interest signal, and the vendor's must not be objected to.
	LegitimateInterest []TCFPurpose `yaml:"legitimate_interest"`
	// Purposes among the two lists above whose basis a publisher
	// restriction may switch.
	FlexiblePurposes []TCFPurpose `yaml:"flexible_purposes"`
	// Special features the vendor uses (1: precise geolocation); each must
	// be opted in.
	SpecialFeatures []TCFFeature `yaml:"special_features"`
	// true: this destination is our own processing, not a TCF vendor, and
	// gets events where GDPR applies under our own purposes alone (the
	// report says so). Needs vendor_id: 0.
	WithoutVendor bool `yaml:"without_vendor"`
}

// Batch says when a batch of events is closed and shipped: when any limit is reached.
type Batch struct {
	// Most events in one batch.
	MaxEvents int `yaml:"max_events" jsonschema:"minimum=1,maximum=1000000"`
	// Most bytes in one batch before compression (1KiB..256MiB).
	MaxBytes ByteSize `yaml:"max_bytes"`
	// Longest time an event waits in an open batch (1ms..1h).
	MaxAge Duration `yaml:"max_age"`
}

// FileDestination holds the settings of a file destination.
type FileDestination struct {
	// Directory for the output files. Empty: <data_dir>/out/<name>. It
	// must not hold data_dir or the spool, nor lie inside the spool, the
	// dead letters' folder or another file destination's dir.
	Dir string `yaml:"dir"`
	// A file is closed and a new one started at this size (1MiB..64GiB).
	MaxFileBytes ByteSize `yaml:"max_file_bytes"`
	// A file is closed and a new one started at this age (1s..168h).
	MaxFileAge Duration `yaml:"max_file_age"`

	dirDerived bool // Dir was filled from data_dir, so SetDataDir may change it
}

// HTTPDestination holds the settings of an http destination.
type HTTPDestination struct {
	// URL batches are POSTed to (http or https, no user:password part).
	URL string `yaml:"url"`
	// Extra request headers. Credentials do not belong here: use
	// bearer_token_file. Content-Type, Content-Encoding, Content-Length,
	// Authorization and Idempotency-Key are set by the gateway. Values may
	// not hold control characters (line breaks, NUL, ...) but tab.
	Headers map[string]string `yaml:"headers"`
	// File holding a bearer token sent as "Authorization: Bearer <token>":
	// its first line (a blank first line is refused, as is an empty file).
	// It must not be readable by every user. Empty: no Authorization header.
	// Read at start, and again after a 401 or 403: write a rotated token
	// here, no restart needed.
	BearerTokenFile string `yaml:"bearer_token_file"`
	// Longest time for one POST, including reading the response (100ms..5m).
	Timeout Duration `yaml:"timeout"`
	// Backoff between failed attempts. A batch is retried until it is
	// delivered; it stays in the spool meanwhile.
	Retry Retry `yaml:"retry"`
	// TLS settings for an https url: a private CA, a client certificate
	// for mutual TLS, the host name expected in the certificate. The url's
	// scheme turns TLS on; with an http url these keys are refused.
	TLS HTTPTLS `yaml:"tls"`
}

// HTTPTLS holds the TLS settings of an http destination.
type HTTPTLS struct {
	// PEM file with the CA certificates that sign the destination's
	// certificate. Empty: the system roots.
	CAFile string `yaml:"ca_file"`
	// PEM client certificate for mutual TLS; needs key_file.
	CertFile string `yaml:"cert_file"`
	// PEM private key of cert_file. It must not be readable by every user.
	KeyFile string `yaml:"key_file"`
	// Host name expected in the destination's certificate. Empty: the
	// url's host.
	ServerName string `yaml:"server_name"`
}

// set reports whether any key is set.
func (t *HTTPTLS) set() bool { return *t != HTTPTLS{} }

// Client returns the settings as a client TLS block, enabled.
func (t *HTTPTLS) Client() TLS {
	return TLS{Enabled: true, CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile, ServerName: t.ServerName}
}

// Retry holds exponential backoff settings.
type Retry struct {
	// Wait after the first failure (1ms..1m). It doubles after each further failure.
	InitialBackoff Duration `yaml:"initial_backoff"`
	// Longest wait between attempts (initial_backoff..1h).
	MaxBackoff Duration `yaml:"max_backoff"`
	// How long the destination may answer with redirects (3xx, never
	// followed) before a batch goes to the dead-letter folder; counted from
	// the first redirect after the last delivery (1s..168h).
	RedirectDeadLetterAfter Duration `yaml:"redirect_dead_letter_after"`
	// How long the destination may refuse the credentials (401, 403) before
	// a batch goes to the dead-letter folder, so a token can be rotated
	// without losing events (1s..168h).
	AuthDeadLetterAfter Duration `yaml:"auth_dead_letter_after"`
}

// KafkaDestination holds the settings of a kafka destination.
type KafkaDestination struct {
	// Seed brokers, as host:port.
	Brokers []string `yaml:"brokers"`
	// Topic each batch is produced to.
	Topic string `yaml:"topic"`
	// Record key, which picks the partition. site: the site id (per-site
	// order). pseudonym: the event's pseudonymous id (per-visitor order).
	// none: no key (spread evenly).
	Key KafkaKey `yaml:"key"`
	// TLS to the brokers.
	TLS TLS `yaml:"tls"`
	// SASL authentication to the brokers.
	SASL SASL `yaml:"sasl"`
	// Startup check. true: the gateway refuses to start when the brokers
	// answer that the topic does not exist (it is never auto-created).
	// Unreachable brokers only delay delivery (events wait in the spool).
	CheckTopic bool `yaml:"check_topic"`
}

// TLS holds client TLS settings.
type TLS struct {
	// Whether to use TLS. The other keys need it.
	Enabled bool `yaml:"enabled"`
	// PEM file with the CA certificates that sign the brokers' certificates.
	// Empty: the system roots.
	CAFile string `yaml:"ca_file"`
	// PEM client certificate for mutual TLS; needs key_file.
	CertFile string `yaml:"cert_file"`
	// PEM private key of cert_file. It must not be readable by every user.
	KeyFile string `yaml:"key_file"`
	// Host name expected in the brokers' certificates. Empty: the broker's host.
	ServerName string `yaml:"server_name"`
}

// SASL holds SASL authentication settings.
type SASL struct {
	// none, plain, scram-sha-256 or scram-sha-512. plain sends the password
	// as is and needs tls.
	Mechanism SASLMechanism `yaml:"mechanism"`
	// User name.
	Username string `yaml:"username"`
	// File holding the password. It must not be readable by every user.
	PasswordFile string `yaml:"password_file"`
}

// Spool controls the on-disk queue between acceptance and delivery.
type Spool struct {
	// Directory of the spool. Empty: <data_dir>/spool. Neither data_dir
	// itself nor <data_dir>/ble-spool, the BLE aggregation's spool.
	Dir string `yaml:"dir"`
	// Most bytes the spool may hold (16MiB..16TiB). When it is full, see when_full.
	MaxBytes ByteSize `yaml:"max_bytes"`
	// Size of one spool segment file (1MiB..1GiB; at most half of max_bytes).
	// In process durability a delivered segment is zeroed and reused as
	// the next one: small segments keep the reused pages cached. Default:
	// 16MiB with durability: process, 64MiB with fsync (which does not
	// reuse segments, and syncs the directory once per segment).
	SegmentBytes ByteSize `yaml:"segment_bytes"`
	// When an event counts as accepted. process: once written to the
	// operating system; survives a gateway crash but not a power loss. fsync:
	// once flushed to disk; survives a power loss, at some cost in latency.
	Durability Durability `yaml:"durability"`
	// With durability: fsync, how long writes are gathered into one flush
	// (0..1s). 0: flush on every write.
	FsyncMaxDelay Duration `yaml:"fsync_max_delay"`
	// With durability: process, how long a spool write waits for more
	// events to join it while events arrive less than this apart and the
	// last write carried fewer than 8 (0..1ms). Below saturation on one
	// core, fewer, larger writes cost less CPU per event; the wait is added
	// to the latency of those events, and on an idle core it lasts about
	// 1 ms whatever is set (Go's poller sleeps in whole milliseconds).
	// 0 (default): write at once; see the README's Delivery section.
	GatherWindow Duration `yaml:"gather_window"`
	// What happens to a new beacon or BLE request when the spool is full.
	// shed: refuse it at once (HTTP 503), so nothing is acknowledged that
	// cannot be kept. block: wait up to block_timeout for space, then refuse.
	WhenFull WhenFull `yaml:"when_full"`
	// What happens to a pixel event when the spool is full. The pixel
	// answers its GIF whatever happens (no page shows a broken image), so a
	// refused pixel event is lost without the browser knowing; it is
	// counted. shed: drop it at once. block: wait up to block_timeout for
	// space first. Default: the value of when_full.
	PixelWhenFull WhenFull `yaml:"pixel_when_full"`
	// With when_full or pixel_when_full block, the longest wait for space
	// (1ms..1m).
	BlockTimeout Duration `yaml:"block_timeout"`

	dirDerived bool // Dir was filled from data_dir, so SetDataDir may change it
}
