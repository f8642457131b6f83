package upstream

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATSSubjectBy says which field of the record, if any, ends the subject.
type NATSSubjectBy uint8

// The subject choices.
const (
	NATSSubjectFixed NATSSubjectBy = iota // Subject as is
	NATSSubjectSite                       // Subject + "." + site
	NATSSubjectKind                       // Subject + "." + kind (pixel, beacon, ble)
)

// NATSOptions configures a NATS JetStream destination: each record becomes
// one message, published asynchronously and acknowledged by the stream, with
// the destination's name and the record's id as Nats-Msg-Id so the stream's
// duplicate window drops the copies sent again (after a restart, a lost
// acknowledgement), and only those.
type NATSOptions struct {
	URLs []string // nats://host:4222 or tls://host:4222

	// Destination is the destination's name. Nats-Msg-Id is Destination,
	// ":" and the record's id: two destinations with equal policies send
	// records of equal ids, and when one stream stores both destinations'
	// subjects, ids without the name would make it drop the second
	// destination's copy of every record as a duplicate of the first.
	// Empty: the record's id alone.
	Destination string

	// Subject is the subject messages are published to, or its prefix when
	// SubjectBy adds the site or kind: "beacongate.events" becomes
	// "beacongate.events.shop-1". A stream must listen on the subjects.
	Subject   string
	SubjectBy NATSSubjectBy

	// Stream, if set, is the stream that must store the messages: each is
	// published with it as Nats-Expected-Stream, so that the server refuses
	// (and no other stream stores) a message another stream listens for; a
	// publish acknowledged by another stream is an error too, and the
	// startup check looks for it.
	Stream string

	// MaxPending bounds the messages published and not yet acknowledged
	// (the async window). Default 256.
	MaxPending int
	// AckTimeout bounds the wait for one message's acknowledgement.
	// Default 5 s.
	AckTimeout time.Duration

	TLS             *tls.Config // nil: plaintext unless the URL says tls://
	CredentialsFile string      // NATS .creds file (JWT and NKey seed); empty: none
	Name            string      // connection name; default "beacongate"

	// CheckStream makes NewNATSSink fail when the server, reachable at
	// that moment, says no stream (or not Stream) listens on the subject.
	// An unreachable server is not an error: events wait in the spool.
	CheckStream bool

	// Logger receives the warning that the stream could not be checked at
	// start; nil uses slog.Default().
	Logger *slog.Logger

	// Extra are more nats.go options, applied last.
	Extra []nats.Option
}

// NATSSink publishes batches to JetStream. A batch is acknowledged when
// every message of it is; when some fail, the batch is retried, and the
// retry publishes only the messages the stream has not acknowledged (the
// sink keeps that progress for the batch it last sent, as the Kafka sink
// does): the stream's duplicate window, 2 minutes by default, is not what
// keeps an acknowledged record from being stored twice by a retry that
// comes later, and a batch given up on is dead-lettered without them. A
// batch sent again after a restart, or a message whose acknowledgement was
// lost, is published again and dropped by that window (same Nats-Msg-Id).
// Each message carries the headers Nats-Msg-Id (destination name and
// record id), Beacongate-Policy and Beacongate-Consent.
type NATSSink struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	o      NATSOptions
	prefix string

	// progress is that of the batch the last Send failed to deliver
	// whole: done[i] says the stream acknowledged its record i, which a
	// retry of the batch does not publish again. Empty after a delivery.
	progress batchProgress

	// Counters for tests and the dead-letter tool; only Send writes them.
	acked, dups uint64

	// reconnectErr is why the last attempt to reconnect failed, nil once
	// connected again: what a publish refused while disconnected reports
	// (see notConnected). Written by nats.go's callbacks.
	reconnectErr atomic.Pointer[error]

	// asyncErr is the last error the server sent outside of an answer (a
	// publish its permissions refuse: no acknowledgement follows), and
	// asyncErrs counts them: a Send whose acknowledgements failed while
	// one came reports it (see Send). Written by nats.go's callbacks.
	asyncErr  atomic.Pointer[error]
	asyncErrs atomic.Uint64
}

// msgID is the Nats-Msg-Id of the record with the given id.
func (s *NATSSink) msgID(id []byte) string {
	if s.o.Destination == "" {
		return string(id)
	}
	return s.o.Destination + ":" + string(id)
}

// natsReconnectDelay is the wait before the attempts-th round of
// reconnection (1 the first), with jitter in [0, 1) adding up to a quarter.
func natsReconnectDelay(attempts int, jitter float64) time.Duration {
	const first, most = 250 * time.Millisecond, 5 * time.Second
	d := min(first<<min(max(attempts-1, 0), 5), most)
	return d + time.Duration(jitter*float64(d)/4)
}

// NewNATSSink connects to the servers. A server that cannot be reached is
// not an error: the connection keeps trying in the background and Send
// fails (and is retried) until it succeeds.
func NewNATSSink(o NATSOptions) (*NATSSink, error) {
	if len(o.URLs) == 0 || o.Subject == "" {
		return nil, errors.New("upstream: NATS needs urls and a subject")
	}
	if strings.ContainsAny(o.Subject, " \t\r\n*>") || strings.HasPrefix(o.Subject, ".") || strings.HasSuffix(o.Subject, ".") || strings.Contains(o.Subject, "..") {
		return nil, errors.New("upstream: NATS subject must be dot-separated tokens without spaces or wildcards")
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 256
	}
	if o.AckTimeout <= 0 {
		o.AckTimeout = 5 * time.Second
	}
	if o.Name == "" {
		o.Name = "beacongate"
	}
	opts := []nats.Option{
		nats.Name(o.Name),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		// After every server of the list failed: 250 ms, doubling to
		// 5 s, each with up to a quarter more at random (several
		// gateways do not come back in step). A fixed 250 ms tried a
		// server that is down some 12,000 times an hour per gateway;
		// recovery waits at most 5 s more, and the shipper's own retry
		// waits up to 30 s anyway.
		nats.CustomReconnectDelay(func(attempts int) time.Duration {
			return natsReconnectDelay(attempts, rand.Float64())
		}),
		// Nothing is buffered while disconnected: a publish fails at
		// once and the batch is retried from the spool.
		nats.ReconnectBufSize(-1),
		// nats.go closes the connection for good once a server refused
		// the credentials twice in a row while reconnecting: a server
		// back from an outage refusing them for a while (an account
		// being rotated, an auth callout still down) would stop delivery
		// until a restart. Keep trying, as after any other outage; a
		// rotated .creds file is read again at each attempt.
		nats.IgnoreAuthErrorAbort(),
	}
	if o.TLS != nil {
		opts = append(opts, nats.Secure(o.TLS))
	}
	if o.CredentialsFile != "" {
		opts = append(opts, nats.UserCredentials(o.CredentialsFile))
	}
	s := &NATSSink{o: o, prefix: o.Subject + "."}
	opts = append(opts,
		nats.ReconnectErrHandler(func(_ *nats.Conn, err error) { s.reconnectErr.Store(&err) }),
		nats.ReconnectHandler(func(*nats.Conn) { s.reconnectErr.Store(nil) }),
		// The server refuses a publish its permissions do not allow
		// with an asynchronous -ERR and no acknowledgement; nats.go's
		// default handler writes each to stderr, past the log, one line
		// per message. Kept for Send, which reports it with the
		// acknowledgements that did not come.
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			s.asyncErr.Store(&err)
			s.asyncErrs.Add(1)
		}))
	opts = append(opts, o.Extra...)
	nc, err := nats.Connect(strings.Join(o.URLs, ","), opts...)
	if err != nil {
		return nil, fmt.Errorf("upstream: NATS connect: %w", err)
	}
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(o.MaxPending),
		jetstream.WithPublishAsyncTimeout(o.AckTimeout))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("upstream: JetStream: %w", err)
	}
	s.nc, s.js = nc, js
	if o.CheckStream {
		unchecked := func(reason string) {
			logger(o.Logger).Warn("nats: the stream could not be checked at start; events wait in the spool until the servers answer",
				"subject", o.Subject, "reason", reason)
		}
		if !nc.IsConnected() {
			unchecked("no server reachable")
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), o.AckTimeout)
			err := s.CheckStream(ctx)
			cancel()
			switch {
			case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout):
				unchecked("no answer within ack_timeout")
			case err != nil:
				nc.Close()
				return nil, err
			}
		}
	}
	return s, nil
}

// Unencoded tells the shipper that NATS takes records one by one.
func (s *NATSSink) Unencoded() {}

// CheckStream asks the server which stream listens on the subject and
// returns a clear error when none does, or when it is not Stream.
func (s *NATSSink) CheckStream(ctx context.Context) error {
	subj := s.o.Subject
	if s.o.SubjectBy != NATSSubjectFixed {
		subj = s.prefix + "x"
	}
	name, err := s.js.StreamNameBySubject(ctx, subj)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		return fmt.Errorf("upstream: no JetStream stream listens on subject %s; create one (e.g. nats stream add --subjects '%s'), or fix subject", subj, s.subjectPattern())
	case err != nil:
		return fmt.Errorf("upstream: JetStream stream lookup for subject %s: %w", subj, err)
	case s.o.Stream != "" && name != s.o.Stream:
		return fmt.Errorf("upstream: subject %s is stored by stream %s, not %s; fix stream or subject", subj, name, s.o.Stream)
	}
	// A stream with no_ack stores every message and acknowledges none: no
	// batch would ever count as delivered (each retried for ever, stored
	// again once the duplicate window passed). Credentials that may look
	// up the stream's name but not its settings leave this unchecked.
	if st, err := s.js.Stream(ctx, name); err == nil && st.CachedInfo().Config.NoAck {
		return fmt.Errorf("upstream: stream %s (on subject %s) has no_ack set and acknowledges no message, while a record counts as delivered only on its acknowledgement; edit or create the stream without no_ack", name, subj)
	}
	return nil
}

func (s *NATSSink) subjectPattern() string {
	if s.o.SubjectBy == NATSSubjectFixed {
		return s.o.Subject
	}
	return s.prefix + "*"
}

// subject returns the subject of record v.
func (s *NATSSink) subject(v []byte) string {
	var tok []byte
	switch s.o.SubjectBy {
	case NATSSubjectFixed:
		return s.o.Subject
	case NATSSubjectSite:
		tok = jsonStringField(v, "site")
	case NATSSubjectKind:
		tok = jsonStringField(v, "kind")
	}
	return s.prefix + subjectToken(tok)
}

// subjectToken makes t one valid subject token: '.', '*', '>', '\' (escapes
// are left as is in t), spaces and control or non-ASCII bytes become '_';
// empty becomes "_"; at most 64 bytes.
func subjectToken(t []byte) string {
	if len(t) == 0 {
		return "_"
	}
	if len(t) > 64 {
		t = t[:64]
	}
	b := make([]byte, len(t))
	for i, c := range t {
		if c <= ' ' || c >= 0x7f || c == '.' || c == '*' || c == '>' || c == '\\' {
			c = '_'
		}
		b[i] = c
	}
	return string(b)
}

// Send publishes every record of b the stream has not acknowledged yet
// (all of them, unless b is the batch the last Send failed to deliver
// whole), at most MaxPending unacknowledged at a time, and waits for all
// acknowledgements. A record too large for the
// server (max_payload, refused by the client at once) or for the stream
// (max_msg_size) fails alone: when every other record was acknowledged,
// Send returns RejectedRecords with those, which the shipper dead-letters
// while the batch counts as delivered; when every record is too large the
// batch is dead-lettered whole; any other failure retries the batch's
// unacknowledged records.
func (s *NATSSink) Send(ctx context.Context, b *Batch) error {
	n := b.Len()
	if !s.progress.of(b) {
		s.progress.start(b)
	}
	asyncErrs := s.asyncErrs.Load()
	// The client keeps messages until they are acknowledged, possibly
	// past this call (a timed-out publish): give it a copy.
	data := append([]byte(nil), b.Data...)
	futures := make([]jetstream.PubAckFuture, 0, n)
	index := make([]int, 0, n) // the record of each future
	var first, tooLarge error
	var refused []int
	done := 0
	wait := func() {
		f, i := futures[done], index[done]
		done++
		select {
		case ack := <-f.Ok():
			if s.o.Stream != "" && ack.Stream != s.o.Stream {
				first = cmpErr(first, fmt.Errorf("message stored by stream %s, not %s", ack.Stream, s.o.Stream))
				return
			}
			s.acked++
			if ack.Duplicate {
				s.dups++
			}
			s.progress.done[i] = true
		case err := <-f.Err():
			if natsTooLarge(err) {
				tooLarge = cmpErr(tooLarge, err)
				refused = append(refused, i)
				return
			}
			first = cmpErr(first, err)
		case <-ctx.Done():
			first = cmpErr(first, ctx.Err())
		}
	}
	for i := range n {
		if s.progress.done[i] {
			continue
		}
		start := 0
		if i > 0 {
			start = b.ends[i-1] + 1
		}
		v := data[start:b.ends[i]:b.ends[i]]
		for len(futures)-done >= s.o.MaxPending {
			wait()
		}
		if first != nil {
			break
		}
		m := &nats.Msg{Subject: s.subject(v), Data: v, Header: nats.Header{}}
		if id := jsonStringField(v, "id"); len(id) > 0 {
			m.Header.Set(jetstream.MsgIDHeader, s.msgID(id))
		}
		if p := jsonStringField(v, "policy"); len(p) > 0 {
			m.Header.Set("Beacongate-Policy", string(p))
		}
		if c := consentState(v); len(c) > 0 {
			m.Header.Set("Beacongate-Consent", string(c))
		}
		if s.o.Stream != "" {
			// The server stores the message only in that stream, and
			// refuses it when another listens on the subject (checking
			// the acknowledgement alone comes after the other stored it).
			m.Header.Set(jetstream.ExpectedStreamHeader, s.o.Stream)
		}
		f, err := s.js.PublishMsgAsync(m)
		if natsTooLarge(err) {
			tooLarge = cmpErr(tooLarge, err)
			refused = append(refused, i)
			continue
		}
		if err != nil {
			first = s.notConnected(err)
			break
		}
		futures = append(futures, f)
		index = append(index, i)
	}
	for done < len(futures) {
		wait()
	}
	if first != nil && s.asyncErrs.Load() != asyncErrs {
		// Acknowledgements that did not come, and the server said why
		// meanwhile (a permissions violation: an auth refusal).
		if e := s.asyncErr.Load(); e != nil {
			first = fmt.Errorf("%w; the server said: %w", first, *e)
		}
	}
	switch {
	case first != nil:
		return classifyNATS(first)
	case tooLarge == nil:
		// A retry after the shipper could not dead-letter the records
		// refused for good publishes nothing and reports them again.
		if err := s.progress.rejected(); err != nil {
			return err
		}
		s.progress.reset()
		return nil
	case len(refused) == n:
		return Permanent(tooLarge)
	}
	// The batch counts as delivered; kept until the next batch (above).
	return s.progress.refuse(refused, fmt.Errorf("upstream: NATS refused %d of %d records for good: %w", len(refused), n, tooLarge))
}

// notConnected returns err, a publish refused, or when it was refused
// because no server is connected (nothing is buffered meanwhile, see
// ReconnectBufSize in NewNATSSink: nats.go then says "outbound buffer
// limit exceeded", which would send an operator reading the log to buffer
// sizes), an error that says so and names why the last attempt to
// reconnect failed (a refused dial, refused credentials). Its text only:
// the batch is retried for as long as the connection is down, as it was.
func (s *NATSSink) notConnected(err error) error {
	if !errors.Is(err, nats.ErrReconnectBufExceeded) || s.nc.IsConnected() {
		return err
	}
	if last := s.reconnectErr.Load(); last != nil {
		return fmt.Errorf("upstream: not connected to a NATS server, reconnecting; the last attempt failed: %v", *last)
	}
	return errors.New("upstream: not connected to a NATS server, reconnecting")
}

// Undelivered implements Progress: the records of b the stream has not
// acknowledged, while the sink keeps b's progress. A batch given up on (a
// refusal past its window) is then dead-lettered without the records an
// earlier attempt stored.
func (s *NATSSink) Undelivered(b *Batch) ([]int, bool) { return s.progress.undelivered(b) }

// natsTooLarge reports whether err refuses one message for its size: the
// server's max_payload (the client checks it before sending) or the
// stream's max_msg_size. No retry can deliver such a message.
func natsTooLarge(err error) bool {
	return err != nil && (errors.Is(err, nats.ErrMaxPayload) || errors.Is(err, jetstream.ErrStreamMessageExceedsMaximum))
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// classifyNATS marks a publish error permanent, an authorization refusal,
// or leaves it retryable.
func classifyNATS(err error) error {
	switch {
	case natsTooLarge(err), errors.Is(err, nats.ErrBadSubject):
		return Permanent(err)
	case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired),
		errors.Is(err, nats.ErrPermissionViolation), errors.Is(err, nats.ErrAuthRevoked):
		return Refused(err, RefusalAuth)
	case errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, nats.ErrNoResponders):
		return fmt.Errorf("%w (is a JetStream stream listening on the subject, and the server up?)", err)
	}
	var api *jetstream.APIError
	if errors.As(err, &api) && api.ErrorCode == jsErrStreamNotMatch {
		return fmt.Errorf("%w (another stream than the destination's stream listens on the subject; nothing was stored: fix stream or subject)", err)
	}
	return err
}

// jsErrStreamNotMatch is JetStream's error code for a message whose
// Nats-Expected-Stream is not the stream listening on its subject.
const jsErrStreamNotMatch jetstream.ErrorCode = 10060

// Close drains the connection.
func (s *NATSSink) Close() error {
	s.nc.Close()
	return nil
}
