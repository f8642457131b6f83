package upstream

import (
	"context"
	"errors"
	"time"
)

// Sink delivers batches to one destination.
type Sink interface {
	// Send delivers b and returns nil only once the destination has
	// acknowledged every record in it: only then is the spool cursor
	// moved past them. An error is retryable (the batch is sent again
	// after a backoff) unless it is marked Permanent (the batch goes to
	// the dead-letter folder). Send must not keep b after returning.
	Send(ctx context.Context, b *Batch) error

	// Close releases the sink. Send is not called after Close.
	Close() error
}

// Unencoded is implemented by sinks that take records one by one and
// compress them in their own protocol (Kafka): the shipper leaves
// Batch.Encoded empty for them.
type Unencoded interface {
	Unencoded()
}

// SendError classifies a Send error.
type SendError struct {
	Err        error
	Permanent  bool          // the destination will never accept this batch
	RetryAfter time.Duration // the destination asked to wait this long
}

// Error implements error.
func (e *SendError) Error() string {
	switch {
	case e.Permanent:
		return "permanent: " + e.Err.Error()
	case e.RetryAfter > 0:
		return e.Err.Error() + " (retry after " + e.RetryAfter.String() + ")"
	}
	return e.Err.Error()
}

// Unwrap returns the cause.
func (e *SendError) Unwrap() error { return e.Err }

// Permanent marks err as permanent: the batch is moved to the dead-letter
// folder rather than retried.
func Permanent(err error) error { return &SendError{Err: err, Permanent: true} }

// RetryAfter marks err as retryable no sooner than after d.
func RetryAfter(err error, d time.Duration) error { return &SendError{Err: err, RetryAfter: d} }

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Permanent
}

func retryAfterOf(err error) time.Duration {
	var se *SendError
	if errors.As(err, &se) {
		return se.RetryAfter
	}
	return 0
}
