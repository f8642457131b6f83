package spool

import "errors"

// Errors returned by Append. They are package-level values so that the hot
// path never formats an error.
var (
	// ErrFull means the spool holds Options.MaxBytes already (with
	// FullBlock: still after Options.BlockTimeout). The record was not
	// stored; it was counted in beacongate_upstream_dropped_records_total.
	ErrFull = errors.New("spool: full")

	// ErrDisk is wrapped by every *DiskError: the record was not stored
	// because a write, fsync or file creation failed (ENOSPC, EIO, ...).
	ErrDisk = errors.New("spool: disk error")

	// ErrClosed means Append was called after CloseAppends or Close.
	ErrClosed = errors.New("spool: closed")

	// ErrLocked is wrapped by Open's error when another process holds the
	// spool's lock: a gateway (or a dead-letter replay) running on the
	// same directory.
	ErrLocked = errors.New("spool: in use by another process")

	// ErrInvalidRecord means the record was empty, longer than
	// Options.MaxRecordBytes, or held a newline other than one final one.
	ErrInvalidRecord = errors.New("spool: record empty, too long or holding a newline")
)

// DiskError is a failed disk operation. errors.Is(err, ErrDisk) is true for
// it, and so is errors.Is(err, syscall.ENOSPC) when that was the cause.
// Append returns the same *DiskError value to every caller until the next
// write succeeds, so failing fast does not allocate.
type DiskError struct {
	Op  string // what failed: "write", "fsync", "create segment", ...
	Err error

	wrapped [2]error // ErrDisk and Err, so that Unwrap does not allocate
}

// Error implements error.
func (e *DiskError) Error() string { return "spool: disk error: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns ErrDisk and the cause.
func (e *DiskError) Unwrap() []error {
	if e.wrapped[0] == nil {
		return []error{ErrDisk, e.Err}
	}
	return e.wrapped[:]
}

func diskError(op string, err error) error {
	if err == nil {
		return nil
	}
	return &DiskError{Op: op, Err: err, wrapped: [2]error{ErrDisk, err}}
}
