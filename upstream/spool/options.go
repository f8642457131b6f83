package spool

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/clock"
)

// Durability says when Append may return. See the package doc.
type Durability uint8

// The durability levels.
const (
	DurabilityProcess Durability = iota // written to the kernel: survives kill -9
	DurabilityFsync                     // written and fsynced: survives power loss
)

// String returns "process" or "fsync".
func (d Durability) String() string {
	switch d {
	case DurabilityProcess:
		return "process"
	case DurabilityFsync:
		return "fsync"
	}
	return "unknown"
}

// FullPolicy says what Append does when the spool holds MaxBytes.
type FullPolicy uint8

// The policies.
const (
	FullShed  FullPolicy = iota // return ErrFull at once
	FullBlock                   // wait up to BlockTimeout for space, then ErrFull
)

// String returns "shed" or "block".
func (p FullPolicy) String() string {
	switch p {
	case FullShed:
		return "shed"
	case FullBlock:
		return "block"
	}
	return "unknown"
}

// Defaults applied by Open to zero Options fields.
const (
	DefaultMaxBytes          = 1 << 30
	DefaultMaxSegmentBytes   = 16 << 20 // process durability, where segments are recycled
	DefaultFsyncSegmentBytes = 64 << 20 // fsync durability: one directory fsync per segment
	DefaultMaxRecordBytes    = 1 << 20
	DefaultBufferBytes       = 4 << 20
	DefaultBlockTimeout      = time.Second
	DefaultDiskRetryInterval = time.Second
)

// blockPoll is how often a blocked Append looks for space again. Space only
// appears when a whole segment is deleted, so a coarse poll costs nothing.
const blockPoll = 2 * time.Millisecond

// Options configures a Spool. Zero fields take the defaults above.
type Options struct {
	// Dir holds the segment and cursor files. It is created if missing.
	Dir string

	// Destinations names the readers, in route-bit order (bit i = the
	// i-th name). Names must be unique, at most 64, and made of
	// [A-Za-z0-9_-]: they become file names.
	Destinations []string

	// MaxBytes caps the bytes of the segments (frames and headers) plus
	// the bytes waiting to be written. In process durability the files
	// can hold about two segments more: a recycled reserve and the unused
	// end of the segment being written, each at most a segment and a
	// record long (recycling stops within three segments of MaxBytes);
	// delivered segments waiting to be freed are not counted either.
	// Default 1 GiB.
	MaxBytes int64

	// Headroom is how many bytes of MaxBytes Append and Enqueue leave
	// free (they return ErrFull at MaxBytes-Headroom): only AppendHeadroom
	// (and AppendUpTo, up to its own limit) may use them. A spool whose space is freed only once records written by
	// its own reader are in (the BLE aggregation's, whose write-backs are
	// what lets its cursor move) keeps them for those records. Default 0;
	// it must be below MaxBytes.
	Headroom int64

	// SegmentBytes is the size at which a new segment file is started.
	// Space is freed (or, in process durability, the file recycled) a
	// whole segment at a time. Default MaxBytes/8, at most 16 MiB in
	// process durability and 64 MiB in fsync durability.
	SegmentBytes int64

	// MaxRecordBytes is the longest record Append accepts (default 1 MiB,
	// at most 16 MiB).
	MaxRecordBytes int

	// BufferBytes is the capacity of each of the two group-commit buffers
	// (one filling while the other is written). Default 4 MiB, and at
	// least twice the largest frame.
	BufferBytes int

	// Durability says when Append returns. Default DurabilityProcess.
	Durability Durability

	// FsyncMaxDelay is how long, in DurabilityFsync mode, a group's
	// leader waits for more appends before it writes and fsyncs. 0 (the
	// default) does not wait: groups still form while the previous fsync
	// runs. It is added to each Append's latency.
	FsyncMaxDelay time.Duration

	// GatherWindow is how long, in DurabilityProcess mode, a group's
	// leader waits for more appends before it writes, when appends have
	// been arriving less than a window apart (an average over the last
	// few) and the last group was small (under 8 records; larger groups
	// form by themselves near saturation). Below saturation, on one
	// core, a leader that does not wait writes alone: the other requests
	// are still in the socket buffers. 0 (the default) does not wait
	// beyond letting runnable goroutines append first. It is added to
	// each Append's latency while it applies, and on an otherwise idle
	// core Go's poller rounds a wait up to about 1 ms.
	GatherWindow time.Duration

	// TailBytes is how many of the newest spooled bytes are kept in
	// memory after their write, for readers that keep up: they copy
	// records from there instead of reading the segment back. Default
	// DefaultTailBytes; negative keeps none (every read goes to disk).
	TailBytes int

	// WhenFull is the policy when the spool holds MaxBytes. Default shed.
	WhenFull FullPolicy

	// BlockTimeout bounds the wait of FullBlock. Default 1 s.
	BlockTimeout time.Duration

	// DiskRetryInterval is how long Append fails fast with the last disk
	// error before trying the disk again, on Clock. Default 1 s.
	DiskRetryInterval time.Duration

	// Registerer receives the spool's metrics; nil registers nothing.
	Registerer prometheus.Registerer

	// MetricPrefix begins the names of the spool's metrics (see
	// Collectors). Default beacongate_upstream, the pipeline's spool; a
	// second spool in the process needs another, e.g. beacongate_ble.
	MetricPrefix string

	// Logger receives rare events (repairs, disk errors); nil discards.
	Logger *slog.Logger

	// Clock stamps each record with its append time (the time the
	// shippers' age metrics and batch ages count from) and times
	// DiskRetryInterval. Nil means clock.Real.
	Clock clock.Clock

	// writeCheck, if set, is asked before each write of n new bytes to
	// the spool directory; an error fails the write as the kernel's
	// would. Tests use it to model a small filesystem (ENOSPC) without
	// mount privileges.
	writeCheck func(n int64) error

	// slowOp, if set, is called before the slow file operations that
	// must stay off the request path: "remove" (deleting a delivered
	// segment), "recycle" (zeroing one to reuse it), "reserve" (writing
	// the next segment's reserve) and "sync directory"; and at the points
	// between which a crash leaves distinct files: "retire" (before a
	// delivered segment is renamed to its .deleted name), "step" (after
	// each step of freeing or zeroing one), "recycled" (zeroed, before
	// the rename to the reserve) and "idle" (the background goroutine's
	// round is over). Tests block in it, count them, or copy the spool's
	// directory there as a kill -9 would leave it.
	slowOp func(op string)
}

func resolve(o *Options) error {
	if o.Dir == "" {
		return errors.New("spool: Dir is required")
	}
	o.Clock = clock.Or(o.Clock)
	if len(o.Destinations) > maxDestinations {
		return fmt.Errorf("spool: %d destinations, at most %d", len(o.Destinations), maxDestinations)
	}
	seen := make(map[string]bool)
	for _, n := range o.Destinations {
		if !validName(n) {
			return fmt.Errorf("spool: destination name %q: want 1-64 characters of [A-Za-z0-9_-]", n)
		}
		if seen[n] {
			return fmt.Errorf("spool: destination %q named twice", n)
		}
		seen[n] = true
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Headroom < 0 || o.Headroom >= o.MaxBytes {
		return fmt.Errorf("spool: Headroom %d out of [0, MaxBytes %d)", o.Headroom, o.MaxBytes)
	}
	if o.SegmentBytes <= 0 {
		limit := int64(DefaultMaxSegmentBytes)
		if o.Durability == DurabilityFsync {
			limit = DefaultFsyncSegmentBytes
		}
		o.SegmentBytes = min(o.MaxBytes/8, limit)
	}
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if o.MaxRecordBytes > hardMaxRecord {
		return fmt.Errorf("spool: MaxRecordBytes %d above the limit %d", o.MaxRecordBytes, hardMaxRecord)
	}
	if o.BufferBytes <= 0 {
		o.BufferBytes = DefaultBufferBytes
	}
	o.BufferBytes = max(o.BufferBytes, 2*(frameHeaderLen+o.MaxRecordBytes))
	if o.TailBytes == 0 {
		o.TailBytes = DefaultTailBytes
	}
	o.TailBytes = max(o.TailBytes, 0)
	if o.GatherWindow < 0 || o.GatherWindow > time.Second {
		return fmt.Errorf("spool: GatherWindow %v out of [0, 1s]", o.GatherWindow)
	}
	if o.BlockTimeout <= 0 {
		o.BlockTimeout = DefaultBlockTimeout
	}
	if o.DiskRetryInterval <= 0 {
		o.DiskRetryInterval = DefaultDiskRetryInterval
	}
	if o.Durability > DurabilityFsync {
		return fmt.Errorf("spool: unknown durability %d", o.Durability)
	}
	if o.WhenFull > FullBlock {
		return fmt.Errorf("spool: unknown full policy %d", o.WhenFull)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

func validName(n string) bool {
	if len(n) == 0 || len(n) > 64 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
