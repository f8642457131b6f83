// Package contract runs local stand-ins for the ad platforms' event APIs,
// for tests: one TLS server on 127.0.0.1 per platform that checks every
// request against a JSON Schema written from the platform's public
// reference (testdata/*.schema.json, each citing its sources in $comment):
// required fields, types, batch limits, hashed values as 64 lowercase hex.
// It answers as the platform does (success bodies, per-event errors, 429
// with Retry-After, 5xx), and counts what arrived and what it refused.
//
// It is test support: only tests import it.
package contract

import (
	"bytes"
	"crypto/x509"
	"embed"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed testdata/*.schema.json
var schemas embed.FS

// Platform is the API a Server stands in for.
type Platform string

// The platforms.
const (
	Meta   Platform = "meta_capi"
	GA4    Platform = "ga4_mp"
	TikTok Platform = "tiktok_events"
)

// Answer is a scripted answer, given instead of the normal one to the
// next request; the zero Answer lets a request through to the normal
// answer.
type Answer struct {
	Status     int
	RetryAfter string // Retry-After header, if set
	Location   string // Location header, if set (a 3xx)
	Body       string
}

// Event is one event the server accepted.
type Event struct {
	ID, Name string
	Raw      json.RawMessage
}

// Server is one platform's stand-in.
type Server struct {
	Platform Platform
	srv      *httptest.Server
	schema   *jsonschema.Schema
	token    string
	id       string
	sources  map[string]string // TikTok: event_source → its event_source_id

	mu        sync.Mutex
	before    func(r *http.Request, body []byte) Answer
	script    []Answer
	badIDs    map[string]bool
	events    []Event
	requests  int
	refused   []string // schema violations, one line each
	maxBatch  int
	testCodes map[string]int
	perEvent  int // events answered as failed
	envelopes []string
	bodies    []string  // every request as received: its URL, then its body
	now       time.Time // SetNow; zero: event ages are not checked
}

// SetNow pins the time the server judges events' ages by, as the
// platforms do: Meta refuses a whole request holding an event more than 7
// days old (server event parameters, event_time); GA4 records events
// backdated up to 72 hours only (its validation server names an older one,
// /mp/collect drops it). Without SetNow ages are not checked: tests do not
// depend on the wall clock.
func (s *Server) SetNow(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = t
}

// SetSourceID (TikTok) makes id the event_source_id the server expects for
// the events of source (app: the TikTok App ID; offline: the Offline Event
// Set ID); New's id is the web events' (the Pixel code). A request whose
// event_source_id is not its source's is refused, as TikTok refuses an
// event source it does not know; "" forgets the source's id.
func (s *Server) SetSourceID(source, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" {
		delete(s.sources, source)
		return
	}
	s.sources[source] = id
}

// Envelopes returns, for each valid GA4 request, its members but events
// (client_id, user_id, consent, user_data) as JSON with sorted keys.
func (s *Server) Envelopes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.envelopes...)
}

// New starts a TLS server for p that expects the platform id id (pixel,
// measurement or event source id) and the credential token. It stops when
// t's test ends.
func New(t testing.TB, p Platform, id, token string) *Server {
	t.Helper()
	s := &Server{Platform: p, token: token, id: id, badIDs: map[string]bool{}, testCodes: map[string]int{},
		sources: map[string]string{"web": id}}
	sch, err := compile(p)
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	s.schema = sch
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func compile(p Platform) (*jsonschema.Schema, error) {
	name := "testdata/" + string(p) + ".schema.json"
	b, err := schemas.ReadFile(name)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(name, doc); err != nil {
		return nil, err
	}
	return c.Compile(name)
}

// URL is the server's base URL (https://127.0.0.1:port).
func (s *Server) URL() string { return s.srv.URL }

// Client returns an HTTP client that trusts the server's certificate.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// CertFile writes the server's certificate as PEM into dir and returns the
// path: for a process that must trust it (SSL_CERT_FILE).
func (s *Server) CertFile(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, string(s.Platform)+".pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// CertPool returns a pool holding the server's certificate.
func (s *Server) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.srv.Certificate())
	return p
}

// Script queues answers for the next requests, before any validation.
func (s *Server) Script(a ...Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, a...)
}

// RejectEvents makes the server refuse the events with these ids as the
// platform refuses invalid events: Meta fails the whole request, TikTok
// answers a partial success listing them, GA4's validation server lists
// them in validationMessages (the live /mp/collect says nothing).
func (s *Server) RejectEvents(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.badIDs[id] = true
	}
}

// Stats is what the server saw.
type Stats struct {
	Requests int            // requests received, scripted ones included
	Events   int            // events accepted
	Refused  []string       // schema violations and bad credentials, one line each
	MaxBatch int            // most events in one valid request
	Failed   int            // events answered as failed (RejectEvents)
	Test     map[string]int // events by test_event_code (GA4: "debug")
}

// Stats returns a copy of the counts.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Requests: s.requests, Events: len(s.events), Refused: append([]string(nil), s.refused...),
		MaxBatch: s.maxBatch, Failed: s.perEvent, Test: map[string]int{}}
	for k, v := range s.testCodes {
		st.Test[k] = v
	}
	return st
}

// Requests returns every request read so far, valid or not, answered
// normally or by a scripted answer: its URL (path and query), its headers
// but Authorization and Access-Token, then its body, each request as one
// string. Tests search it for data that must not reach the platform.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

// Events returns the events accepted so far.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// Before makes f see each request as it arrives, with its body, before the
// server counts it or takes its lock: f runs on the request's own
// goroutine, concurrently for concurrent requests, so a test can hold
// requests there (latency without sleeping, requests in flight counted) or
// answer by what a request holds. A non-zero Answer f returns is given
// instead of the normal one (the script is left as it is); the zero
// Answer lets the request through to the script and the normal answer.
// nil removes f.
func (s *Server) Before(f func(r *http.Request, body []byte) Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.before = f
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	s.mu.Lock()
	before := s.before
	s.mu.Unlock()
	var a Answer
	if before != nil {
		a = before(r, body)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	var seen strings.Builder
	seen.WriteString(r.URL.RequestURI())
	for k, vs := range r.Header {
		if k != "Authorization" && k != "Access-Token" {
			seen.WriteString("\n" + k + ": " + strings.Join(vs, ", "))
		}
	}
	s.bodies = append(s.bodies, seen.String()+"\n\n"+string(body))
	if a.Status == 0 && len(s.script) > 0 {
		a = s.script[0]
		s.script = s.script[1:] // a zero Answer is a pass-through: answer normally
	}
	if a.Status != 0 {
		if a.RetryAfter != "" {
			w.Header().Set("Retry-After", a.RetryAfter)
		}
		if a.Location != "" {
			w.Header().Set("Location", a.Location)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.Status)
		io.WriteString(w, a.Body)
		return
	}
	if err != nil {
		s.fail(w, 400, "body: "+err.Error())
		return
	}
	switch s.Platform {
	case Meta:
		s.serveMeta(w, r, body)
	case GA4:
		s.serveGA4(w, r, body)
	case TikTok:
		s.serveTikTok(w, r, body)
	}
}

// validate checks body against the schema; it returns the parsed body or
// records why not.
func (s *Server) validate(body []byte) (map[string]any, error) {
	if !json.Valid(body) {
		return nil, errors.New("body is not JSON")
	}
	if path, ok := DuplicateName(body); ok {
		return nil, errors.New("member name given twice at " + path + ": not I-JSON (RFC 7493 section 2.3); the platform would keep one of the values silently")
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if err := s.schema.Validate(inst); err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// DuplicateName reports the first object member name that occurs twice in
// one object of the JSON text body, as a path (events[0].params.plan_type);
// false for a text without one, or that is not JSON. encoding/json and the
// schema validator keep the last value silently, as the platforms do;
// I-JSON (RFC 7493, section 2.3) forbids it, and the servers refuse it.
func DuplicateName(body []byte) (string, bool) {
	type frame struct {
		names map[string]bool // nil: an array
		path  string
		key   string // the member whose value comes next
		named bool   // key is read: the next token starts its value ("" is a name too)
		index int    // the array element that comes next
	}
	d := json.NewDecoder(bytes.NewReader(body))
	var stack []*frame
	// child names the value about to start in the innermost frame.
	child := func() string {
		if len(stack) == 0 {
			return ""
		}
		f := stack[len(stack)-1]
		if f.names == nil {
			f.index++
			return f.path + "[" + strconv.Itoa(f.index-1) + "]"
		}
		if f.path == "" {
			return f.key
		}
		return f.path + "." + f.key
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return "", false
		}
		top := (*frame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.names != nil && !top.named {
			// A member name, or the object's end.
			if k, ok := tok.(string); ok {
				if top.names[k] {
					if top.path == "" {
						return k, true
					}
					return top.path + "." + k, true
				}
				top.names[k] = true
				top.key, top.named = k, true
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{names: map[string]bool{}, path: child()})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{path: child()})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		default:
			child()
		}
		// A value ended: the enclosing object awaits its next name.
		if len(stack) > 0 && stack[len(stack)-1].names != nil {
			stack[len(stack)-1].key, stack[len(stack)-1].named = "", false
		}
	}
}

// fail records a refusal and answers status with a generic body.
func (s *Server) fail(w http.ResponseWriter, status int, why string) {
	s.refused = append(s.refused, strings.ReplaceAll(why, "\n", " | "))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, `{"error":{"message":"contract: refused"}}`)
}

// accept stores the events of a valid request.
func (s *Server) accept(events []any, idKey, nameKey, test string) {
	s.maxBatch = max(s.maxBatch, len(events))
	for _, e := range events {
		m, _ := e.(map[string]any)
		raw, _ := json.Marshal(m)
		id, _ := m[idKey].(string)
		name, _ := m[nameKey].(string)
		s.events = append(s.events, Event{ID: id, Name: name, Raw: raw})
		if test != "" {
			s.testCodes[test]++
		}
	}
}

// bad returns the indexes of events whose id RejectEvents named.
func (s *Server) bad(events []any, idKey string) []int {
	var out []int
	for i, e := range events {
		m, _ := e.(map[string]any)
		if id, _ := m[idKey].(string); s.badIDs[id] {
			out = append(out, i)
		}
	}
	return out
}

func without(events []any, drop []int) []any {
	var out []any
	for i, e := range events {
		keep := true
		for _, d := range drop {
			keep = keep && d != i
		}
		if keep {
			out = append(out, e)
		}
	}
	return out
}

// Meta: https://developers.facebook.com/docs/marketing-api/conversions-api/using-the-api
// answers {"events_received":n,"messages":[],"fbtrace_id":...}; an
// invalid event fails the request with 400 and an error of code 100; a bad
// token 400 with code 190 (https://developers.facebook.com/docs/marketing-api/error-reference).
func (s *Server) serveMeta(w http.ResponseWriter, r *http.Request, body []byte) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.Method != http.MethodPost || len(parts) != 3 || !strings.HasPrefix(parts[0], "v") || parts[2] != "events" {
		s.fail(w, 404, "meta: path "+r.URL.Path)
		return
	}
	if parts[1] != s.id {
		s.fail(w, 400, "meta: unknown pixel")
		return
	}
	m, err := s.validate(body)
	if err != nil {
		s.fail(w, 400, "meta: "+err.Error())
		return
	}
	if m["access_token"] != s.token {
		s.refused = append(s.refused, "meta: bad access token")
		w.WriteHeader(400)
		io.WriteString(w, `{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190,"fbtrace_id":"contract"}}`)
		return
	}
	events := m["data"].([]any)
	if !s.now.IsZero() {
		for i, e := range events {
			if t, _ := e.(map[string]any)["event_time"].(float64); s.now.Sub(time.Unix(int64(t), 0)) > 7*24*time.Hour {
				s.refused = append(s.refused, "meta: event_time older than 7 days")
				w.WriteHeader(400)
				fmt.Fprintf(w, `{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,"is_transient":false,"error_user_title":"Event Timestamp Too Old","error_user_msg":"event at index %d has an event_time more than 7 days in the past","fbtrace_id":"contract"}}`, i)
				return
			}
		}
	}
	if bad := s.bad(events, "event_id"); len(bad) > 0 {
		s.perEvent += len(bad)
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,"error_subcode":2804008,"is_transient":false,"error_user_title":"Invalid event","error_user_msg":"event at index %d is invalid","fbtrace_id":"contract"}}`, bad[0])
		return
	}
	test, _ := m["test_event_code"].(string)
	s.accept(events, "event_id", "event_name", test)
	fmt.Fprintf(w, `{"events_received":%d,"messages":[],"fbtrace_id":"contract"}`, len(events))
}

// GA4MaxBody is the size a GA4 request body must stay below: "The post body
// must be smaller than 130kB" (sending-events, Limitations), 130,000 bytes
// as Google's own GA4 event builder checks it (ga-dev-tools, "Post body
// must be smaller than 130kBs"). The server refuses a larger body as it
// refuses one its schema refuses.
const GA4MaxBody = 130000

// GA4: /mp/collect answers 204 to anything; /debug/mp/collect answers 200
// with {"validationMessages":[{"fieldPath","description","validationCode"}]}
// (https://developers.google.com/analytics/devguides/collection/protocol/ga4/validating-events).
// Requests the schema refuses are counted here in both cases.
func (s *Server) serveGA4(w http.ResponseWriter, r *http.Request, body []byte) {
	debug := r.URL.Path == "/debug/mp/collect"
	if r.Method != http.MethodPost || (!debug && r.URL.Path != "/mp/collect") {
		s.fail(w, 404, "ga4: path "+r.URL.Path)
		return
	}
	q := r.URL.Query()
	if q.Get("measurement_id") != s.id || q.Get("api_secret") != s.token {
		// GA4 drops such hits silently; the stand-in counts them.
		s.refused = append(s.refused, "ga4: bad measurement_id or api_secret")
		w.WriteHeader(204)
		return
	}
	m, err := s.validate(body)
	if err == nil && len(body) >= GA4MaxBody {
		err = fmt.Errorf("post body of %d bytes: it must be smaller than 130kB (%d bytes)", len(body), GA4MaxBody)
	}
	if err != nil {
		s.refused = append(s.refused, "ga4: "+strings.ReplaceAll(err.Error(), "\n", " | "))
		if debug {
			io.WriteString(w, `{"validationMessages":[{"fieldPath":"","description":"contract: schema","validationCode":"VALUE_INVALID"}]}`)
		} else {
			w.WriteHeader(204)
		}
		return
	}
	events := m["events"].([]any)
	delete(m, "events")
	env, _ := json.Marshal(m)
	s.envelopes = append(s.envelopes, string(env))
	// GA4 has no event id: the stand-in reads it from params.event_id
	// when a test sets one, else the name.
	bad := s.badGA4(events)
	var old []int
	if !s.now.IsZero() {
		for i, e := range events {
			if t, ok := e.(map[string]any)["timestamp_micros"].(float64); ok && s.now.Sub(time.UnixMicro(int64(t))) > 72*time.Hour {
				old = append(old, i)
				s.refused = append(s.refused, "ga4: events["+strconv.Itoa(i)+"].timestamp_micros older than 72 hours")
			}
		}
		bad = append(bad, old...)
	}
	test := ""
	if debug {
		test = "debug"
	}
	s.acceptGA4(without(events, bad), test)
	if !debug {
		w.WriteHeader(204)
		return
	}
	var msgs []string
	for _, i := range bad[:len(bad)-len(old)] {
		s.perEvent++
		// As GA4's validation server names an event by its name: the
		// index in the description (validating-events, its example).
		msgs = append(msgs, `{"fieldPath":"events","description":"Event at index: [`+strconv.Itoa(i)+`] has invalid name (contract: refused).","validationCode":"NAME_INVALID"}`)
	}
	for _, i := range old {
		msgs = append(msgs, `{"fieldPath":"events[`+strconv.Itoa(i)+`].timestamp_micros","description":"older than 72 hours","validationCode":"VALUE_OUT_OF_BOUNDS"}`)
	}
	io.WriteString(w, `{"validationMessages":[`+strings.Join(msgs, ",")+`]}`)
}

func (s *Server) badGA4(events []any) []int {
	var out []int
	for i, e := range events {
		m, _ := e.(map[string]any)
		p, _ := m["params"].(map[string]any)
		if id, _ := p["event_id"].(string); s.badIDs[id] {
			out = append(out, i)
		}
	}
	return out
}

func (s *Server) acceptGA4(events []any, test string) {
	s.maxBatch = max(s.maxBatch, len(events))
	for _, e := range events {
		m, _ := e.(map[string]any)
		raw, _ := json.Marshal(m)
		p, _ := m["params"].(map[string]any)
		id, _ := p["event_id"].(string)
		name, _ := m["name"].(string)
		s.events = append(s.events, Event{ID: id, Name: name, Raw: raw})
		if test != "" {
			s.testCodes[test]++
		}
	}
}

// TikTok: answers HTTP 200 with {"code":0,"message":"OK","request_id":...};
// a bad token code 40105; failed events code 20001 with
// data.failed_events[{index,code,message}] (modelled on the Events API's
// partial-success answer).
func (s *Server) serveTikTok(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost || r.URL.Path != "/open_api/v1.3/event/track/" {
		s.fail(w, 404, "tiktok: path "+r.URL.Path)
		return
	}
	if r.Header.Get("Access-Token") != s.token {
		s.refused = append(s.refused, "tiktok: bad Access-Token")
		io.WriteString(w, `{"code":40105,"message":"Access token is incorrect or has been revoked.","request_id":"contract","data":{}}`)
		return
	}
	m, err := s.validate(body)
	if err != nil {
		s.refused = append(s.refused, "tiktok: "+strings.ReplaceAll(err.Error(), "\n", " | "))
		io.WriteString(w, `{"code":40002,"message":"contract: invalid parameters","request_id":"contract","data":{}}`)
		return
	}
	if src, _ := m["event_source"].(string); s.sources[src] == "" || m["event_source_id"] != s.sources[src] {
		s.refused = append(s.refused, "tiktok: event_source_id is not the id of an event source "+src)
		io.WriteString(w, `{"code":40002,"message":"event_source_id","request_id":"contract","data":{}}`)
		return
	}
	events := m["data"].([]any)
	bad := s.bad(events, "event_id")
	test, _ := m["test_event_code"].(string)
	s.accept(without(events, bad), "event_id", "event", test)
	if len(bad) == 0 {
		io.WriteString(w, `{"code":0,"message":"OK","request_id":"contract","data":{}}`)
		return
	}
	var f []string
	for _, i := range bad {
		s.perEvent++
		f = append(f, `{"index":`+strconv.Itoa(i)+`,"code":40002,"message":"contract: refused"}`)
	}
	io.WriteString(w, `{"code":20001,"message":"Partial success","request_id":"contract","data":{"failed_events":[`+strings.Join(f, ",")+`]}}`)
}
