package upstream

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// KafkaOptions configures a Kafka destination: each record becomes one
// Kafka record, produced by an idempotent producer with acks from all
// in-sync replicas and Kafka-level compression.
type KafkaOptions struct {
	Brokers []string // seed brokers, host:port
	Topic   string

	// KeyField names the top-level string field of the record used as the
	// Kafka record key, e.g. "site" or "pseudonym": records with the same
	// key go to the same partition, in order. Empty: no key (records are
	// spread over partitions).
	KeyField string

	ClientID string // default "beacongate"

	// Compression of Kafka record batches; CodecAuto takes the
	// destination's Compression, itself zstd by default.
	Compression Codec
	// CompressionLevel: 0 is franz-go's default for the codec; else as
	// NewEncoder's (zstd: the zstd command's levels; gzip: 1-9). 0 takes
	// the destination's CompressionLevel.
	CompressionLevel int

	TLS  *tls.Config // nil: plaintext
	SASL SASLOptions

	// ProduceTimeout bounds how long a record may wait to be produced
	// (delivery.timeout.ms). Default 30 s; franz-go refuses less than 1 s.
	ProduceTimeout time.Duration

	// CheckTopic makes NewKafkaSink ask the brokers for the topic's
	// metadata and fail with a clear error when they answer that it does
	// not exist. Brokers that cannot be reached within CheckTimeout, or
	// that answer with a retriable error (a leader election), are not an
	// error (events wait in the spool). The topic is never created:
	// partitions and replication are the operator's choice.
	CheckTopic   bool
	CheckTimeout time.Duration // default 10 s

	// Logger receives the warning that the topic could not be checked at
	// start; nil uses slog.Default().
	Logger *slog.Logger

	// Extra are more franz-go options, applied last.
	Extra []kgo.Opt
}

// Record headers on every Kafka record, so that consumers can route and
// de-duplicate without parsing the value.
const (
	KafkaHeaderEventID = "beacongate-event-id" // the record's "id"
	KafkaHeaderPolicy  = "beacongate-policy"   // the record's "policy" version
	KafkaHeaderConsent = "beacongate-consent"  // the record's consent.state
)

// SASLOptions configures SASL authentication.
type SASLOptions struct {
	Mechanism string // "", "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512"
	User      string
	Password  string
}

// KafkaSink produces batches to a topic, one Kafka record per record, with
// the headers beacongate-event-id, beacongate-policy and beacongate-consent.
// A batch is acknowledged when every record of it is. When some records
// fail, the batch is retried, and the retry produces only the records Kafka
// has not acknowledged yet (the sink keeps that progress for the batch it
// last sent; a restart sends the batch whole, its records carry their event
// id). Records
// the broker refused as too large together are produced again one by one
// (see produceTooLargeAlone). Errors that
// no retry can fix (a record too large, an invalid record or topic) are
// permanent: when only such errors failed some of the records, those alone
// are dead-lettered and the others, produced, count as delivered; when
// they failed every record, the batch is dead-lettered; authorization errors are refusals, retried for
// RetryOptions.AuthDeadLetterAfter, and so are SASL credentials a broker
// refused on connecting while records failed (see kafkaConnWatch, which
// also names a failed TLS handshake); everything else is retried. The Kafka
// protocol has no redirects to follow: a broker that moved is found again
// through the metadata of the seed brokers.
type KafkaSink struct {
	client   *kgo.Client
	topic    string
	keyField string
	password string // the SASL password, redacted from errors (see redact)
	store    []kgo.Record
	recs     []*kgo.Record
	at       []int // the batch index of each record in recs
	hdrs     []kgo.RecordHeader

	// conns records the brokers' connection failures; delivered is its
	// recordedAt at the last delivery: Send names the failures recorded
	// since (see kafkaConnWatch.explain).
	conns     *kafkaConnWatch
	delivered uint64

	// progress is that of the batch the last Send failed to deliver
	// whole: done[i] says Kafka acknowledged its record i, which a retry
	// of the batch does not produce again; kept for a batch delivered but
	// for records refused for good, which a retry reports again without
	// producing anything. Empty after a delivery.
	progress batchProgress
}

// NewKafkaSink builds the client; it connects on the first Send.
func NewKafkaSink(o KafkaOptions) (*KafkaSink, error) {
	if len(o.Brokers) == 0 || o.Topic == "" {
		return nil, errors.New("upstream: Kafka needs brokers and a topic")
	}
	if o.ClientID == "" {
		o.ClientID = "beacongate"
	}
	if o.ProduceTimeout <= 0 {
		o.ProduceTimeout = 30 * time.Second
	}
	var comp kgo.CompressionCodec
	switch o.Compression.resolve() {
	case CodecZstd:
		comp = kgo.ZstdCompression()
		if o.CompressionLevel > 0 {
			comp = comp.WithLevel(int(zstd.EncoderLevelFromZstd(o.CompressionLevel)))
		}
	case CodecGzip:
		comp = kgo.GzipCompression()
		if o.CompressionLevel != 0 {
			comp = comp.WithLevel(o.CompressionLevel)
		}
	case CodecNone:
		comp = kgo.NoCompression()
	default:
		return nil, fmt.Errorf("upstream: Kafka compression %v", o.Compression)
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(o.Brokers...),
		kgo.ClientID(o.ClientID),
		kgo.DefaultProduceTopic(o.Topic),
		kgo.RequiredAcks(kgo.AllISRAcks()), // also what idempotence requires
		kgo.ProducerBatchCompression(comp),
		kgo.RecordDeliveryTimeout(o.ProduceTimeout),
		kgo.ProducerLinger(0), // batches are already formed by the shipper
		// A record whose produce request was written and not answered
		// (the broker went down meanwhile) is in doubt: by default the
		// idempotent producer never fails it, on the send's context or
		// RecordDeliveryTimeout alike, and Send would wait for as long as
		// the broker is down, never counted as a failed attempt, never
		// logged. With this, the attempt ends with the send's timeout and
		// the shipper retries the records not acknowledged; one in doubt
		// may then be stored twice (at least once; it carries its event
		// id). Retries within one attempt stay de-duplicated.
		kgo.AllowIdempotentProduceCancellation(),
	}
	if o.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(o.TLS))
	}
	conns := newKafkaConnWatch(o)
	opts = append(opts, kgo.WithHooks(conns))
	if m, err := saslMechanism(o.SASL); err != nil {
		return nil, err
	} else if m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	opts = append(opts, o.Extra...)
	c, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("upstream: Kafka client: %w", err)
	}
	s := &KafkaSink{client: c, topic: o.Topic, keyField: o.KeyField, password: o.SASL.Password, conns: conns}
	if o.CheckTopic {
		if o.CheckTimeout <= 0 {
			o.CheckTimeout = 10 * time.Second
		}
		if err := s.redact(s.checkTopic(o.CheckTimeout)); errors.Is(err, errTopicUnchecked) {
			logger(o.Logger).Warn("kafka: the topic could not be checked at start; events wait in the spool until the brokers answer",
				"topic", o.Topic, "err", err)
		} else if err != nil {
			c.Close()
			return nil, err
		}
	}
	return s, nil
}

// ErrNoTopic is returned by NewKafkaSink (CheckTopic) when the brokers say
// the topic does not exist.
var ErrNoTopic = errors.New("upstream: Kafka topic does not exist")

// errTopicUnchecked: the brokers did not answer the topic check in time, or
// answered with a retriable error. Not a reason to refuse the start.
var errTopicUnchecked = errors.New("upstream: Kafka topic not checked")

// checkTopic asks the brokers for the topic's metadata. It returns an
// error wrapping errTopicUnchecked when they could not tell.
func (s *KafkaSink) checkTopic(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	t := kmsg.NewMetadataRequestTopic()
	t.Topic = kmsg.StringPtr(s.topic)
	req.Topics = append(req.Topics, t)
	req.AllowAutoTopicCreation = false
	resp, err := req.RequestWith(ctx, s.client)
	if err != nil {
		// Unreachable, or the credentials refused: the shipper retries,
		// events wait in the spool. franz-go retries a connection that
		// failed (a closed connection, the TLS handshake) until ctx ends:
		// name the failure.
		if c, _ := s.conns.cause(0); c != nil {
			return fmt.Errorf("%w: %w", errTopicUnchecked, c)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w: no answer within %v: %w", errTopicUnchecked, timeout, err)
		}
		return fmt.Errorf("%w: %w", errTopicUnchecked, err)
	}
	for _, rt := range resp.Topics {
		if rt.Topic == nil || *rt.Topic != s.topic {
			continue
		}
		switch err := kerr.ErrorForCode(rt.ErrorCode); {
		case errors.Is(err, kerr.UnknownTopicOrPartition):
			return fmt.Errorf("%w: the brokers have no topic %s; create it (e.g. kafka-topics.sh --create --topic %s --partitions 12 --replication-factor 3) or fix topic", ErrNoTopic, s.topic, s.topic)
		case errors.Is(err, kerr.TopicAuthorizationFailed):
			return fmt.Errorf("upstream: Kafka topic %s: the credentials may not describe or write it (%w); grant DESCRIBE and WRITE on it", s.topic, err)
		case kerr.IsRetriable(err):
			// A leader being elected, a broker starting: not a sign of a
			// wrong topic; as with unreachable brokers, the shipper
			// retries and events wait in the spool.
			return fmt.Errorf("%w: %w", errTopicUnchecked, err)
		case err != nil:
			return fmt.Errorf("upstream: Kafka topic %s: %w", s.topic, err)
		}
		return nil
	}
	return fmt.Errorf("%w: the brokers did not list topic %s", ErrNoTopic, s.topic)
}

func saslMechanism(o SASLOptions) (sasl.Mechanism, error) {
	switch strings.ToUpper(o.Mechanism) {
	case "":
		return nil, nil
	case "PLAIN":
		return plain.Auth{User: o.User, Pass: o.Password}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: o.User, Pass: o.Password}.AsSha256Mechanism(), nil
	case "SCRAM-SHA-512":
		return scram.Auth{User: o.User, Pass: o.Password}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("upstream: unknown SASL mechanism %q", o.Mechanism)
}

// Unencoded tells the shipper that Kafka compresses by itself.
func (s *KafkaSink) Unencoded() {}

// Send produces every record of b Kafka has not acknowledged yet (all of
// them, unless b is the batch the last Send failed to deliver whole) and
// waits for all acknowledgements.
func (s *KafkaSink) Send(ctx context.Context, b *Batch) error {
	total := b.Len()
	if !s.progress.of(b) {
		s.progress.start(b)
	}
	s.at = s.at[:0]
	for i, done := range s.progress.done {
		if !done {
			s.at = append(s.at, i)
		}
	}
	n := len(s.at)
	if n == 0 {
		// Nothing left to produce: a retry after the shipper could not
		// dead-letter the records refused for good reports them again.
		if err := s.progress.rejected(); err != nil {
			return err
		}
		s.progress.reset()
		s.delivered = s.conns.recordedAt.Load()
		return nil
	}
	if cap(s.store) < n {
		s.store = make([]kgo.Record, n)
		s.recs = make([]*kgo.Record, n)
	}
	s.store, s.recs = s.store[:n], s.recs[:n]
	if cap(s.hdrs) < 3*n {
		s.hdrs = make([]kgo.RecordHeader, 3*n)
	}
	s.hdrs = s.hdrs[:3*n]
	for i := range n {
		v := b.Record(s.at[i])
		h := s.hdrs[3*i : 3*i : 3*i+3]
		if id := jsonStringField(v, "id"); id != nil {
			h = append(h, kgo.RecordHeader{Key: KafkaHeaderEventID, Value: id})
		}
		if p := jsonStringField(v, "policy"); p != nil {
			h = append(h, kgo.RecordHeader{Key: KafkaHeaderPolicy, Value: p})
		}
		if c := consentState(v); c != nil {
			h = append(h, kgo.RecordHeader{Key: KafkaHeaderConsent, Value: c})
		}
		s.store[i] = kgo.Record{Topic: s.topic, Value: v, Headers: h}
		if s.keyField != "" {
			s.store[i].Key = jsonStringField(v, s.keyField)
		}
		s.recs[i] = &s.store[i]
	}
	results := s.client.ProduceSync(ctx, s.recs...)
	if n > 1 {
		s.produceTooLargeAlone(ctx, results)
	}
	err := results.FirstErr()
	var refused []int
	if err != nil {
		// Results come in the order of the acknowledgements: find each
		// record (only on this path, seldom taken).
		for _, r := range results {
			if i := slices.Index(s.recs, r.Record); i >= 0 && r.Err == nil {
				s.progress.done[s.at[i]] = true
			}
		}
		refused, err = s.refusedAlone(results, err)
		if refused == nil && !permanentKafka(err) {
			// Not judged by a broker (or retryable): the connections
			// that failed meanwhile say why (credentials, TLS).
			err = s.conns.explain(err, s.delivered)
		}
		err = s.redact(err)
	} else {
		for _, i := range s.at {
			s.progress.done[i] = true
		}
	}
	clear(s.store) // drop references into b
	clear(s.hdrs)
	switch {
	case err == nil:
		if err := s.progress.rejected(); err != nil {
			return err
		}
		s.progress.reset()
		s.delivered = s.conns.recordedAt.Load()
		return nil
	case refused != nil:
		// The batch counts as delivered; kept until the next batch, so
		// that a retry (the dead letter could not be written) produces
		// nothing again.
		return s.progress.refuse(refused, fmt.Errorf("upstream: Kafka refused %d of %d records for good: %w", len(refused), total, err))
	}
	return classifyKafka(err)
}

// Undelivered implements Progress: the records of b Kafka has not
// acknowledged, while the sink keeps b's progress. A batch given up on (an
// authorization refusal past its window) is then dead-lettered without the
// records an earlier attempt produced.
func (s *KafkaSink) Undelivered(b *Batch) ([]int, bool) { return s.progress.undelivered(b) }

// produceTooLargeAlone produces again, each in a request of its own, the
// records of results that failed with MESSAGE_TOO_LARGE, and puts the new
// outcome in results. The broker's max.message.bytes bounds a whole
// produce batch, which the client fills up to ProducerBatchMaxBytes (1 MB):
// below that, it refuses every record of a batch of small records together
// above it, none of which is too large. Alone, only a record that is
// too large fails again (the client's own check fails it without a
// request). Each costs a round trip: a batch.max_bytes below the topic's
// max.message.bytes avoids them. Records left untried because ctx ended
// (the send's timeout, a shutdown) get ctx's error, retryable: they were
// never judged alone, and must not be dead-lettered as too large.
func (s *KafkaSink) produceTooLargeAlone(ctx context.Context, results kgo.ProduceResults) {
	for i := range results {
		if !errors.Is(results[i].Err, kerr.MessageTooLarge) {
			continue
		}
		if ctx.Err() != nil {
			results[i].Err = fmt.Errorf("upstream: Kafka record not produced alone before the send ended: %w", context.Cause(ctx))
			continue
		}
		results[i].Err = s.client.ProduceSync(ctx, results[i].Record).FirstErr()
	}
}

// refusedAlone returns the batch indexes of the records that failed, in
// order, when each of them failed for good (a record too large) and at
// least one record of the batch was produced (by this attempt or an
// earlier one): those alone go to the dead letters, the batch counts as
// delivered. Otherwise nil: the batch is retried, or
// dead-lettered whole when every record failed for good. It also returns
// the error to classify the batch by: the first failure no retry can fix
// only when every failure is such; else the first other one, so that a
// record too large (failed by the client at once, first among the
// results) does not make permanent a batch whose other records a broker
// outage, a timeout or an authorization refusal kept from Kafka.
func (s *KafkaSink) refusedAlone(results kgo.ProduceResults, first error) ([]int, error) {
	for _, r := range results {
		if r.Err != nil && !permanentKafka(r.Err) {
			return nil, r.Err
		}
	}
	var idx []int
	for _, r := range results {
		if r.Err == nil {
			continue
		}
		i := slices.Index(s.recs, r.Record)
		if i < 0 {
			return nil, first
		}
		idx = append(idx, s.at[i])
	}
	if len(idx) == 0 || len(idx) == len(s.progress.done) {
		return nil, first
	}
	slices.Sort(idx)
	return idx, first
}

// redact returns err with s's SASL password replaced in its message (see
// secretRedacted), or err itself when the message does not hold it.
func (s *KafkaSink) redact(err error) error {
	if err == nil || s.password == "" || !strings.Contains(err.Error(), s.password) {
		return err
	}
	return &secretRedacted{err: err, secret: s.password}
}

// secretRedacted is an error whose message shows [redacted] for secret:
// franz-go puts a broker's SASL error message into its errors as it came,
// and the sink's errors go to the log and into dead-letter reasons, where a
// broker (or a proxy before it) that echoed the credentials it was sent
// would put the password. errors.Is and errors.As see the error it wraps.
type secretRedacted struct {
	err    error
	secret string
}

func (e *secretRedacted) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.secret, redactedMark)
}

func (e *secretRedacted) Unwrap() error { return e.err }

// classifyKafka marks a produce error permanent, an authorization refusal,
// or leaves it retryable.
func classifyKafka(err error) error {
	if permanentKafka(err) {
		return Permanent(err)
	}
	if ce, ok := errors.AsType[*kafkaConnError](err); ok && ce.Auth {
		return Refused(err, RefusalAuth)
	}
	for _, e := range []error{kerr.TopicAuthorizationFailed, kerr.ClusterAuthorizationFailed,
		kerr.SaslAuthenticationFailed, kerr.IllegalSaslState, kerr.UnsupportedSaslMechanism,
		kerr.TransactionalIDAuthorizationFailed} {
		if errors.Is(err, e) {
			return Refused(err, RefusalAuth)
		}
	}
	return err
}

func permanentKafka(err error) bool {
	for _, e := range []error{kerr.MessageTooLarge, kerr.RecordListTooLarge, kerr.InvalidRecord,
		kerr.CorruptMessage, kerr.InvalidTopicException, kerr.InvalidRequiredAcks} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Close flushes nothing (Send waits for its records) and closes the client.
func (s *KafkaSink) Close() error {
	s.client.Close()
	return nil
}

// logger returns l, or slog.Default() when l is nil.
func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
