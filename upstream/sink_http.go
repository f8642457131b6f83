package upstream

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
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/internal/httpheader"
	"github.com/beacongate/beacongate/internal/tokenfile"
)

// HTTPOptions configures an HTTP destination: each batch is one POST of
// compressed NDJSON.
type HTTPOptions struct {
	URL string

	// Headers are added to every request (e.g. an API key header).
	Headers map[string]string

	// BearerToken, or the first line of BearerTokenFile, is sent as
	// "Authorization: Bearer <token>". The file is read at start, and
	// again after the destination answered 401 or 403, so a token rotated
	// in the file is taken without a restart.
	BearerToken     string
	BearerTokenFile string

	// Timeout bounds one request, body included. Default 30 s.
	Timeout time.Duration

	// TLS configures HTTPS (client certificates, private CAs).
	TLS *tls.Config

	// Client replaces the default client (Timeout and TLS are then
	// ignored). Its CheckRedirect is replaced: redirects are never
	// followed.
	Client *http.Client

	// Clock is what a Retry-After date is compared with. Nil means
	// clock.Real; a Pipeline passes its own.
	Clock clock.Clock
}

// HTTPSink posts batches. Answers are classified as follows:
//
//   - 2xx: delivered;
//   - 3xx: never followed (a followed 301/302/303 turns the POST into a
//     GET without body, whose 200 would count the batch as delivered); a
//     refusal, retried with backoff, logged with the Location's host and
//     counted, dead-lettered once the destination has redirected for
//     RetryOptions.RedirectDeadLetterAfter;
//   - 401 and 403: a refusal (tokens rotate), retried with backoff and
//     counted, dead-lettered once the destination has refused the
//     credentials for RetryOptions.AuthDeadLetterAfter;
//   - 429 and 503: retried, after the Retry-After the server sent (seconds
//     or an HTTP date) if any, else after the usual backoff; so is 409,
//     the answer of a collector that honours Idempotency-Key to a retry
//     while the first request with that key is still being processed;
//   - 408 and 425, other 5xx, network errors, timeouts: retried with
//     exponential backoff and jitter;
//   - 413: the batch is sent again in halves, down to single records; a
//     record too large on its own is dead-lettered alone (see Send);
//   - any other 4xx (400, 404, 422, ...): the batch is moved
//     to the dead-letter folder and counted, never retried forever.
//
// Requests carry Content-Type: application/x-ndjson, Content-Encoding:
// zstd or gzip, and Idempotency-Key: <destination>-<first>-<end>-<event
// id>, the batch's spool offsets and its first record's id, the same each
// time the same batch is sent (see idempotencyKey).
type HTTPSink struct {
	url    string
	host   string // what errors name instead of url
	header http.Header
	client *http.Client
	clock  clock.Clock
	// tokenFile is BearerTokenFile; authRefused says the last answer was
	// 401 or 403, so the next Send reads it again first.
	tokenFile   string
	authRefused bool
	// keys are the values of the configured headers (a key sent as
	// X-Api-Key) long enough to be told apart in an answer: redacted
	// from the answer kept beside a dead letter, as the token is.
	keys []string
	// split and splitBuf encode the parts of a batch answered 413.
	split    *Encoder
	splitBuf []byte
	// progress is that of the batch the last Send sent in parts (after a
	// 413) and did not deliver: done[i] says a part holding record i was
	// delivered. A retry of the batch does not send those parts again, and
	// a batch given up on is dead-lettered without them (Undelivered).
	// Kept too, until the next batch, for a batch delivered but for
	// records refused for good, so that a retry (the shipper could not
	// write their dead letter) posts nothing again. Empty otherwise.
	progress batchProgress
}

// NewHTTPSink checks o and reads the token file.
func NewHTTPSink(o HTTPOptions) (*HTTPSink, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// Not quoted: its path or query may hold the collector's key.
		return nil, errors.New("upstream: the HTTP URL is not an http or https URL with a host")
	}
	h := make(http.Header)
	for k, v := range o.Headers {
		// The client would refuse every request carrying such a header;
		// the value is not quoted (it may be a key).
		if !httpheader.ValidName(k) {
			return nil, fmt.Errorf("upstream: header name %q is not a valid HTTP header name", k)
		}
		if !httpheader.ValidValue(v) {
			return nil, fmt.Errorf("upstream: the value of header %s holds a control character (a line break, NUL, DEL, ...), which no HTTP request can carry; remove it", k)
		}
		h.Set(k, v)
	}
	var keys []string
	for _, v := range h {
		if len(v[0]) >= minRedacted {
			keys = append(keys, v[0])
		}
	}
	h.Set("Content-Type", "application/x-ndjson")
	if h.Get("User-Agent") == "" {
		h.Set("User-Agent", "beacongate")
	}
	tok := o.BearerToken
	if o.BearerTokenFile != "" {
		if tok, err = readBearerToken(o.BearerTokenFile); err != nil {
			return nil, err
		}
	}
	if tok != "" {
		h.Set("Authorization", "Bearer "+tok)
	}
	c := o.Client
	if c == nil {
		if o.Timeout <= 0 {
			o.Timeout = 30 * time.Second
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = o.TLS
		tr.MaxIdleConnsPerHost = 4
		tr.DisableCompression = true // never ask for gzip answers: we only drain them
		c = &http.Client{Timeout: o.Timeout, Transport: tr}
	} else {
		cc := *c
		c = &cc
	}
	c.CheckRedirect = noRedirects
	return &HTTPSink{url: o.URL, host: u.Host, header: h, client: c, clock: clock.Or(o.Clock), tokenFile: o.BearerTokenFile, keys: keys}, nil
}

// readBearerToken returns the token in the file at path (tokenfile.Read:
// its first line, as config check reads it).
func readBearerToken(path string) (string, error) {
	tok, err := tokenfile.Read(path)
	switch {
	case errors.Is(err, tokenfile.ErrEmpty), errors.Is(err, tokenfile.ErrFirstLineEmpty), errors.Is(err, tokenfile.ErrTooLong):
		return "", fmt.Errorf("upstream: bearer token file %s: %w", path, err)
	case err != nil:
		return "", fmt.Errorf("upstream: cannot read the bearer token: %w", err)
	}
	return tok, nil
}

// reloadToken reads the token file again after a 401 or 403: an operator
// rotates the token by writing the new one there. An unreadable or empty
// file keeps the token in use (the refusals go on, and the batch is
// dead-lettered after the auth window as before).
func (s *HTTPSink) reloadToken() {
	if s.tokenFile == "" {
		return
	}
	if tok, err := readBearerToken(s.tokenFile); err == nil {
		s.header.Set("Authorization", "Bearer "+tok)
	}
}

// Send posts b.Encoded (b.Data for sinks without encoding). A batch the
// destination answers 413 (Content Too Large) is sent again in halves, and
// halves of those, down to single records: a collector whose body limit is
// below the batch (a proxy's 1 MiB default) takes its records, and only a
// record that is too large on its own is refused for good (RejectedRecords:
// the shipper dead-letters it alone). Each part has its own
// Idempotency-Key, the batch's with the part's record range. When a part
// fails, the parts already delivered are not sent again by the retry.
func (s *HTTPSink) Send(ctx context.Context, b *Batch) error {
	body := b.Encoded
	codec := b.Codec
	if len(body) == 0 {
		body, codec = b.Data, CodecNone
	}
	key := idempotencyKey(b)
	if !s.progress.of(b) { // else it was answered 413, and some parts sent
		s.progress.reset()
		err := s.post(ctx, body, codec, key)
		if b.Len() < 2 || !tooLarge(err) {
			return err
		}
		s.progress.start(b)
	}
	var rejected []int
	if err := s.sendRange(ctx, b, codec, key, 0, b.Len(), &rejected); err != nil {
		return err
	}
	if len(rejected) > 0 {
		// The batch counts as delivered; its progress is kept until the
		// next batch, so that a retry (the shipper could not write the
		// dead letter) posts nothing again and reports them again.
		return s.progress.refuse(rejected, fmt.Errorf("POST to %s: HTTP 413: %d records each larger than the destination takes", s.host, len(rejected)))
	}
	if err := s.progress.rejected(); err != nil {
		return err
	}
	s.progress.reset()
	return nil
}

// sendRange posts b's records lo..hi-1 encoded with codec, and halves the
// range on a 413 until the parts are taken; a single record answered 413
// goes to *rejected. A range an earlier attempt delivered is skipped, and
// one it delivered in part is halved without being posted.
func (s *HTTPSink) sendRange(ctx context.Context, b *Batch, codec Codec, key string, lo, hi int, rejected *[]int) error {
	if !slices.Contains(s.progress.done[lo:hi], false) {
		return nil
	}
	if (lo > 0 || hi < b.Len()) && !slices.Contains(s.progress.done[lo:hi], true) { // the whole batch was posted as it is
		start := 0
		if lo > 0 {
			start = b.ends[lo-1] + 1
		}
		raw := b.Data[start : b.ends[hi-1]+1]
		body := raw
		if codec != CodecNone {
			if s.split == nil || s.split.Codec() != codec {
				enc, err := NewEncoder(codec, 0)
				if err != nil {
					return Permanent(err)
				}
				s.split = enc
			}
			var err error
			if s.splitBuf, err = s.split.AppendEncoded(s.splitBuf[:0], raw); err != nil {
				return Permanent(err)
			}
			body = s.splitBuf
		}
		err := s.post(ctx, body, codec, key+"-r"+strconv.Itoa(lo)+"-"+strconv.Itoa(hi))
		if err == nil {
			for i := lo; i < hi; i++ {
				s.progress.done[i] = true
			}
		}
		if !tooLarge(err) {
			return err
		}
	}
	if hi-lo == 1 {
		*rejected = append(*rejected, lo)
		return nil
	}
	mid := lo + (hi-lo)/2
	if err := s.sendRange(ctx, b, codec, key, lo, mid, rejected); err != nil {
		return err
	}
	return s.sendRange(ctx, b, codec, key, mid, hi, rejected)
}

// Undelivered implements Progress: the records of b no part delivered,
// while s keeps b's progress (b was sent in parts after a 413). A batch
// given up on (a part refused for good) is dead-lettered without the parts
// already delivered.
func (s *HTTPSink) Undelivered(b *Batch) ([]int, bool) { return s.progress.undelivered(b) }

// tooLarge reports whether err is the destination's 413.
func tooLarge(err error) bool {
	var se *httpStatusError
	return errors.As(err, &se) && se.status == http.StatusRequestEntityTooLarge
}

// post sends one request and classifies its answer (classifyHTTP).
func (s *HTTPSink) post(ctx context.Context, body []byte, codec Codec, key string) error {
	if s.authRefused {
		s.reloadToken()
		s.authRefused = false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return Permanent(err)
	}
	req.Header = s.header.Clone()
	if ce := codec.ContentEncoding(); ce != "" && codec != CodecNone {
		req.Header.Set("Content-Encoding", ce)
	}
	req.Header.Set("Idempotency-Key", key)
	resp, err := s.client.Do(req)
	if err != nil {
		// Network error or timeout: retryable. A url.Error quotes the
		// whole URL, whose path or query may hold the collector's key
		// (?token=...), and this error goes to the log: name the host.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("POST to %s: %w", s.host, err)
	}
	// A collector may echo the records it refuses ("invalid record:
	// {...}"): the answer's start is kept apart from the error's text
	// (which goes to the log) and written only beside a dead letter,
	// with the records themselves (answerOf).
	// It may also echo what the request carried besides the records: the
	// bearer token, a configured header's key, and (a redirect's body)
	// the whole target URL, whose path or query the error leaves out.
	// Those are taken out of it (answerSnippet).
	auth := strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
	snippet := s.answerSnippet(resp, auth)
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // so the connection is reused
	resp.Body.Close()
	s.authRefused = resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden
	return classifyHTTP(resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Location"), snippet, s.clock.Now())
}

// answerLen is how much of an answer is kept beside a dead letter.
const answerLen = 512

// minRedacted is the shortest configured header value redacted from an
// answer: a shorter one (a tenant number, "1") is no key, and replacing
// it everywhere would garble the answer.
const minRedacted = 8

// redactedMark replaces a credential in a kept answer.
const redactedMark = "[redacted]"

// answerSnippet reads the start of resp's body, to be kept beside a dead
// letter, without the credentials the request carried (the token auth and
// s.keys) and, for a redirect, without anything: its body is the
// Location's target again, path and query included. A credential that
// begins within the first answerLen bytes is read whole, so that it is
// redacted rather than cut.
func (s *HTTPSink) answerSnippet(resp *http.Response, auth string) []byte {
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil
	}
	extra := len(auth)
	for _, k := range s.keys {
		extra = max(extra, len(k))
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, int64(answerLen+extra)))
	if auth != "" {
		b = bytes.ReplaceAll(b, []byte(auth), []byte(redactedMark))
	}
	for _, k := range s.keys {
		b = bytes.ReplaceAll(b, []byte(k), []byte(redactedMark))
	}
	return b[:min(len(b), answerLen)]
}

// idempotencyKey returns the Idempotency-Key of b:
// <destination>-<first>-<end>-<event id>, the batch's spool offsets and
// the id of its first record. Another spool (another instance behind the
// load balancer, an instance started on a fresh volume) numbers its
// offsets from 0 too: the event id, drawn apart by each instance, keeps
// its batches' keys apart, while a batch sent again after a failure or a
// restart has the same first record. A first record without an id of
// event-id characters (a producer other than the gateway) leaves it out.
func idempotencyKey(b *Batch) string {
	key := b.Destination + "-" + strconv.FormatUint(b.First, 10) + "-" + strconv.FormatUint(b.End, 10)
	if b.Len() == 0 {
		return key
	}
	id := jsonStringField(b.Record(0), "id")
	if len(id) == 0 || len(id) > 64 {
		return key
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return key
		}
	}
	return key + "-" + string(id)
}

// noRedirects makes the client return a 3xx answer as it is.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// classifyHTTP turns an answer into nil, a retryable, a refused or a
// permanent error. location is the Location header of a 3xx; body is the
// start of the answer, kept out of the error's text (see answerOf).
func classifyHTTP(status int, retryAfter, location string, body []byte, now time.Time) error {
	if status >= 200 && status < 300 {
		return nil
	}
	err := &httpStatusError{status: status, answer: oneLine(body)}
	switch {
	case status >= 300 && status < 400:
		// Name the target's host only: a path or query may hold a token.
		err.body = "redirect not followed"
		if host := locationHost(location); host != "" {
			err.body += ", Location host " + host
		}
		return Refused(err, RefusalRedirect)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return Refused(err, RefusalAuth)
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable ||
		status == http.StatusConflict:
		// 409 is how a collector that honours Idempotency-Key answers a
		// retry while the first request with the key is still being
		// processed (one we stopped waiting for): not yet, not never.
		return RetryAfter(err, parseRetryAfter(retryAfter, now))
	case status == http.StatusRequestTimeout || status == http.StatusTooEarly:
		return err
	case status >= 400 && status < 500:
		return Permanent(err)
	}
	return err
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 if absent or bad.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, 1<<31)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now))
	}
	return 0
}

// locationHost returns the host[:port] of a Location header, "" for a
// relative or unparsable one (it then is this destination's host).
func locationHost(loc string) string {
	u, err := url.Parse(strings.TrimSpace(loc))
	if err != nil {
		return ""
	}
	return u.Host
}

type httpStatusError struct {
	status int
	body   string // said in the error's text: written by the gateway, never the answer
	answer string // the start of the answer's body, on one line; not in Error
}

func (e *httpStatusError) Error() string {
	msg := "HTTP " + strconv.Itoa(e.status)
	if e.body != "" {
		msg += ": " + e.body
	}
	if e.answer != "" {
		msg += " (the answer is not logged: it may echo records)"
	}
	return msg
}

// answerOf returns the start of the destination's answer in err, on one
// line, or "". It is written only into a dead letter's .error file, beside
// the refused records it may echo, never to the log.
func answerOf(err error) string {
	var he *httpStatusError
	if errors.As(err, &he) {
		return he.answer
	}
	return ""
}

// oneLine returns b trimmed, with control bytes as spaces.
func oneLine(b []byte) string {
	b = bytes.TrimSpace(b)
	out := make([]byte, len(b))
	for i, c := range b {
		if c < ' ' || c == 0x7f {
			c = ' '
		}
		out[i] = c
	}
	return string(out)
}

// HTTPStatus returns the HTTP status in err, or 0.
func HTTPStatus(err error) int {
	var he *httpStatusError
	if errors.As(err, &he) {
		return he.status
	}
	return 0
}

// Close closes idle connections.
func (s *HTTPSink) Close() error {
	s.client.CloseIdleConnections()
	return nil
}
