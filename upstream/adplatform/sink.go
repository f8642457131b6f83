package adplatform

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fastjson"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/internal/tokenfile"
	"github.com/beacongate/beacongate/upstream"
)

// Platform is an ad platform's event API.
type Platform uint8

// The platforms.
const (
	Meta   Platform = iota // Meta Conversions API
	GA4                    // GA4 Measurement Protocol
	TikTok                 // TikTok Events API
)

// String returns "meta", "ga4" or "tiktok", the platform label of the
// metrics.
func (p Platform) String() string {
	switch p {
	case Meta:
		return "meta"
	case GA4:
		return "ga4"
	case TikTok:
		return "tiktok"
	}
	return "unknown"
}

// Defaults of Options.
const (
	DefaultMetaEndpoint   = "https://graph.facebook.com"
	DefaultGA4Endpoint    = "https://www.google-analytics.com"
	DefaultTikTokEndpoint = "https://business-api.tiktok.com"
	DefaultMetaAPIVersion = "v23.0"
	DefaultTimeout        = 30 * time.Second
	// DefaultMaxInFlight is Options.MaxInFlight's default. GA4 takes 25
	// events of one client per request, so a batch of 1,000 visitors is
	// 1,000 requests: one at a time, at a 50-100 ms round trip, that is
	// 50-100 s (past the shipper's bound on one send, twice the timeout)
	// and 10-20 visitors a second; 8 at a time, 80-160. Meta and TikTok
	// take 1,000 events a request, so a batch seldom makes more than one.
	DefaultMaxInFlight = 8
)

// Options configures a Sink.
type Options struct {
	// Destination is the configured name: the destination label of the
	// metrics.
	Destination string
	Platform    Platform

	// ID is Meta's pixel id, GA4's measurement id or TikTok's pixel code
	// (the event_source_id of web events).
	ID string
	// OfflineEventSetID (TikTok) is the event_source_id of offline events
	// (store visits): the Offline Event Set ID. An event whose source has
	// no id is not sent: it is dead-lettered (reason "no_event_source_id").
	// TikTok needs ID or OfflineEventSetID.
	OfflineEventSetID string

	// TokenFile holds Meta's access token, GA4's API secret or TikTok's
	// access token, on its first line. New reads it, and Send reads it
	// again after the platform refused the credentials (GA4, which
	// refuses none, before every batch), so a token rotated in the file
	// is taken without a restart.
	TokenFile string

	// TestEventCode (Meta, TikTok) sends the events to the platform's
	// test events tool instead of the live data set.
	TestEventCode string
	// TestMode (GA4) sends to the validation server, /debug/mp/collect,
	// whose validation messages are counted and dead-lettered; nothing
	// is recorded by GA4.
	TestMode bool

	// Endpoint is the platform's base URL (scheme and host, optionally a
	// path prefix); default the platform's public one. Tests point it at
	// a local server.
	Endpoint string
	// APIVersion is Meta's Graph API version, default DefaultMetaAPIVersion.
	APIVersion string

	// Origins maps a site id to its origin (https://shop.example), to make
	// a path-only record url absolute: Meta requires an absolute
	// event_source_url for website events. Shared by the ad platform
	// destinations and updated on reload; nil: no origins.
	Origins *Origins

	// Timeout bounds one request. Default DefaultTimeout.
	Timeout time.Duration
	// MaxInFlight is how many requests of a batch are sent at once, at
	// most; 0 is DefaultMaxInFlight, 1 sends them one after the other.
	MaxInFlight int
	// TLS configures HTTPS (private CAs in tests).
	TLS *tls.Config
	// Client replaces the default client (Timeout and TLS are then
	// ignored); redirects are never followed.
	Client *http.Client
	// Metrics receives the counts; nil counts into an unregistered set.
	Metrics *Metrics
	// Clock is what a Retry-After date and an event's age (Meta takes
	// events up to 7 days old, GA4 up to 72 hours) are compared with; nil
	// is clock.Real.
	Clock clock.Clock
}

// Error reasons: the reason label of
// beacongate_upstream_platform_event_errors_total.
const (
	reasonUnmappable   = "unmappable"         // the record makes no valid event: not sent
	reasonInvalidEvent = "invalid_event"      // the platform refused the event
	reasonUnsettled    = "unsettled"          // MaxUnsettled 2xx answers did not account for the events
	reasonTooOld       = "too_old"            // older than the platform takes: not sent
	reasonNoSourceID   = "no_event_source_id" // TikTok: no id configured for the event's source: not sent
	reasonNoAppData    = "no_app_data"        // Meta, TikTok: an app event, without the app data the platform requires: not sent
)

// reasonDuplicateName is the reason label of
// beacongate_upstream_platform_dropped_params_total: a GA4 parameter whose
// name, made to GA4's rules, is that of an earlier parameter of the event.
const reasonDuplicateName = "duplicate_name"

// The oldest events the platforms take, less a minute for the request's
// way and the clocks' difference. Meta refuses a whole request holding
// one event older than 7 days
// (https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/server-event,
// event_time); GA4 records events backdated up to 72 hours
// (https://developers.google.com/analytics/devguides/collection/protocol/ga4/sending-events,
// timestamps) and drops older ones while /mp/collect answers 2xx.
const (
	metaMaxAge = 7*24*time.Hour - time.Minute
	ga4MaxAge  = 72*time.Hour - time.Minute
)

// MaxUnsettled is how many 2xx answers in a row that do not account for
// each event of a request (see the package doc) the request is sent for:
// its events then go to the dead letters (reason "unsettled"), so that one
// request the platform never settles does not hold up every later event
// of the destination. They may have arrived: a replay sends them again,
// under the same event_id, which the platforms de-duplicate on.
const MaxUnsettled = 10

// outcome is how the platform answered one request.
type outcome struct {
	kind   outcomeKind
	failed []int  // outcomeOK: indexes in the request of events refused
	reason string // why failed (or outcomeInvalid) events were refused
	// reasons, when set, is each failed event's own reason (GA4's
	// validation codes), in the order of failed.
	reasons []string
	// why says, for an outcomeRetry on a 2xx, why the answer was not
	// taken as an acknowledgement; it becomes part of the error.
	why string
	// unsettled: an outcomeRetry on a 2xx (the answer did not account for
	// the events), counted towards MaxUnsettled.
	unsettled bool
}

type outcomeKind uint8

const (
	outcomeOK        outcomeKind = iota
	outcomeRetry                 // rate limit or transient: retry the batch
	outcomeAuth                  // credentials refused
	outcomeRedirect              // a 3xx: redirects are never followed
	outcomeInvalid               // the request was refused for its events
	outcomePermanent             // no event of this destination will be taken
)

// mapped is one record's event in Sink.evbuf.
type mapped struct {
	rec        int // index in the batch
	start, end int // the event's JSON in evbuf
	group      int // events of one group share a request
	dupParams  int // GA4: parameters left out as duplicates of a name
}

// span is a part of a buffer.
type span struct{ start, end int }

// Sink sends batches to one ad platform. Send is called by one shipper
// goroutine at a time.
type Sink struct {
	o     Options
	token string
	// authRefused: the last answer refused the credentials; the next
	// Send reads the token file again first.
	authRefused bool
	url         string // the events endpoint, with GA4's query; never logged
	host        string // what errors name instead of url
	client      *http.Client
	clock       clock.Clock
	m           sinkMetrics

	parser  fastjson.Parser
	rec     record
	scratch []byte
	nowMS   int64 // the clock when the batch was mapped; 0: ages unchecked
	// GA4: the parameter names of the event being mapped (spans in its
	// buffer), and how many parameters were left out as duplicates.
	ga4Keys    []span
	ga4Dropped int

	// Progress through the current batch: a retry of the same batch
	// (same spool offsets) skips the events already answered for.
	first, end uint64
	done       []bool
	rejected   []int
	reasons    map[string]int
	// unsettled counts, per request of the batch (by its first record),
	// the unsettled answers it got in a row.
	unsettled map[int]int

	evbuf  []byte
	evs    []mapped
	groups []groupKey // GA4: envelope spans in envbuf; TikTok: the source
	envbuf []byte
	index  map[string]int
	batch  [][]byte

	// Requests in flight: each is sent on its own goroutine, which hands
	// it back on answers (capacity maxInFlight, so it never waits);
	// free keeps those answered, for their body buffers.
	maxInFlight int
	answers     chan *request
	free        []*request
}

// request is one request of a batch. Send's goroutine builds it and
// applies its answer; in between, the request's own goroutine sends body
// and sets out and err. That goroutine reads only body and sink fields no
// Send changes while requests are in flight (url, token, client, the
// metrics' series), so the batch's progress has one writer.
type request struct {
	c    []int // indexes in s.evs
	seq  int   // the order Send started the batch's requests in
	body []byte
	out  outcome
	err  error
}

type groupKey struct {
	start, end int    // GA4 envelope in envbuf
	source     string // TikTok event_source
}

// New checks o, reads the token file and builds the sink.
func New(o Options) (*Sink, error) {
	if o.ID == "" && (o.Platform != TikTok || o.OfflineEventSetID == "") {
		return nil, errors.New("adplatform: the platform id (pixel, measurement or event source id) is empty")
	}
	if o.Endpoint == "" {
		o.Endpoint = [...]string{DefaultMetaEndpoint, DefaultGA4Endpoint, DefaultTikTokEndpoint}[min(int(o.Platform), 2)]
	}
	u, err := url.Parse(o.Endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("adplatform: the endpoint is not an http(s) URL")
	}
	if o.APIVersion == "" {
		o.APIVersion = DefaultMetaAPIVersion
	}
	tok, err := readToken(o.TokenFile)
	if err != nil {
		return nil, err
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	s := &Sink{o: o, token: tok, host: u.Host, clock: clock.Or(o.Clock), reasons: map[string]int{}, index: map[string]int{},
		unsettled: map[int]int{}, maxInFlight: o.MaxInFlight, answers: make(chan *request, o.MaxInFlight)}
	if s.url = s.eventsURL(); s.url == "" {
		return nil, errors.New("adplatform: unknown platform")
	}
	s.client = o.Client
	if s.client == nil {
		if o.Timeout <= 0 {
			o.Timeout = DefaultTimeout
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = o.TLS
		// A connection per request in flight is kept for the next batch:
		// beyond that many, each request would dial and shake hands anew.
		tr.MaxIdleConnsPerHost = max(4, o.MaxInFlight)
		s.client = &http.Client{Timeout: o.Timeout, Transport: tr}
	} else {
		c := *s.client
		s.client = &c
	}
	s.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	m := o.Metrics
	if m == nil {
		m = newMetrics()
	}
	s.m = m.forSink(o.Destination, o.Platform)
	return s, nil
}

// eventsURL returns the platform's events endpoint for the sink's token
// (GA4 takes it in the query), "" for an unknown platform.
func (s *Sink) eventsURL() string {
	base := strings.TrimSuffix(s.o.Endpoint, "/")
	switch s.o.Platform {
	case Meta:
		return base + "/" + url.PathEscape(s.o.APIVersion) + "/" + url.PathEscape(s.o.ID) + "/events"
	case GA4:
		path := "/mp/collect"
		if s.o.TestMode {
			path = "/debug/mp/collect"
		}
		return base + path + "?measurement_id=" + url.QueryEscape(s.o.ID) + "&api_secret=" + url.QueryEscape(s.token)
	case TikTok:
		return base + "/open_api/v1.3/event/track/"
	}
	return ""
}

// reloadToken reads the token file again, after the platform refused the
// credentials: an operator rotates a token by writing the new one there.
// An unreadable or empty file keeps the token in use (the refusal goes on,
// and the batch is dead-lettered after the auth window as before).
func (s *Sink) reloadToken() {
	tok, err := readToken(s.o.TokenFile)
	if err != nil || tok == s.token {
		return
	}
	s.token = tok
	s.url = s.eventsURL()
}

// readToken returns the token in the file at path (tokenfile.Read: its
// first line, as config check reads it).
func readToken(path string) (string, error) {
	if path == "" {
		return "", errors.New("adplatform: no token file (access_token_file / api_secret_file)")
	}
	tok, err := tokenfile.Read(path)
	switch {
	case errors.Is(err, tokenfile.ErrEmpty), errors.Is(err, tokenfile.ErrFirstLineEmpty), errors.Is(err, tokenfile.ErrTooLong):
		return "", fmt.Errorf("adplatform: the token file %s: %w", path, err)
	case err != nil:
		return "", fmt.Errorf("adplatform: cannot read the token file: %w", err)
	}
	return tok, nil
}

// Unencoded tells the shipper not to compress batches: the sink sends its
// own JSON.
func (s *Sink) Unencoded() {}

// Close closes idle connections.
func (s *Sink) Close() error {
	s.client.CloseIdleConnections()
	return nil
}

func (s *Sink) maxEvents() int {
	if s.o.Platform == GA4 {
		return GA4MaxEvents
	}
	return MetaMaxEvents // TikTok's is the same
}

// maxBody is the size a request body stays below: GA4's documented 130kB
// (130,000 bytes, contract.GA4MaxBody); Meta and TikTok
// document no byte limit, 4 MiB keeps one request reasonable.
func (s *Sink) maxBody() int {
	if s.o.Platform == GA4 {
		return ga4MaxBodyBytes
	}
	return 4 << 20
}

// Send maps the batch's records, sends them in requests of the platform's
// limits, up to Options.MaxInFlight at once, and reports to the shipper as
// the package doc says. An answer that stops the batch (a retry, a
// refusal, a permanent error) or the end of ctx starts no further request;
// those in flight end and what they delivered is kept.
func (s *Sink) Send(ctx context.Context, b *upstream.Batch) error {
	if s.authRefused || s.o.Platform == GA4 {
		// GA4 refuses no api_secret (a wrong one's events are dropped
		// behind a 2xx): its file is read again before every batch.
		s.reloadToken()
		s.authRefused = false
	}
	if b.First != s.first || b.End != s.end || len(s.done) != b.Len() {
		s.first, s.end = b.First, b.End
		s.done = append(s.done[:0], make([]bool, b.Len())...)
		s.rejected = s.rejected[:0]
		clear(s.reasons)
		clear(s.unsettled)
	}
	queue := s.prepare(b)
	var (
		inFlight, started int
		// The answer that stopped the batch: of the requests that met
		// one, the first started, as when they went one at a time. No
		// other answer would decide better: every answer that stops a
		// batch (retry, auth, redirect, permanent) is about the
		// destination, not the request's events (an event refused for
		// itself is outcomeInvalid, which stops nothing), so the other
		// stopped requests' events get what they would have got one at
		// a time: retried (a permanent answer to them comes again at the
		// next attempt, which then dead-letters them), or dead-lettered
		// by a permanent answer, which says no event of the destination
		// will be taken. TestStoppingAnswerOfConcurrentRequests.
		stop     error
		stopKind outcomeKind
		stopSeq  int
		wait     time.Duration // the longest Retry-After of the answers
	)
	for {
		// No new request once one stopped the batch or the context ended:
		// those in flight end and their answers are kept.
		for stop == nil && inFlight < s.maxInFlight && len(queue) > 0 && ctx.Err() == nil {
			r := s.request()
			r.c, r.seq = queue[0], started
			queue = queue[1:]
			started++
			r.body = s.appendBody(r.body[:0], r.c)
			inFlight++
			go s.send(ctx, r)
		}
		if inFlight == 0 {
			break
		}
		r := <-s.answers
		inFlight--
		s.free = append(s.free, r)
		c, out := r.c, r.out
		switch out.kind {
		case outcomeOK:
			failed := 0
			for k, i := range out.failed {
				reason := out.reason
				if k < len(out.reasons) {
					reason = out.reasons[k]
				}
				if i >= 0 && i < len(c) && !s.done[s.evs[c[i]].rec] {
					s.reject(s.evs[c[i]].rec, reason)
					failed++
				}
			}
			for _, e := range c {
				if ev := s.evs[e]; !s.done[ev.rec] {
					s.done[ev.rec] = true
					if ev.dupParams > 0 {
						s.m.droppedParams(reasonDuplicateName).Add(float64(ev.dupParams))
					}
				}
			}
			s.m.events.Add(float64(len(c) - failed))
			continue
		case outcomeInvalid:
			if len(c) == 1 {
				s.reject(s.evs[c[0]].rec, out.reason)
				continue
			}
			// The platform refused the whole request for some of its
			// events: halve it until the bad ones stand alone.
			h := len(c) / 2
			queue = append([][]int{c[:h], c[h:]}, queue...)
			continue
		case outcomeAuth:
			s.authRefused = true
		case outcomeRetry:
			if out.unsettled {
				first := s.evs[c[0]].rec
				s.unsettled[first]++
				if s.unsettled[first] >= MaxUnsettled {
					delete(s.unsettled, first)
					for _, e := range c {
						s.reject(s.evs[e].rec, reasonUnsettled)
					}
					continue
				}
			}
			wait = max(wait, retryAfter(r.err))
		}
		if stop == nil || r.seq < stopSeq {
			stop, stopKind, stopSeq = r.err, out.kind, r.seq
		}
	}
	if stop != nil {
		switch stopKind {
		case outcomeAuth:
			return upstream.Refused(stop, upstream.RefusalAuth)
		case outcomeRedirect:
			return upstream.Refused(stop, upstream.RefusalRedirect)
		case outcomePermanent:
			return upstream.Permanent(stop)
		}
		if wait > 0 {
			return upstream.RetryAfter(stop, wait)
		}
		return stop
	}
	if len(queue) > 0 {
		return fmt.Errorf("%s: %d requests of the batch not sent: %w", s.o.Platform, len(queue), context.Cause(ctx))
	}
	if len(s.rejected) > 0 {
		// In record order, whatever order the answers came in.
		slices.Sort(s.rejected)
		return upstream.RejectedRecords(s.rejectedError(), s.rejected)
	}
	return nil
}

// request returns a request to fill, with a body buffer to reuse.
func (s *Sink) request() *request {
	if n := len(s.free); n > 0 {
		r := s.free[n-1]
		s.free = s.free[:n-1]
		r.out, r.err = outcome{}, nil
		return r
	}
	return &request{}
}

// send sends r on its own goroutine and hands it back on s.answers.
func (s *Sink) send(ctx context.Context, r *request) {
	r.out, r.err = s.post(ctx, r.body, len(r.c))
	s.answers <- r
}

// Undelivered implements upstream.Progress: the records of b that no
// request delivered, and those refused for good since b's last Send
// returned them, while s keeps b's progress (b is the batch the last Send
// carried).
func (s *Sink) Undelivered(b *upstream.Batch) ([]int, bool) {
	if b.First != s.first || b.End != s.end || len(s.done) != b.Len() {
		return nil, false
	}
	refused := make([]bool, len(s.done))
	for _, i := range s.rejected {
		refused[i] = true
	}
	var idx []int
	for i, done := range s.done {
		if !done || refused[i] {
			idx = append(idx, i)
		}
	}
	return idx, true
}

// tooOld reports whether r is older than maxAge at the time the batch was
// mapped.
func (s *Sink) tooOld(r *record, maxAge time.Duration) bool {
	return s.nowMS > 0 && s.nowMS-r.timeMS > maxAge.Milliseconds()
}

// reject marks record i refused for good.
func (s *Sink) reject(i int, reason string) {
	s.done[i] = true
	s.rejected = append(s.rejected, i)
	s.reasons[reason]++
	s.m.errors(reason).Inc()
}

// rejectedError describes the events of the batch dead-lettered so far: the
// reason their dead letter carries. It tells the events the platform
// refused from those never sent (the sink's own reasons: unmappable,
// too_old, no_event_source_id, no_app_data) and from the unsettled ones,
// which may have arrived; within each group, reasons are in name order.
func (s *Sink) rejectedError() error {
	var refused, unsent, unsettled []string
	for r := range s.reasons {
		switch r {
		case reasonUnmappable, reasonTooOld, reasonNoSourceID, reasonNoAppData:
			unsent = append(unsent, r)
		case reasonUnsettled:
			unsettled = append(unsettled, r)
		default: // invalid_event, validation_<code>
			refused = append(refused, r)
		}
	}
	p := s.o.Platform.String()
	var sb strings.Builder
	sb.WriteString(p + ": " + strconv.Itoa(len(s.rejected)) + " events dead-lettered")
	sep := ": "
	for _, g := range [...]struct {
		what    string
		reasons []string
	}{{"refused by " + p, refused}, {"not sent", unsent}, {"unsettled: " + strconv.Itoa(MaxUnsettled) + " answers in a row did not account for them, they may have arrived", unsettled}} {
		if len(g.reasons) == 0 {
			continue
		}
		slices.Sort(g.reasons)
		n := 0
		for _, r := range g.reasons {
			n += s.reasons[r]
		}
		sb.WriteString(sep + strconv.Itoa(n) + " " + g.what + " (")
		for i, r := range g.reasons {
			if i > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(r + "=" + strconv.Itoa(s.reasons[r]))
		}
		sb.WriteByte(')')
		sep = "; "
	}
	return errors.New(sb.String())
}

// prepare maps the records not yet done and cuts them into requests
// (indexes into s.evs). Records that make no event are rejected here.
func (s *Sink) prepare(b *upstream.Batch) [][]int {
	s.evbuf, s.evs, s.envbuf, s.groups = s.evbuf[:0], s.evs[:0], s.envbuf[:0], s.groups[:0]
	clear(s.index)
	s.nowMS = 0
	if s.clock != nil {
		s.nowMS = s.clock.Now().UnixMilli()
	}
	for i := range b.Len() {
		if s.done[i] {
			continue
		}
		r := &s.rec
		if !parseRecord(&s.parser, b.Record(i), r) {
			s.reject(i, reasonUnmappable)
			continue
		}
		start := len(s.evbuf)
		var reason string
		group := 0
		s.ga4Dropped = 0
		switch s.o.Platform {
		case Meta:
			s.evbuf, reason = s.appendMetaEvent(s.evbuf, r)
		case TikTok:
			src := tiktokSource(r)
			group = s.group(src, nil)
			s.evbuf, reason = s.appendTikTokEvent(s.evbuf, r)
		case GA4:
			envStart := len(s.envbuf)
			s.envbuf, reason = s.appendGA4Envelope(s.envbuf, r)
			if reason == "" {
				group = s.group("", s.envbuf[envStart:])
				s.evbuf, reason = s.appendGA4Event(s.evbuf, r)
			}
		}
		if reason != "" {
			s.evbuf = s.evbuf[:start]
			s.reject(i, reason)
			continue
		}
		s.evs = append(s.evs, mapped{rec: i, start: start, end: len(s.evbuf), group: group, dupParams: s.ga4Dropped})
	}
	// Cut each group, in record order, into requests within the limits.
	var queue [][]int
	open := make(map[int]int) // group → its request being filled in queue
	size := make(map[int]int) // its body bytes so far
	for e, ev := range s.evs {
		q, ok := open[ev.group]
		n := ev.end - ev.start + 1
		if !ok || len(queue[q]) >= s.maxEvents() || size[q]+n >= s.maxBody() {
			queue = append(queue, nil)
			q = len(queue) - 1
			open[ev.group] = q
			size[q] = s.bodyOverhead(ev.group)
		}
		queue[q] = append(queue[q], e)
		size[q] += n
	}
	return queue
}

// bodyOverhead is what a request body of group g holds besides its events:
// for GA4 the envelope, which may be long (a client id of 256 characters,
// user data, escapes) and braces, exactly; for Meta and TikTok a margin for
// the access token and test code around a 4 MiB bound of our own.
func (s *Sink) bodyOverhead(g int) int {
	if s.o.Platform == GA4 {
		k := s.groups[g]
		return k.end - k.start + len(`{,"events":[]}`)
	}
	return 1024
}

// group returns the group id of a TikTok source or a GA4 envelope (which
// was just appended to envbuf: it is dropped again when a group has it).
func (s *Sink) group(source string, env []byte) int {
	key := source
	if env != nil {
		if g, ok := s.index[string(env)]; ok {
			s.envbuf = s.envbuf[:len(s.envbuf)-len(env)]
			return g
		}
		key = string(env)
	} else if g, ok := s.index[key]; ok {
		return g
	}
	g := len(s.groups)
	gk := groupKey{source: source}
	if env != nil {
		gk.start, gk.end = len(s.envbuf)-len(env), len(s.envbuf)
	}
	s.groups = append(s.groups, gk)
	s.index[key] = g
	return g
}

// appendBody appends the request body for the events c.
func (s *Sink) appendBody(dst []byte, c []int) []byte {
	s.batch = s.batch[:0]
	for _, e := range c {
		s.batch = append(s.batch, s.evbuf[s.evs[e].start:s.evs[e].end])
	}
	switch s.o.Platform {
	case TikTok:
		return s.appendTikTokBody(dst, s.groups[s.evs[c[0]].group].source, s.batch)
	case GA4:
		g := s.groups[s.evs[c[0]].group]
		return appendGA4Body(dst, s.envbuf[g.start:g.end], s.batch)
	}
	return s.appendMetaBody(dst, s.batch)
}

// statusError is an answer that was not a success. It carries no body:
// platforms echo parameters (tokens included) in their error messages.
type statusError struct {
	platform   Platform
	status     int
	retryAfter time.Duration
	why        string // outcome.why: our words, never the body's
	// location is the host of a 3xx's Location header: never its path or
	// query, which may hold a token.
	location string
}

func (e *statusError) Error() string {
	s := e.platform.String() + ": HTTP " + strconv.Itoa(e.status)
	if e.status >= 300 && e.status < 400 {
		s += ": redirect not followed"
		if e.location != "" {
			s += ", Location host " + e.location
		}
		return s
	}
	if e.why != "" {
		s += ": " + e.why + "; not taken as delivered, the request is sent again"
	}
	return s
}

func retryAfter(err error) time.Duration {
	var se *statusError
	if errors.As(err, &se) {
		return se.retryAfter
	}
	return 0
}

// post sends one request of n events and classifies the answer. Several
// run at once: it changes nothing in s (the metrics are atomic).
func (s *Sink) post(ctx context.Context, body []byte, n int) (outcome, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return outcome{kind: outcomePermanent}, errors.New("adplatform: cannot build the request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "beacongate")
	if s.o.Platform == TikTok {
		req.Header.Set("Access-Token", s.token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.m.requests("error").Inc()
		// A url.Error quotes the URL, which holds GA4's api_secret: name
		// the host only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return outcome{kind: outcomeRetry}, fmt.Errorf("%s: POST to %s: %w", s.o.Platform, s.host, err)
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	s.m.requests(statusClass(resp.StatusCode)).Inc()
	var out outcome
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		// Never followed (the request holds the credentials): a
		// refusal, as the HTTP destination's, retried and dead-lettered
		// after retry.redirect_dead_letter_after.
		out = outcome{kind: outcomeRedirect}
	case s.o.Platform == Meta:
		out = metaAnswer(resp.StatusCode, answer, n)
	case s.o.Platform == TikTok:
		out = tiktokAnswer(resp.StatusCode, answer, n)
	case s.o.Platform == GA4:
		out = ga4Answer(resp.StatusCode, answer, n, s.o.TestMode)
	}
	se := &statusError{platform: s.o.Platform, status: resp.StatusCode, why: out.why}
	if out.kind == outcomeRedirect {
		se.location = locationHost(resp.Header.Get("Location"))
	}
	if out.kind == outcomeRetry && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		out.unsettled = true
		if se.why == "" {
			se.why = "the answer does not account for the events"
		}
	}
	if out.kind == outcomeRetry {
		se.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), s.clock.Now())
	}
	return out, se
}

// locationHost returns the host[:port] of a Location header, "" for a
// relative or unparsable one.
func locationHost(loc string) string {
	u, err := url.Parse(strings.TrimSpace(loc))
	if err != nil {
		return ""
	}
	return u.Host
}

func statusClass(status int) string {
	switch {
	case status == 429:
		return "429"
	case status >= 200 && status < 300:
		return "2xx"
	case status >= 300 && status < 400:
		return "3xx"
	case status >= 400 && status < 500:
		return "4xx"
	}
	return "5xx"
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 if absent or bad.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(min(max(n, 0), 1<<31)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now))
	}
	return 0
}

// Origins holds each site's origin for the ad platform sinks; a config
// reload replaces the map while the sinks read it.
type Origins struct {
	m atomic.Pointer[map[string]string]
}

// NewOrigins returns Origins holding m (site id → origin).
func NewOrigins(m map[string]string) *Origins {
	o := &Origins{}
	o.Set(m)
	return o
}

// Set replaces the map; the caller does not change m afterwards.
func (o *Origins) Set(m map[string]string) { o.m.Store(&m) }

// Get returns site's origin, or "" for an unknown site or a nil Origins.
// It does not allocate.
func (o *Origins) Get(site []byte) string {
	if o == nil {
		return ""
	}
	if m := o.m.Load(); m != nil {
		return (*m)[string(site)]
	}
	return ""
}
