package upstream

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
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

	TLS  *tls.Config // nil: plaintext
	SASL SASLOptions

	// ProduceTimeout bounds how long a record may wait to be produced
	// (delivery.timeout.ms). Default 30 s; franz-go refuses less than 1 s.
	ProduceTimeout time.Duration

	// Extra are more franz-go options, applied last.
	Extra []kgo.Opt
}

// SASLOptions configures SASL authentication.
type SASLOptions struct {
	Mechanism string // "", "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512"
	User      string
	Password  string
}

// KafkaSink produces batches to a topic. A batch is acknowledged when every
// record of it is. When some records fail, the whole batch is sent again
// (the others become duplicates; records carry their event id). Errors that
// no retry can fix (a record too large, an invalid record or topic) are
// permanent; authorization errors are refusals, retried for
// RetryOptions.AuthDeadLetterAfter; everything else is retried. The Kafka
// protocol has no redirects to follow: a broker that moved is found again
// through the metadata of the seed brokers.
type KafkaSink struct {
	client   *kgo.Client
	topic    string
	keyField string
	store    []kgo.Record
	recs     []*kgo.Record
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
	case CodecGzip:
		comp = kgo.GzipCompression()
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
	}
	if o.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(o.TLS))
	}
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
	return &KafkaSink{client: c, topic: o.Topic, keyField: o.KeyField}, nil
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

// Send produces every record of b and waits for all acknowledgements.
func (s *KafkaSink) Send(ctx context.Context, b *Batch) error {
	n := b.Len()
	if cap(s.store) < n {
		s.store = make([]kgo.Record, n)
		s.recs = make([]*kgo.Record, n)
	}
	s.store, s.recs = s.store[:n], s.recs[:n]
	for i := range n {
		v := b.Record(i)
		s.store[i] = kgo.Record{Topic: s.topic, Value: v}
		if s.keyField != "" {
			s.store[i].Key = jsonStringField(v, s.keyField)
		}
		s.recs[i] = &s.store[i]
	}
	err := s.client.ProduceSync(ctx, s.recs...).FirstErr()
	clear(s.store) // drop references into b
	if err == nil {
		return nil
	}
	return classifyKafka(err)
}

// classifyKafka marks a produce error permanent, an authorization refusal,
// or leaves it retryable.
func classifyKafka(err error) error {
	if permanentKafka(err) {
		return Permanent(err)
	}
	for _, e := range []error{kerr.TopicAuthorizationFailed, kerr.ClusterAuthorizationFailed,
		kerr.SaslAuthenticationFailed, kerr.TransactionalIDAuthorizationFailed} {
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
