package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/anonymize/geo"
	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/gateway"
	"github.com/beacongate/beacongate/plan"
	"github.com/beacongate/beacongate/ropa"
)

const explainUsage = `usage: beacongate explain [-config FILE] [-request FILE] [-ip ADDR] [-at TIME] [-json]

Dry run: reads one sample request and shows, for each consent state (none,
analytics, ads), every field as it arrived, what the policy does with it,
what the record holds, and which destinations would receive it. The request
goes through the gateway's own parser, so rejections are shown as the
server would make them. Nothing is stored or sent.

The sample (from -request FILE, else stdin) is one of:
  an HTTP request:   GET /p.gif?site=shop&url=... HTTP/1.1
                     User-Agent: ...
                     Cookie: euconsent-v2=...
                     (a blank line and a body for POST; Content-Length is computed)
  a URL alone:       https://collect.example/p.gif?site=shop&url=...  (a pixel GET)
  a JSON body alone: {"site":"shop","event":"add_to_cart",...}  (POST /b;
                     an object with "sightings" goes to POST /ble)

`

// maxExplainInput bounds the sample read; a real request is a few KiB.
const maxExplainInput = 4 << 20

// runExplain implements "beacongate explain". Exit codes: 0 explained (a
// rejected request included), 1 invalid config or unreadable sample, 2 bad
// usage.
func runExplain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "config `FILE` (default: the embedded default config)")
	requestPath := fs.String("request", "", "sample request `FILE` (default: stdin)")
	ipFlag := fs.String("ip", "203.0.113.77", "the client's address as the gateway sees it (the TCP peer); X-Forwarded-For in the sample counts only if this is in server.trusted_proxies")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	atFlag := fs.String("at", "", "receive `TIME` of the sample request, RFC 3339 (default: now); it picks the pseudonym key period, so a fixed -at with a derived secret gives the same pseudonyms on every run")
	fs.Usage = func() {
		fmt.Fprint(stderr, explainUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	peer, err := netip.ParseAddr(*ipFlag)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate explain: -ip: %v\n", err)
		return 2
	}
	clk := clock.Real
	if *atFlag != "" {
		at, err := time.Parse(time.RFC3339Nano, *atFlag)
		if err != nil {
			fmt.Fprintf(stderr, "beacongate explain: -at: want an RFC 3339 time such as 2026-11-24T12:00:00Z\n")
			return 2
		}
		clk = clock.Fixed(at)
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		printConfigError(stderr, "beacongate explain", *configPath, err)
		return 1
	}
	in := stdin
	if *requestPath != "" {
		f, err := os.Open(*requestPath)
		if err != nil {
			fmt.Fprintf(stderr, "beacongate explain: %v\n", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	sample, err := io.ReadAll(io.LimitReader(in, maxExplainInput+1))
	if err != nil {
		fmt.Fprintf(stderr, "beacongate explain: cannot read the sample request: %v\n", err)
		return 1
	}
	if len(sample) > maxExplainInput {
		fmt.Fprintf(stderr, "beacongate explain: the sample request is larger than %d bytes\n", maxExplainInput)
		return 1
	}
	if len(bytes.TrimSpace(sample)) == 0 {
		fmt.Fprintln(stderr, "beacongate explain: the sample request is empty")
		return 1
	}
	x, err := newExplainer(cfg, clk)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate explain: %v\n", err)
		return 1
	}
	out := x.explain(sample, peer)
	if *configPath == "" {
		out.Config = "embedded default"
	} else {
		out.Config = *configPath
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		err = enc.Encode(out)
	} else {
		err = out.writeText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "beacongate explain: %v\n", err)
		return 1
	}
	return 0
}

// printConfigError prints a config load error, one problem per line.
func printConfigError(w io.Writer, cmd, path string, err error) {
	var list config.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Fprintln(w, e)
		}
		fmt.Fprintf(w, "%s: %s: the config has %d problem(s); see beacongate config check\n", cmd, path, len(list))
		return
	}
	fmt.Fprintf(w, "%s: %v\n", cmd, err)
}

// explainer drives the real gateway with one sample request and records
// what the privacy engine makes of each event. It is the gateway's
// EventHandler: events arrive in HandleEvent, synchronously inside
// Gateway.Handle.
type explainer struct {
	cfg    *config.Config
	plan   *plan.Plan // compiled from cfg, as the server compiles it
	engine *anonymize.Engine
	gw     *gateway.Gateway
	reg    *prometheus.Registry
	notes  []string
	noGeo  bool // a configured GeoIP database could not be opened
	events []explainedEvent
}

// newExplainer builds the gateway and engine as the server does (see
// app.settings), with pseudonym keys and GeoIP that never fail: explain only
// illustrates, so a missing secret or database becomes a note.
func newExplainer(cfg *config.Config, clk clock.Clock) (*explainer, error) {
	x := &explainer{cfg: cfg, reg: prometheus.NewRegistry()}
	a := &app{clock: clk} // only keys, geo and clock: app.settings builds the gateway settings from them
	keys, err := newKeyring(&cfg.Pseudonym, clk)
	if err != nil {
		if cfg.Pseudonym.Mode != config.PseudonymDerived {
			return nil, err
		}
		x.notes = append(x.notes, "pseudonym.mode is derived, but the secret cannot be read here ("+err.Error()+
			"): an ephemeral key stands in, so the pseudonyms shown differ from the server's")
		if keys, err = pseudonym.New(pseudonym.Options{Mode: pseudonym.Ephemeral, Period: cfg.Pseudonym.Period.D(), Clock: clk}); err != nil {
			return nil, err
		}
	} else if cfg.Pseudonym.Mode == config.PseudonymEphemeral {
		x.notes = append(x.notes, "pseudonyms use a fresh ephemeral key, as a restarted server would")
	}
	a.keys = keys
	switch path := cfg.GeoIP.Database; {
	case path == "":
		x.notes = append(x.notes, "no geo: geoip.database is not set")
	default:
		g, err := geo.NewReloadable(path)
		if err != nil {
			x.notes = append(x.notes, "no geo: "+err.Error())
			x.noGeo = true
		} else {
			a.geo = g
		}
	}
	settings, compiled, err := a.settings(cfg)
	if err != nil {
		return nil, err
	}
	x.plan = compiled
	if x.engine, err = anonymize.New(compiled, anonymize.Deps{Keys: a.keys, Geo: a.geo, Clock: clk}); err != nil {
		return nil, err
	}
	settings.Handler = x // replaces the Deliverer: nothing is spooled
	x.gw = gateway.New(settings, x.reg)
	return x, nil
}

// explainOutput is everything explain prints; its JSON form is the -json output.
type explainOutput struct {
	Config   string           `json:"config"`
	Policy   string           `json:"policy"`
	Notes    []string         `json:"notes"`
	Request  explainRequest   `json:"request"`
	Response explainResponse  `json:"response"`
	Rejected *explainReject   `json:"rejected"`
	Events   []explainedEvent `json:"events"`
}

type explainRequest struct {
	Form     string `json:"form"` // "http", "url" or "json"
	Method   string `json:"method"`
	URI      string `json:"uri"`
	ClientIP string `json:"peer_ip"`
}

type explainResponse struct {
	Status      int    `json:"status"`
	ContentType string `json:"content_type"`
	Body        string `json:"body,omitempty"` // text bodies only
}

type explainReject struct {
	Reason string `json:"reason"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

type explainedEvent struct {
	Kind    string          `json:"kind"`
	Consent explainConsent  `json:"consent"`
	States  []explainedCase `json:"states"`
	// Recipients says, per destination, whether it gets this event under
	// the request's own signals, the record it gets, and why not.
	Recipients []explainRecipient `json:"recipients"`
}

type explainRecipient struct {
	Destination string          `json:"destination"`
	Gets        bool            `json:"gets"`
	Why         string          `json:"why,omitempty"`
	Record      json.RawMessage `json:"record"`
}

type explainConsent struct {
	Present     []string `json:"present"`
	Malformed   []string `json:"malformed"`
	Rejected    []string `json:"rejected"`
	GDPR        string   `json:"gdpr"`
	TCFProblems []string `json:"tcf_problems,omitempty"`
	Decider     string   `json:"decided_by"`
	Granted     []string `json:"granted"`
	State       string   `json:"state"`
}

type explainedCase struct {
	State        string          `json:"state"`
	Applies      bool            `json:"applies"`
	Purposes     []string        `json:"purposes"`
	Dropped      bool            `json:"dropped"`
	Fields       []explainRow    `json:"fields"`
	Scrubbed     []string        `json:"scrubbed"`
	Destinations []string        `json:"destinations"`
	Record       json.RawMessage `json:"record"`
}

type explainRow struct {
	Field   string          `json:"field"`
	Arrived string          `json:"arrived"`
	Action  string          `json:"action"`
	Result  json.RawMessage `json:"result"` // null when nothing is recorded
}

// explain runs sample through the gateway as if it came from peer.
func (x *explainer) explain(sample []byte, peer netip.Addr) *explainOutput {
	out := &explainOutput{Policy: x.plan.Version(), Notes: x.notes, Events: []explainedEvent{}}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	x.events = x.events[:0]
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	form, rej := buildRequest(req, sample, int(x.cfg.Server.MaxHeaderBytes), int(x.cfg.Server.MaxBodyBytes))
	out.Request = explainRequest{Form: form, Method: string(req.Header.Method()), URI: string(req.RequestURI()), ClientIP: peer.String()}
	if rej != nil {
		// fasthttp's server refuses these before the gateway sees them.
		out.Rejected = rej
		out.Response = explainResponse{Status: rej.Status, ContentType: "text/plain; charset=utf-8"}
		return out
	}
	var ctx fasthttp.RequestCtx
	ctx.Init(req, &net.TCPAddr{IP: peer.AsSlice(), Port: 50000}, nil)
	x.gw.Handle(&ctx)
	resp := &ctx.Response
	out.Response = explainResponse{Status: resp.StatusCode()}
	if len(resp.Body()) > 0 { // the server sends no Content-Type without a body
		out.Response.ContentType = string(resp.Header.ContentType())
	}
	if strings.HasPrefix(out.Response.ContentType, "text/") {
		out.Response.Body = strings.TrimSpace(string(resp.Body()))
	}
	if reason := x.rejection(); reason != "" {
		out.Rejected = &explainReject{Reason: reason, Status: resp.StatusCode()}
		if ep := string(ctx.Path()); ep == "/p.gif" {
			out.Rejected.Detail = "the pixel still answers 200 with the GIF, so no page shows a broken image"
		}
	}
	out.Events = append(out.Events, x.events...)
	return out
}

// rejection returns the reason the gateway counted a rejection under, from
// beacongate_gateway_rejected_total on the explainer's own registry, or "".
func (x *explainer) rejection() string {
	mfs, err := x.reg.Gather()
	if err != nil {
		return ""
	}
	for _, mf := range mfs {
		if mf.GetName() != "beacongate_gateway_rejected_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetCounter().GetValue() == 0 {
				continue
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" {
					return l.GetValue()
				}
			}
		}
	}
	return ""
}

// buildRequest turns the sample into an HTTP request. It returns the form
// of the sample and, for requests fasthttp's server would refuse before
// the gateway sees them (too large, malformed), the rejection.
func buildRequest(req *fasthttp.Request, sample []byte, maxHeader, maxBody int) (string, *explainReject) {
	s := bytes.TrimPrefix(sample, []byte("\xef\xbb\xbf"))
	s = bytes.TrimLeft(s, " \t\r\n")
	trimmed := bytes.TrimRight(s, " \t\r\n")
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
			return "json", &explainReject{Reason: "body_too_large", Status: fasthttp.StatusRequestEntityTooLarge}
		}
		return "json", nil
	case !bytes.ContainsAny(trimmed, "\r\n") && (bytes.HasPrefix(trimmed, []byte("http://")) ||
		bytes.HasPrefix(trimmed, []byte("https://")) || bytes.HasPrefix(trimmed, []byte("/"))):
		req.Header.SetMethod(fasthttp.MethodGet)
		req.SetRequestURIBytes(trimmed)
		return "url", nil
	}
	raw, n := normalizeHTTP(s)
	if n > maxHeader {
		return "http", &explainReject{Reason: "header_too_large", Status: fasthttp.StatusRequestHeaderFieldsTooLarge,
			Detail: "the request head has " + strconv.Itoa(n) + " bytes; server.max_header_bytes is " + strconv.Itoa(maxHeader)}
	}
	if err := req.ReadLimitBody(bufio.NewReader(bytes.NewReader(raw)), maxBody); err != nil {
		req.Reset()
		first, _, _ := bytes.Cut(raw, []byte("\r\n"))
		if f := strings.Fields(string(first)); len(f) >= 2 {
			req.Header.SetMethod(f[0])
			req.SetRequestURI(f[1])
		}
		if errors.Is(err, fasthttp.ErrBodyTooLarge) {
			return "http", &explainReject{Reason: "body_too_large", Status: fasthttp.StatusRequestEntityTooLarge}
		}
		// fasthttp quotes the whole buffer after the reason; the reason is enough.
		detail, _, _ := strings.Cut(err.Error(), ": buffer size=")
		return "http", &explainReject{Reason: "malformed_request", Status: fasthttp.StatusBadRequest, Detail: detail}
	}
	return "http", nil
}

// normalizeHTTP rewrites a hand-written request for the parser: CRLF line
// endings, "HTTP/1.1" added to a request line without a version, and
// Content-Length set to the body's length (a hand-edited body rarely
// matches its header). It returns the request and the length of its head.
func normalizeHTTP(s []byte) ([]byte, int) {
	text := strings.ReplaceAll(string(s), "\r\n", "\n")
	head, body, _ := strings.Cut(text, "\n\n")
	body = strings.TrimRight(body, "\r\n")
	lines := strings.Split(strings.TrimRight(head, "\r\n"), "\n")
	if f := strings.Fields(lines[0]); len(f) == 2 {
		lines[0] = f[0] + " " + f[1] + " HTTP/1.1"
	}
	var b strings.Builder
	hasHost := false
	for i, l := range lines {
		name, _, _ := strings.Cut(l, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "content-length", "transfer-encoding":
			if i > 0 {
				continue
			}
		case "host":
			hasHost = hasHost || i > 0
		}
		b.WriteString(l + "\r\n")
	}
	if !hasHost {
		b.WriteString("Host: beacongate.invalid\r\n")
	}
	if body != "" {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n")
	n := b.Len()
	b.WriteString(body)
	return []byte(b.String()), n
}

// HandleEvent implements gateway.EventHandler: it runs the engine on e for
// the real signals and for each forced state. e is only read, and nothing
// of it is kept: every value is copied into strings.
func (x *explainer) HandleEvent(e *event.Event) error {
	ans := x.engine.Decide(e)
	realRec, real := x.engine.AppendRecord(make([]byte, 0, 16<<10), e)
	ev := explainedEvent{Kind: e.Kind.String(), Consent: explainConsent{
		Present:   setNames(ans.Present.String()),
		Malformed: setNames(ans.Malformed.String()),
		Rejected:  setNames(ans.Rejected.String()),
		GDPR:      ans.GDPR.String(),
		Decider:   ans.Decider.String(),
		Granted:   setNames(real.Purposes.String()),
		State:     real.State.String(),
	}}
	if ans.TCFProblems != 0 {
		ev.Consent.TCFProblems = ans.TCFProblems.AppendStrings(nil)
	}
	for st := anonymize.StateNone; st <= anonymize.StateAds; st++ {
		rec, res := realRec, real
		if st != real.State {
			rec, res = x.engine.AppendRecordAs(make([]byte, 0, 16<<10), e, st)
		}
		ev.States = append(ev.States, x.explainCase(e, rec, res, st == real.State))
	}
	recipients, _ := x.engine.Recipients(e)
	for _, r := range recipients {
		rec := json.RawMessage("null")
		if r.Record != nil {
			rec = json.RawMessage(r.Record)
		}
		ev.Recipients = append(ev.Recipients, explainRecipient{Destination: r.Name, Gets: r.Gets, Why: r.Why, Record: rec})
	}
	x.events = append(x.events, ev)
	return nil
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
func (x *explainer) explainCase(e *event.Event, rec []byte, res anonymize.Result, applies bool) explainedCase {
	c := explainedCase{State: res.State.String(), Applies: applies, Purposes: setNames(res.Purposes.String()),
		Dropped: res.Drop, Scrubbed: []string{}, Destinations: []string{}}
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
	for _, r := range ropa.Rules(x.plan, ropa.FactsOf(x.cfg), res.State) {
		actions[r.Field] = r.Action
	}
	if x.noGeo && x.plan.Policies[res.State].Geo != plan.GeoNone {
		actions["geo"] += " (database not available here: none)"
	}
	add := func(field, arrived, action string, result json.RawMessage) {
		c.Fields = append(c.Fields, explainRow{Field: field, Arrived: arrived, Action: action, Result: result})
	}
	ip := ""
	if e.ClientIP.IsValid() {
		ip = e.ClientIP.String()
	}
	add("site", string(e.Site), "keep", fields["site"])
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
	add("visitor_hash", "(site + ip + user agent)", actions["visitor_hash"], fields["visitor"])
	add("accept_language", string(e.AcceptLanguage), actions["accept_language"], fields["lang"])
	pol := &x.plan.Policies[res.State]
	for _, p := range e.Props {
		action := "drop (properties: drop)"
		if pol.Properties == plan.PropertiesAllowlist {
			action = "drop (not in properties.allow)"
			for _, a := range x.plan.Properties {
				if a == string(p.Key) {
					action = "keep (allowlisted), scan"
				}
			}
		}
		add("props."+string(p.Key), string(p.Value), action, props[string(p.Key)])
	}
	if e.Kind == event.KindBLE {
		s := &e.Sighting
		add("store", string(e.Store), "scan", ble["store"])
		add("sensor", string(e.Sensor), "scan", ble["sensor"])
		if len(s.UUID) > 0 {
			add("beacon", string(s.UUID)+" "+strconv.Itoa(int(s.Major))+"/"+strconv.Itoa(int(s.Minor)), "keep",
				joinJSON(ble, "uuid", "major", "minor"))
		} else {
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
	if !res.Drop {
		for i := range x.plan.Destinations {
			if d := &x.plan.Destinations[i]; d.Accepts(res.Purposes) {
				c.Destinations = append(c.Destinations, d.Name)
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

// writeText prints out as aligned plain text.
func (out *explainOutput) writeText(w io.Writer) error {
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
		if rj.Detail != "" {
			fmt.Fprintf(bw, "          %s\n", rj.Detail)
		}
	}
	for i, ev := range out.Events {
		fmt.Fprintf(bw, "\n=== event %d of %d: %s\n\n", i+1, len(out.Events), ev.Kind)
		c := ev.Consent
		tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "consent from the request's signals")
		fmt.Fprintf(tw, "  present\t%s\n", listOrNone(c.Present))
		fmt.Fprintf(tw, "  malformed\t%s\n", listOrNone(c.Malformed))
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
				fmt.Fprintln(bw, "  event dropped by the policy (bots: drop): no record, no destination")
				continue
			}
			if len(sc.Scrubbed) > 0 {
				fmt.Fprintf(bw, "  removed from URLs and text: %s\n", strings.Join(sc.Scrubbed, ", "))
			}
			fmt.Fprintf(bw, "  destinations: %s\n", listOrNone(sc.Destinations))
			fmt.Fprintf(bw, "  record: %s\n", sc.Record)
		}
		fmt.Fprintln(bw, "\n--- per destination, under this request's signals")
		for _, r := range ev.Recipients {
			if !r.Gets {
				fmt.Fprintf(bw, "  %s: gets nothing: %s\n", r.Destination, r.Why)
				continue
			}
			fmt.Fprintf(bw, "  %s: gets %s\n", r.Destination, r.Record)
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
