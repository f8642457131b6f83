package upstream

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kafkaConnWatch is the Kafka sink's franz-go hook. A connection to a
// broker that fails (the dial, the TLS handshake, SASL) is retried by
// franz-go inside ProduceSync until the send's context ends, and the
// records then fail with that context's error ("context deadline
// exceeded") or with "records have timed out", nothing saying that the
// credentials or TLS are wrong. The hook keeps, by broker address, the
// failure of the last connection attempt, forgotten once an attempt to the
// same broker succeeds, for Send to name in its error (see explain).
//
// It costs nothing per record: OnBrokerConnect runs once per connection
// attempt, and OnBrokerE2E, once per request, returns at once unless a
// SASL request failed on the wire.
type kafkaConnWatch struct {
	tls        bool   // the sink dials with TLS
	mechanism  string // the SASL mechanism, "" without SASL
	user       string // the SASL user (never the password)
	recordedAt atomic.Uint64

	mu       sync.Mutex
	failed   map[string]kafkaConnFailure // by broker address
	saslLost map[string]error            // a SASL request's I/O error, till its attempt's end
}

type kafkaConnFailure struct {
	seq uint64 // recordedAt when recorded
	err *kafkaConnError
}

// kafkaConnError is a broker connection's failure, as Send names it when
// records failed while connections to the broker did. Auth reports that
// the broker refused the SASL credentials (an authorization refusal), TLS
// that the TLS handshake failed.
type kafkaConnError struct {
	Broker    string // host:port
	Auth, TLS bool
	what      string
	Err       error
}

func (e *kafkaConnError) Error() string {
	return fmt.Sprintf("Kafka broker %s: %s: %v", e.Broker, e.what, e.Err)
}

func (e *kafkaConnError) Unwrap() error { return e.Err }

func newKafkaConnWatch(o KafkaOptions) *kafkaConnWatch {
	w := &kafkaConnWatch{tls: o.TLS != nil, failed: map[string]kafkaConnFailure{}, saslLost: map[string]error{}}
	if o.SASL.Mechanism != "" {
		w.mechanism, w.user = o.SASL.Mechanism, o.SASL.User
	}
	return w
}

func brokerAddr(m kgo.BrokerMetadata) string {
	return net.JoinHostPort(m.Host, strconv.Itoa(int(m.Port)))
}

// OnBrokerE2E notes a SASL request that failed on the wire: a broker that
// closes the connection on the credentials (kfake, Kafka before 1.0, some
// proxies) refuses them without an error code.
func (w *kafkaConnWatch) OnBrokerE2E(meta kgo.BrokerMetadata, key int16, e2e kgo.BrokerE2E) {
	if key != int16(kmsg.SASLHandshake) && key != int16(kmsg.SASLAuthenticate) {
		return
	}
	err := e2e.Err()
	if err == nil {
		return
	}
	w.mu.Lock()
	w.saslLost[brokerAddr(meta)] = err
	w.mu.Unlock()
}

// OnBrokerConnect records the attempt's failure, or forgets the broker's
// last one when the attempt succeeded.
func (w *kafkaConnWatch) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, conn net.Conn, err error) {
	addr := brokerAddr(meta)
	w.mu.Lock()
	defer w.mu.Unlock()
	lost := w.saslLost[addr]
	delete(w.saslLost, addr)
	if _, early := errors.AsType[*kgo.ErrFirstReadEOF](err); conn == nil || early {
		// Not connected, or closed before SASL began: a SASL error noted
		// is from an earlier connection (a re-authentication).
		lost = nil
	}
	if err == nil {
		delete(w.failed, addr)
		return
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, kgo.ErrClientClosed) {
		return // the client closing
	}
	w.failed[addr] = kafkaConnFailure{seq: w.recordedAt.Add(1), err: w.describe(addr, err, lost)}
}

func (w *kafkaConnWatch) describe(addr string, err, saslLost error) *kafkaConnError {
	e := &kafkaConnError{Broker: addr, Err: err}
	switch {
	case saslRefusal(err):
		e.Auth, e.what = true, fmt.Sprintf("refused the SASL %s credentials of user %q", w.mechanism, w.user)
	case saslLost != nil && errors.Is(err, saslLost):
		e.Auth, e.what = true, fmt.Sprintf("closed the connection on the SASL %s credentials of user %q, as a broker that sends no error refuses them (wrong user, password or mechanism?)", w.mechanism, w.user)
	case w.tls && tlsFailure(err):
		e.TLS, e.what = true, "TLS handshake failed"
		if errors.Is(err, context.DeadlineExceeded) {
			e.what = "TLS handshake not answered within the dial timeout (is the listener TLS?)"
		}
	default:
		e.what = "connection failed"
	}
	return e
}

// saslRefusal reports whether err is a broker's refusal of the SASL
// credentials or mechanism.
func saslRefusal(err error) bool {
	return errors.Is(err, kerr.SaslAuthenticationFailed) || errors.Is(err, kerr.IllegalSaslState) ||
		errors.Is(err, kerr.UnsupportedSaslMechanism)
}

// tlsFailure reports whether err, a dial's failure with TLS, came from the
// handshake rather than from the TCP connection.
func tlsFailure(err error) bool {
	var (
		verify *tls.CertificateVerificationError
		header tls.RecordHeaderError
		alert  tls.AlertError
		eof    *kgo.ErrFirstReadEOF
		op     *net.OpError
	)
	switch {
	case errors.As(err, &verify), errors.As(err, &header), errors.As(err, &alert), errors.As(err, &eof):
		return true
	case errors.As(err, &op):
		return false // the TCP dial: refused, unreachable, timed out
	}
	// tls.Dialer returns the handshake's context error as it is.
	return errors.Is(err, context.DeadlineExceeded)
}

// cause returns the connection failure recorded after since (a value of
// recordedAt) and not followed by a connection to the same broker that
// succeeded: a SASL refusal first, else the latest; and how many brokers
// have such a failure. nil and 0 when none has.
func (w *kafkaConnWatch) cause(since uint64) (*kafkaConnError, int) {
	if w.recordedAt.Load() == since {
		return nil, 0
	}
	var pick *kafkaConnError
	var seq uint64
	n := 0
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range w.failed {
		if f.seq <= since {
			continue
		}
		n++
		if pick == nil || f.err.Auth && !pick.Auth || f.err.Auth == pick.Auth && f.seq > seq {
			pick, seq = f.err, f.seq
		}
	}
	return pick, n
}

// explain returns err, the failure of records to be produced, preceded by
// the connection failure cause(since) returns, or err itself when there is
// none.
func (w *kafkaConnWatch) explain(err error, since uint64) error {
	c, n := w.cause(since)
	switch {
	case c == nil:
		return err
	case n > 1:
		return fmt.Errorf("upstream: %w (and %d other brokers); records not produced: %w", c, n-1, err)
	}
	return fmt.Errorf("upstream: %w; records not produced: %w", c, err)
}
