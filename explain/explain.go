// Package explain is the dry run behind "beacongate explain": it drives the
// real gateway handler with one sample request, on an engine built from the
// same plan the server compiles, and reports per consent state every field
// as it arrived, what the policy does with it and what the record holds,
// and per destination whether it gets the event, the record it gets, and
// why not. Nothing is stored or sent.
package explain

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/contact"
	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/gateway"
	"github.com/beacongate/beacongate/plan"
	"github.com/beacongate/beacongate/ropa"
)

// Options are what an Explainer is built from: what the server would build
// from its config.
type Options struct {
	// Plan is the compiled policy; Facts what the report's rules need
	// beside it (ropa.FactsOf of the config).
	Plan  *plan.Plan
	Facts ropa.Facts
	// Settings are the gateway settings the server would use; their
	// Handler is replaced, so nothing is spooled.
	Settings gateway.Settings
	// Deps are the engine's keys, GeoIP database and clock.
	Deps anonymize.Deps
	// MaxHeaderBytes and MaxBodyBytes are the server's limits
	// (server.max_header_bytes, server.max_body_bytes): the server refuses
	// larger requests before Handle sees them (fasthttp itself, or for a
	// body up to twice the limit the server's own handler).
	MaxHeaderBytes, MaxBodyBytes int
	// Notes are printed with every explanation (a stand-in key, a missing
	// database).
	Notes []string
	// NoGeo: a configured GeoIP database could not be opened here.
	NoGeo bool
	// Suppression is the server's suppression list (suppress.List), nil
	// when it cannot be read here: an event it reports is dropped on
	// arrival, before the engine, as the server's deliverer drops it.
	Suppression Suppressor
	// PlatformRequest maps the record destination dest (its index in
	// Plan.Destinations) gets to what its sink sends: for an ad platform,
	// the platform's name and the request body of that event alone, or
	// why the sink dead-letters the record unsent (cmd/beacongate runs
	// the sinks' own mapping, adplatform.Preview); platform "" for a
	// destination that sends its records as they are. nil: every
	// destination sends its records as they are.
	PlatformRequest func(dest int, record []byte) (platform string, body []byte, unsent string)
}

// Suppressor tells whether an event belongs to a suppressed subject
// (suppress.List, as delivery.Suppressor).
type Suppressor interface {
	Suppressed(e *event.Event) bool
}

// Explainer runs sample requests through the gateway and the engine. It is
// the gateway's EventHandler: events arrive in HandleEvent, synchronously
// inside Gateway.Handle. It is not safe for concurrent use.
type Explainer struct {
	plan           *plan.Plan
	facts          ropa.Facts
	engine         *anonymize.Engine
	gw             *gateway.Gateway
	srv            *fasthttp.Server // gw's server: its handler and error handler are the server's
	notes          []string
	noGeo          bool
	maxHeaderBytes int
	maxBodyBytes   int
	suppression    Suppressor
	platformReq    func(dest int, record []byte) (platform string, body []byte, unsent string)
	events         []Event
	rejected       string // the reason of the last rejection, from the gateway's OnReject hook
	problem        string // and its problem ("eid: 8 to 64 characters ...")
}

// New builds an Explainer.
func New(o Options) (*Explainer, error) {
	engine, err := anonymize.New(o.Plan, o.Deps)
	if err != nil {
		return nil, err
	}
	x := &Explainer{plan: o.Plan, facts: o.Facts, engine: engine, notes: o.Notes, noGeo: o.NoGeo,
		maxHeaderBytes: o.MaxHeaderBytes, maxBodyBytes: o.MaxBodyBytes, suppression: o.Suppression,
		platformReq: o.PlatformRequest}
	s := o.Settings
	s.Handler = x
	x.gw = gateway.New(s, nil)
	x.srv = x.gw.NewServer(gateway.ServerOptions{MaxHeaderBytes: o.MaxHeaderBytes, MaxBodyBytes: o.MaxBodyBytes})
	x.gw.OnReject(func(reason, problem string) { x.rejected, x.problem = reason, problem })
	return x, nil
}

// Output is everything explain prints; its JSON form is the -json output.
type Output struct {
	Config   string   `json:"config"`
	Policy   string   `json:"policy"`
	Notes    []string `json:"notes"`
	Request  Request  `json:"request"`
	Response Response `json:"response"`
	Rejected *Reject  `json:"rejected"`
	Events   []Event  `json:"events"`
}

type Request struct {
	Form     string `json:"form"` // "http", "url" or "json"
	Method   string `json:"method"`
	URI      string `json:"uri"`
	ClientIP string `json:"peer_ip"`
}

type Response struct {
	Status      int    `json:"status"`
	ContentType string `json:"content_type"`
	Body        string `json:"body,omitempty"` // text bodies only
}

type Reject struct {
	Reason string `json:"reason"`
	Status int    `json:"status"`
	// Problem names the field at fault and what is wrong with it (never
	// its value), as the answer to a POST says it: the pixel answers
	// with its GIF, so for a pixel only this says it.
	Problem string `json:"problem,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

type Event struct {
	Kind string `json:"kind"`
	// Suppressed: the event's user, client or device id is on the
	// suppression list; the server drops it on arrival, before the
	// privacy engine, so no state applies and no destination gets it.
	Suppressed bool    `json:"suppressed"`
	Consent    Consent `json:"consent"`
	States     []Case  `json:"states"`
	// Recipients says, per destination, whether it gets this event under
	// the request's own signals, the record it gets, and why not.
	Recipients []Recipient `json:"recipients"`
}

type Recipient struct {
	Destination string `json:"destination"`
	Gets        bool   `json:"gets"`
	Why         string `json:"why,omitempty"`
	// Record is the record the engine makes for the destination: what
	// it gets, or for an ad platform what is spooled for its sink, which
	// sends only Request.
	Record json.RawMessage `json:"record"`
	// Platform is the ad platform of an ad platform destination ("Meta
	// Conversions API", ...), and Request the body its sink sends for
	// this event (without the credential): only some members of Record,
	// some hashed. When the sink would dead-letter the record unsent,
	// Gets is false, Why says why, and Request is absent.
	Platform string          `json:"platform,omitempty"`
	Request  json.RawMessage `json:"request,omitempty"`
}

type Consent struct {
	Present   []string `json:"present"`
	Malformed []string `json:"malformed"`
	// Conflicting are those of Malformed that came in copies that differ
	// (a repeated key, a cookie and a parameter, a TC string and a GPP
	// tcfeuv2 section): a refusal, whatever each copy says.
	Conflicting []string `json:"conflicting,omitempty"`
	Rejected    []string `json:"rejected"`
	GDPR        string   `json:"gdpr"`
	TCFProblems []string `json:"tcf_problems,omitempty"`
	Decider     string   `json:"decided_by"`
	Granted     []string `json:"granted"`
	// AdPersonalization: ads is granted for personalised advertising too
	// (the record's consent.ad_personalization; GA4's ad_personalization).
	AdPersonalization bool   `json:"ad_personalization"`
	State             string `json:"state"`
}

type Case struct {
	State        string   `json:"state"`
	Applies      bool     `json:"applies"`
	Purposes     []string `json:"purposes"`
	Dropped      bool     `json:"dropped"`
	Fields       []Row    `json:"fields"`
	Scrubbed     []string `json:"scrubbed"`
	Destinations []string `json:"destinations"`
	// OwnPolicy are those of Destinations whose own policy makes another
	// record in this state than Record, the site-wide policy's.
	OwnPolicy []string        `json:"own_policy"`
	Record    json.RawMessage `json:"record"`
}

type Row struct {
	Field   string          `json:"field"`
	Arrived string          `json:"arrived"`
	Action  string          `json:"action"`
	Result  json.RawMessage `json:"result"` // null when nothing is recorded
}

// Explain runs sample through the gateway as if it came from peer. The
// sample is an HTTP request, a URL alone (a pixel GET) or a JSON body alone
// (POST /b, or POST /ble for an object with "sightings").
func (x *Explainer) Explain(sample []byte, peer netip.Addr) *Output {
	out := &Output{Policy: x.plan.Version(), Notes: x.notes, Events: []Event{}}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	x.events, x.rejected, x.problem = x.events[:0], "", ""
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	form, detail, readErr := buildRequest(req, sample, x.maxHeaderBytes, x.maxBodyBytes)
	out.Request = Request{Form: form, Method: string(req.Header.Method()), URI: redactContact(string(req.RequestURI())), ClientIP: peer.String()}
	var ctx fasthttp.RequestCtx
	ctx.Init(req, &net.TCPAddr{IP: peer.AsSlice(), Port: 50000}, nil)
	if readErr != nil {
		// fasthttp could not read the request (too large, malformed):
		// the server answers it with its error handler, before the
		// gateway's handler sees it.
		x.srv.ErrorHandler(&ctx, readErr)
	} else {
		// The server's handler: its checks of the body's length and
		// framing, then the gateway's.
		x.srv.Handler(&ctx)
	}
	resp := &ctx.Response
	out.Response = Response{Status: resp.StatusCode()}
	if len(resp.Body()) > 0 { // the server sends no Content-Type without a body
		out.Response.ContentType = string(resp.Header.ContentType())
	}
	if strings.HasPrefix(out.Response.ContentType, "text/") {
		out.Response.Body = strings.TrimSpace(string(resp.Body()))
	}
	if reason := x.rejected; reason != "" {
		out.Rejected = &Reject{Reason: reason, Status: resp.StatusCode(), Problem: x.problem, Detail: detail}
		if ep := string(ctx.Path()); ep == "/p.gif" && resp.StatusCode() == fasthttp.StatusOK {
			out.Rejected.Detail = "the pixel still answers 200 with the GIF, so no page shows a broken image"
		}
	}
	out.Events = append(out.Events, x.events...)
	return out
}

// buildRequest turns the sample into an HTTP request, read as the server
// reads one: with a buffer of maxHeader bytes for its head and a body of at
// most maxBody bytes. It returns the form of the sample and, for a request
// fasthttp's server could not read (too large, malformed), fasthttp's
// error and what is wrong, never quoting the request.
func buildRequest(req *fasthttp.Request, sample []byte, maxHeader, maxBody int) (form, detail string, err error) {
	s := bytes.TrimPrefix(sample, []byte("\xef\xbb\xbf"))
	s = bytes.TrimLeft(s, " \t\r\n")
	trimmed := bytes.TrimRight(s, " \t\r\n")
	form = "http"
	switch {
	case len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '['):
		path := "/b"
		var obj map[string]json.RawMessage
		if json.Unmarshal(trimmed, &obj) == nil && obj["sightings"] != nil {
			path = "/ble"
		}
		req.Header.SetMethod(fasthttp.MethodPost)
		req.SetRequestURI(path)
		req.Header.SetContentType("application/json")
		req.SetBody(trimmed)
		if len(trimmed) > maxBody {
			return "json", "", fasthttp.ErrBodyTooLarge
		}
		return "json", "", nil
	case !bytes.ContainsAny(trimmed, "\r\n") && (bytes.HasPrefix(trimmed, []byte("http://")) ||
		bytes.HasPrefix(trimmed, []byte("https://")) || bytes.HasPrefix(trimmed, []byte("/"))):
		// A pixel GET, taken as typed (a browser would escape what the
		// parser refuses, such as a space). The least a browser sends is
		// the request line and Host, whose query counts with the headers
		// against the limit: a head over it is read as the server reads
		// it, to fail as there.
		req.Header.SetMethod(fasthttp.MethodGet)
		req.SetRequestURIBytes(trimmed)
		host := string(req.Host())
		if host == "" {
			host = "beacongate.invalid"
		}
		s = []byte("GET " + string(req.RequestURI()) + "\nHost: " + host)
		if _, n := normalizeHTTP(s); n <= maxHeader {
			return "url", "", nil
		}
		req.Reset()
		form = "url"
	}
	raw, n := normalizeHTTP(s)
	if err = req.ReadLimitBody(bufio.NewReaderSize(bytes.NewReader(raw), max(maxHeader, 16)), maxBody); err != nil {
		req.Reset()
		first, _, _ := bytes.Cut(raw, []byte("\r\n"))
		if f := strings.Fields(string(first)); len(f) >= 2 {
			req.Header.SetMethod(f[0])
			req.SetRequestURI(f[1])
		}
		detail = malformedDetail(err)
		switch {
		case errors.Is(err, fasthttp.ErrBodyTooLarge):
			detail = ""
		case errors.As(err, new(*fasthttp.ErrSmallBuffer)):
			detail = headerTooLarge(n, maxHeader)
		}
		return form, detail, err
	}
	return form, "", nil
}

// headerTooLarge says why the server refuses a request head of n bytes.
func headerTooLarge(n, limit int) string {
	return "the request head has " + strconv.Itoa(n) + " bytes; server.max_header_bytes is " + strconv.Itoa(limit)
}

// malformedDetail is fasthttp's reason for refusing a request, without
// what it quotes after it: the buffer ("buffer size=..."), the value at
// fault (`invalid header value "..."`, `missing colon: "..."`) and the
// whole request head (`invalid request uri "..." in "..."`), where a
// header's value, a cookie or contact data in the URL would be shown. The
// reason names what is wrong; a rejection never shows a value.
func malformedDetail(err error) string {
	detail, _, _ := strings.Cut(err.Error(), ": buffer size=")
	detail, _, _ = strings.Cut(detail, "\"")
	return strings.TrimRight(detail, " :")
}

// normalizeHTTP rewrites a hand-written request for the parser: CRLF line
// endings, "HTTP/1.1" added to a request line without a version, and
// Content-Length set to the body's length (a hand-edited body rarely
// matches its header), unless the request has a Transfer-Encoding, which
// frames the body as the sample says. It returns the request and the length of its head.
func normalizeHTTP(s []byte) ([]byte, int) {
	text := strings.ReplaceAll(string(s), "\r\n", "\n")
	head, body, _ := strings.Cut(text, "\n\n")
	body = strings.TrimRight(body, "\r\n")
	lines := strings.Split(strings.TrimRight(head, "\r\n"), "\n")
	if f := strings.Fields(lines[0]); len(f) == 2 {
		lines[0] = f[0] + " " + f[1] + " HTTP/1.1"
	}
	var b strings.Builder
	hasHost, framed := false, false
	for i, l := range lines {
		name, _, _ := strings.Cut(l, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "content-length":
			if i > 0 {
				continue
			}
		case "transfer-encoding":
			// Kept: the server decodes a chunked body, and refuses any
			// other transfer coding.
			framed = framed || i > 0
		case "host":
			hasHost = hasHost || i > 0
		}
		b.WriteString(l + "\r\n")
	}
	if !hasHost {
		b.WriteString("Host: beacongate.invalid\r\n")
	}
	if body != "" && !framed {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n")
	n := b.Len()
	if framed {
		// A chunked body as on the wire: its lines end with CRLF, and
		// the last chunk with an empty line.
		body = strings.ReplaceAll(body, "\n", "\r\n") + "\r\n\r\n"
	}
	b.WriteString(body)
	return []byte(b.String()), n
}

// HandleEvent implements gateway.EventHandler: it runs the engine on e for
// the real signals and for each forced state. e is only read, and nothing
// of it is kept: every value is copied into strings.
func (x *Explainer) HandleEvent(e *event.Event) error {
	if x.suppression != nil && x.suppression.Suppressed(e) {
		ev := Event{Kind: e.Kind.String(), Suppressed: true, Consent: Consent{Present: []string{}, Malformed: []string{},
			Rejected: []string{}, Granted: []string{}}, States: []Case{}}
		for i := range x.plan.Destinations {
			ev.Recipients = append(ev.Recipients, Recipient{Destination: x.plan.Destinations[i].Name, Why: suppressedWhy,
				Record: json.RawMessage("null")})
		}
		x.events = append(x.events, ev)
		return nil
	}
	ans := x.engine.Decide(e)
	realRec, real := x.engine.AppendRecord(make([]byte, 0, 16<<10), e)
	ev := Event{Kind: e.Kind.String(), Consent: Consent{
		Present:           setNames(ans.Present.String()),
		Malformed:         setNames(ans.Malformed.String()),
		Rejected:          setNames(ans.Rejected.String()),
		GDPR:              ans.GDPR.String(),
		Decider:           ans.Decider.String(),
		Granted:           setNames(real.Purposes.String()),
		State:             real.State.String(),
		AdPersonalization: real.AdPersonalization,
	}}
	if ans.TCFProblems != 0 {
		ev.Consent.TCFProblems = ans.TCFProblems.AppendStrings(nil)
	}
	ev.Consent.Conflicting = conflicting(e, &ans)
	recipients, _ := x.engine.Recipients(e)
	for st := anonymize.StateNone; st <= anonymize.StateAds; st++ {
		rec, res := realRec, real
		if st != real.State {
			rec, res = x.engine.AppendRecordAs(make([]byte, 0, 16<<10), e, st)
		}
		ev.States = append(ev.States, x.explainCase(e, rec, res, st == real.State, recipients))
	}
	for i, r := range recipients { // in the order of x.plan.Destinations
		rec := json.RawMessage("null")
		if r.Record != nil {
			rec = json.RawMessage(r.Record)
		}
		if x.aggregated(e) && r.Gets {
			r.Gets, r.Why, rec = false, bleAggregatesWhy, json.RawMessage("null")
		}
		rc := Recipient{Destination: r.Name, Gets: r.Gets, Why: r.Why, Record: rec}
		if x.platformReq != nil {
			platform, body, unsent := x.platformReq(i, r.Record)
			rc.Platform = platform
			switch {
			case platform == "" || !rc.Gets:
			case unsent != "":
				rc.Gets, rc.Why = false, "its record is spooled, but the "+platform+" sink dead-letters it unsent ("+unsent+")"
			default:
				rc.Request = json.RawMessage(body)
			}
		}
		ev.Recipients = append(ev.Recipients, rc)
	}
	x.events = append(x.events, ev)
	return nil
}

// conflicting names the malformed signals of e that came in copies that
// differ, in the order of the malformed list.
func conflicting(e *event.Event, ans *consent.Answer) []string {
	var set consent.SignalSet
	k := e.Consent.Conflicts
	if k&event.ConflictTCString != 0 || ans.TCConflict {
		set = set.With(consent.SignalTCF)
	}
	if k&(event.ConflictGCS|event.ConflictGCD) != 0 {
		set = set.With(consent.SignalConsentMode)
	}
	if k&event.ConflictUSPrivacy != 0 {
		set = set.With(consent.SignalUSPrivacy)
	}
	if k&(event.ConflictGPP|event.ConflictGPPSID) != 0 {
		set = set.With(consent.SignalGPP)
	}
	if k&event.ConflictExplicit != 0 {
		set = set.With(consent.SignalExplicit)
	}
	if set &= ans.Malformed; set == 0 {
		return nil
	}
	return setNames(set.String())
}

// suppressedWhy is why no destination gets a suppressed subject's event.
const suppressedWhy = "its user, client or device id is on the suppression list (beacongate subject suppress): dropped on arrival, before the privacy engine; counted, never stored"

// bleAggregatesWhy is why no destination gets a BLE sighting's record
// under ble.output: aggregates.
const bleAggregatesWhy = "ble.output: aggregates: the sighting's record goes to the BLE spool only, for the store's footfall aggregates; no destination gets it"

// aggregated reports whether e is a BLE sighting the server hands to the
// footfall aggregation instead of the destinations (ble.output:
// aggregates; cmd/beacongate's bleAggregation.Append).
func (x *Explainer) aggregated(e *event.Event) bool {
	return e.Kind == event.KindBLE && !x.facts.BLESightings
}

// setNames splits a comma-separated set as the consent package prints it
// ("none" for the empty set) into names.
func setNames(s string) []string {
	if s == "" || s == "none" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// explainCase lays out one state's rows from the event and the record.
// recipients are the engine's answer per destination under the request's
// own signals, which decide the destinations of the state that applies.
func (x *Explainer) explainCase(e *event.Event, rec []byte, res anonymize.Result, applies bool, recipients []anonymize.Recipient) Case {
	c := Case{State: res.State.String(), Applies: applies, Purposes: setNames(res.Purposes.String()),
		Dropped: res.Drop, Scrubbed: []string{}, Destinations: []string{}, OwnPolicy: []string{}}
	fields := map[string]json.RawMessage{}
	if !res.Drop {
		c.Record = json.RawMessage(rec)
		if err := json.Unmarshal(rec, &fields); err != nil {
			// The engine wrote invalid JSON: show it, and say so in place of the rows.
			c.Record, _ = json.Marshal("invalid record: " + err.Error() + ": " + string(rec))
		}
	}
	var ble map[string]json.RawMessage
	if raw := fields["ble"]; raw != nil {
		_ = json.Unmarshal(raw, &ble)
	}
	var props map[string]json.RawMessage
	if raw := fields["props"]; raw != nil {
		_ = json.Unmarshal(raw, &props)
	}
	if raw := fields["scrubbed"]; raw != nil {
		_ = json.Unmarshal(raw, &c.Scrubbed)
	}
	actions := map[string]string{}
	for _, r := range ropa.Rules(x.plan, x.facts, res.State) {
		actions[r.Field] = r.Action
	}
	if x.noGeo && x.plan.Policies[res.State].Geo != plan.GeoNone {
		actions["geo"] += " (database not available here: none)"
	}
	add := func(field, arrived, action string, result json.RawMessage) {
		c.Fields = append(c.Fields, Row{Field: field, Arrived: arrived, Action: action, Result: result})
	}
	ip := ""
	if e.ClientIP.IsValid() {
		ip = e.ClientIP.String()
	}
	add("site", string(e.Site), "scan", fields["site"]) // scanned under every policy, as the event name
	add("event", string(e.Name), "scan", fields["event"])
	add("ip", ip, actions["ip"], fields["ip"])
	add("geo", "(looked up from ip)", actions["geo"], fields["geo"])
	add("user_agent", string(e.UserAgent), actions["user_agent"], fields["user_agent"])
	add("ua (reduced)", "(parsed from user_agent)", actions["user_agent"], fields["ua"])
	bot := "not a known crawler"
	if res.Bot {
		bot = "known crawler"
	}
	botResult := fields["bot"]
	if res.Drop && res.Bot {
		botResult, _ = json.Marshal("event dropped")
	}
	add("bots", bot, actions["bots"], botResult)
	if res.HTTPClient {
		clientResult := fields["http_client"]
		if res.Drop {
			clientResult, _ = json.Marshal("event dropped")
		}
		add("http_clients", "HTTP client library (not a bot)", actions["http_clients"], clientResult)
	}
	add("url", string(e.URL), actions["url"], fields["url"])
	if fields["url"] != nil {
		// Which rule (a site route, the scanner, the path-shape rule) kept
		// or replaced each path segment.
		for _, r := range x.engine.ExplainPath(e, res.State) {
			result, _ := json.Marshal(r.Result)
			add("url segment", r.Segment, r.Rule, result)
		}
	}
	add("referrer", string(e.Referrer), actions["referrer"], fields["referrer"])
	add("user_id", string(e.UserID), actions["user_id"], fields["user"])
	add("client_id", string(e.ClientID), actions["client_id"], fields["client"])
	// A sighting's visitor hash is its device's (anonymize's
	// appendBLEVisitor): the store box's address and agent never enter it.
	visitorFrom := "(site + ip + user agent)"
	if e.Kind == event.KindBLE {
		switch s := &e.Sighting; {
		case len(s.DeviceID) == 0:
			visitorFrom = "(none: the sighting has no device id)"
		case s.Randomized:
			visitorFrom = "(none: a randomized MAC is never counted as a visitor)"
		default:
			visitorFrom = "(site + device id, per UTC day)"
		}
	}
	add("visitor_hash", visitorFrom, actions["visitor_hash"], fields["visitor"])
	add("accept_language", string(e.AcceptLanguage), actions["accept_language"], fields["lang"])
	for i, p := range e.Props {
		if _, isContact := contact.ParseField(p.Key); isContact {
			// Contact data is shown to nobody, explain's reader included:
			// the per-destination records show what each platform gets.
			add("props."+string(p.Key), "(contact data, not shown)", "never a property; hashed for ad platforms whose policy says contact: hash, under ads", nil)
			continue
		}
		// The engine's own decision: a key sent twice, a name that says
		// secret or person, a click id are left out though allowlisted.
		action := x.engine.ExplainProp(e, i, res.State)
		result := props[string(p.Key)]
		if !strings.HasPrefix(action, "keep") {
			result = nil
		}
		add("props."+string(p.Key), string(p.Value), action, result)
	}
	if e.Kind == event.KindBLE {
		s := &e.Sighting
		add("store", string(e.Store), "scan", ble["store"])
		add("sensor", string(e.Sensor), "scan", ble["sensor"])
		switch {
		case !x.engine.KnownBeacon(s):
			// What came in a beacon's place may be a phone's advertising
			// id: shown to nobody, as the engine records none of it.
			add("beacon", "(not one of ble.beacons: not shown)", "drop (ble.beacons), counted as a scrubbed token", nil)
		case len(s.UUID) > 0:
			add("beacon", string(s.UUID)+" "+strconv.Itoa(int(s.Major))+"/"+strconv.Itoa(int(s.Minor)), "keep",
				joinJSON(ble, "uuid", "major", "minor"))
		default:
			add("beacon", string(s.Namespace)+" "+string(s.Instance), "keep", joinJSON(ble, "namespace", "instance"))
		}
		add("rssi", strconv.Itoa(int(s.RSSI)), "keep", ble["rssi"])
		add("seen", strconv.FormatInt(s.SeenAtMS, 10)+" ms", "keep", ble["seen"])
		dev := ""
		if len(s.DeviceID) > 0 {
			dev = string(s.DeviceID) + " (" + s.DeviceKind.String() + ")"
		}
		add("device_id", dev, actions["device_id"], joinJSON(ble, "device", "device_kind"))
	}
	if !x.aggregated(e) {
		// Each destination's own policy decides whether it drops this
		// user agent, whatever the site-wide policy (res.Drop) does; under
		// the request's own signals the engine's answer also holds the
		// TCF vendor check.
		for i := range x.plan.Destinations {
			d := &x.plan.Destinations[i]
			var gets bool
			if applies {
				gets = i < len(recipients) && recipients[i].Gets
			} else {
				gets = d.Accepts(res.Purposes) && !x.engine.DestinationDrops(i, res.State, e)
			}
			if gets {
				c.Destinations = append(c.Destinations, d.Name)
				if x.engine.OwnPolicy(i, res.State) {
					c.OwnPolicy = append(c.OwnPolicy, d.Name)
				}
			}
		}
	}
	return c
}

// joinJSON returns the keys of m that are present as one JSON object, or
// nil when none is.
func joinJSON(m map[string]json.RawMessage, keys ...string) json.RawMessage {
	var b []byte
	for _, k := range keys {
		v, ok := m[k]
		if !ok {
			continue
		}
		if b == nil {
			b = append(b, '{')
		} else {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, k)
		b = append(b, ':')
		b = append(b, v...)
	}
	if b == nil {
		return nil
	}
	return append(b, '}')
}

// WriteText prints out as aligned plain text.
func (out *Output) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "beacongate explain: config %s, policy %s\n", out.Config, out.Policy)
	for _, n := range out.Notes {
		fmt.Fprintf(bw, "note: %s\n", n)
	}
	r := out.Request
	fmt.Fprintf(bw, "\nrequest   %s %s (%s sample; client address %s)\n", r.Method, r.URI, r.Form, r.ClientIP)
	resp := out.Response
	fmt.Fprintf(bw, "response  %d", resp.Status)
	if resp.ContentType != "" {
		fmt.Fprintf(bw, " %s", resp.ContentType)
	}
	if resp.Body != "" {
		fmt.Fprintf(bw, ": %s", resp.Body)
	}
	fmt.Fprintf(bw, "; %d event(s)\n", len(out.Events))
	if rj := out.Rejected; rj != nil {
		fmt.Fprintf(bw, "REJECTED  %s (status %d): no event is made; nothing is recorded or sent\n", rj.Reason, rj.Status)
		if rj.Problem != "" && rj.Problem != resp.Body { // a POST's answer says it already
			fmt.Fprintf(bw, "          %s\n", flat(rj.Problem))
		}
		if rj.Detail != "" {
			fmt.Fprintf(bw, "          %s\n", rj.Detail)
		}
	}
	for i, ev := range out.Events {
		fmt.Fprintf(bw, "\n=== event %d of %d: %s\n\n", i+1, len(out.Events), ev.Kind)
		if ev.Suppressed {
			fmt.Fprintf(bw, "SUPPRESSED  %s\n", suppressedWhy)
			for _, r := range ev.Recipients {
				fmt.Fprintf(bw, "  %s: gets nothing\n", r.Destination)
			}
			continue
		}
		c := ev.Consent
		tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "consent from the request's signals")
		fmt.Fprintf(tw, "  present\t%s\n", listOrNone(c.Present))
		fmt.Fprintf(tw, "  malformed\t%s\n", listOrNone(c.Malformed))
		if len(c.Conflicting) > 0 {
			fmt.Fprintf(tw, "  conflicting\t%s (copies that differ: a refusal)\n", strings.Join(c.Conflicting, ", "))
		}
		fmt.Fprintf(tw, "  rejected\t%s\n", listOrNone(c.Rejected))
		if len(c.TCFProblems) > 0 {
			fmt.Fprintf(tw, "  TCF problems\t%s\n", strings.Join(c.TCFProblems, "; "))
		}
		fmt.Fprintf(tw, "  gdpr flag\t%s\n", c.GDPR)
		decider := c.Decider
		if decider == "none" {
			decider = "none: no signal decided, consent.default applies"
		}
		fmt.Fprintf(tw, "  decided by\t%s\n", decider)
		fmt.Fprintf(tw, "  granted\t%s\n", listOrNone(c.Granted))
		if slices.Contains(c.Granted, "ads") {
			ap := "no: ads without personalisation (GA4 ad_personalization DENIED)"
			if c.AdPersonalization {
				ap = "yes: ads may be personalised, remarketing (GA4 ad_personalization GRANTED)"
			}
			fmt.Fprintf(tw, "  ad personalization\t%s\n", ap)
		}
		fmt.Fprintf(tw, "  state\t%s\n", c.State)
		tw.Flush()
		for _, sc := range ev.States {
			mark := ""
			if sc.Applies {
				mark = "   <== applies to this request's signals"
			}
			fmt.Fprintf(bw, "\n--- state %s (purposes: %s)%s\n", sc.State, listOrNone(sc.Purposes), mark)
			tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "  FIELD\tARRIVED\tACTION\tRESULT")
			for _, f := range sc.Fields {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", f.Field, orDash(flat(f.Arrived)), orDash(f.Action), resultText(f.Result))
			}
			tw.Flush()
			if sc.Dropped {
				fmt.Fprintln(bw, "  the site-wide policy drops this user agent (bots or http_clients: drop): no record of it")
				fmt.Fprintf(bw, "  destinations whose own policy keeps it: %s\n", listOrNone(sc.Destinations))
				continue
			}
			if len(sc.Scrubbed) > 0 {
				fmt.Fprintf(bw, "  removed from URLs and text: %s\n", strings.Join(sc.Scrubbed, ", "))
			}
			// Those named here get the record below; a destination with
			// a policy of its own gets another record.
			shown := slices.DeleteFunc(slices.Clone(sc.Destinations), func(d string) bool { return slices.Contains(sc.OwnPolicy, d) })
			fmt.Fprintf(bw, "  destinations: %s", listOrNone(shown))
			if len(sc.OwnPolicy) > 0 {
				fmt.Fprintf(bw, "; with a record of their own policy: %s", strings.Join(sc.OwnPolicy, ", "))
				if sc.Applies {
					fmt.Fprint(bw, " (below, per destination)")
				}
			}
			fmt.Fprintf(bw, "\n  record: %s\n", sc.Record)
		}
		fmt.Fprintln(bw, "\n--- per destination, under this request's signals")
		for _, r := range ev.Recipients {
			switch {
			case !r.Gets:
				fmt.Fprintf(bw, "  %s: gets nothing: %s\n", r.Destination, r.Why)
			case r.Platform != "":
				// What leaves is the platform's request, not the record.
				fmt.Fprintf(bw, "  %s: gets this %s request: %s\n", r.Destination, r.Platform, r.Request)
				fmt.Fprintf(bw, "    (from its record in the spool, of which the request carries only the above: %s)\n", r.Record)
			default:
				fmt.Fprintf(bw, "  %s: gets %s\n", r.Destination, r.Record)
			}
		}
	}
	return bw.Flush()
}

// resultText shows a record value: strings without quotes, other values
// as compact JSON, and "-" when nothing was recorded.
func resultText(v json.RawMessage) string {
	if v == nil {
		return "-"
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return orDash(flat(s))
	}
	return string(v)
}

// flat makes a value safe for one aligned line: control characters (tabs
// and line breaks would break the columns) are shown escaped.
func flat(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

// redactContact returns uri with the values of contact data replaced by
// "[contact]": pixel properties p.em, p.ph, ... and the same keys inside a
// props JSON object. explain shows what arrived, but contact data is shown
// to nobody (the records show what each platform gets, hashed).
func redactContact(uri string) string {
	path, query, ok := strings.Cut(uri, "?")
	if !ok {
		return uri
	}
	parts := strings.Split(query, "&")
	for i, kv := range parts {
		k, v, _ := strings.Cut(kv, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			continue
		}
		if name, isProp := strings.CutPrefix(key, "p."); isProp {
			if _, isContact := contact.ParseField([]byte(name)); isContact {
				parts[i] = k + "=%5Bcontact%5D"
			}
			continue
		}
		if key != "props" {
			continue
		}
		raw, err := url.QueryUnescape(v)
		var props map[string]json.RawMessage
		if err != nil || json.Unmarshal([]byte(raw), &props) != nil {
			// Not an object explain can read: the gateway refuses it too,
			// but its text may still hold contact data.
			parts[i] = k + "=%5Bnot%20shown%5D"
			continue
		}
		changed := false
		for name := range props {
			if _, isContact := contact.ParseField([]byte(name)); isContact {
				props[name] = json.RawMessage(`"[contact]"`)
				changed = true
			}
		}
		if changed {
			b, _ := json.Marshal(props)
			parts[i] = k + "=" + url.QueryEscape(string(b))
		}
	}
	return path + "?" + strings.Join(parts, "&")
}
