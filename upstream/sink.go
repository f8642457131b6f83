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

// ContextFree is implemented by sinks whose Send never reads its context
// (the file sink: a write to a local file cannot be interrupted). The
// shipper passes them its own context rather than one bounded by
// DestinationOptions.SendTimeout, which costs a context and a timer (four
// allocations) per batch and bounds nothing there.
type ContextFree interface {
	ContextFree()
}

// Progress is implemented by sinks that send a batch in several requests
// and keep, across the attempts of one batch, which of its records a
// request already delivered (the ad platforms' sinks: the requests already
// answered are not sent again). Undelivered returns the indexes of b's
// records (for Batch.Record) no request delivered, and those refused for
// good that no Send has reported yet, in order; ok is false when the sink
// keeps no progress for b. When the shipper gives up on a batch (a
// permanent error, a refusal past its window) it dead-letters those
// records alone, so that a replay does not send the delivered ones again.
type Progress interface {
	Undelivered(b *Batch) (idx []int, ok bool)
}

// SendError classifies a Send error.
type SendError struct {
	Err        error
	Permanent  bool          // the destination will never accept this batch
	RetryAfter time.Duration // the destination asked to wait this long

	// Refusal, if set, says the destination refused the batch for a
	// reason that may clear up by itself (a redirect being undone, a
	// token being rotated): the batch is retried, and dead-lettered only
	// once the destination has refused this way for the window
	// RetryOptions gives the kind.
	Refusal Refusal

	// Rejected, if set, lists records of the batch (indexes for
	// Batch.Record) that the destination refused for good while it took
	// all the others: the batch counts as delivered, and only these
	// records go to the dead-letter folder, in a batch of their own.
	Rejected []int
}

// Refusal is a kind of refusal that is retried for a while before the batch
// is dead-lettered.
type Refusal uint8

// The refusal kinds.
const (
	RefusalNone     Refusal = iota
	RefusalRedirect         // HTTP 3xx: the destination moved, or a proxy sends us elsewhere
	RefusalAuth             // HTTP 401/403, Kafka authorization errors: bad or expired credentials
)

// String returns "none", "redirect" or "auth".
func (r Refusal) String() string {
	switch r {
	case RefusalNone:
		return "none"
	case RefusalRedirect:
		return "redirect"
	case RefusalAuth:
		return "auth"
	}
	return "unknown"
}

// Refused marks err as a refusal of kind r: retried with backoff, and
// dead-lettered only after the destination refused for the kind's window.
func Refused(err error, r Refusal) error { return &SendError{Err: err, Refusal: r} }

// RefusalOf returns the refusal kind marked on err, or RefusalNone.
func RefusalOf(err error) Refusal {
	var se *SendError
	if errors.As(err, &se) {
		return se.Refusal
	}
	return RefusalNone
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

// RejectedRecords marks err as a partial delivery: every record of the
// batch was delivered but the records at the indexes in rejected, which
// the destination refused for good (err says why). The shipper
// dead-letters those records alone and moves on; the good ones are not
// sent again. An empty rejected makes err an ordinary retryable error.
func RejectedRecords(err error, rejected []int) error {
	return &SendError{Err: err, Rejected: rejected}
}

// rejectedOf returns the records err marks as refused, or nil.
func rejectedOf(err error) []int {
	var se *SendError
	if errors.As(err, &se) && !se.Permanent {
		return se.Rejected
	}
	return nil
}

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
