package upstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/upstream/spool"
	"github.com/prometheus/client_golang/prometheus"
)

// Route is a set of destinations: bit i means Options.Destinations[i].
type Route = spool.Route

// RouteTo returns the route holding destination i alone.
func RouteTo(i int) Route { return spool.RouteTo(i) }

// Durability says when Append returns; see package spool.
type Durability = spool.Durability

// The durability levels.
const (
	DurabilityProcess = spool.DurabilityProcess
	DurabilityFsync   = spool.DurabilityFsync
)

// FullPolicy says what Append does when the spool is full.
type FullPolicy = spool.FullPolicy

// The full policies.
const (
	FullShed  = spool.FullShed
	FullBlock = spool.FullBlock
)

// Errors of Append, from package spool. Test them with errors.Is.
var (
	ErrFull          = spool.ErrFull
	ErrDisk          = spool.ErrDisk
	ErrClosed        = spool.ErrClosed
	ErrInvalidRecord = spool.ErrInvalidRecord
	// ErrSpoolLocked is wrapped by Open's (and ReplayDeadLetters')
	// error when another process runs on the spool's directory.
	ErrSpoolLocked = spool.ErrLocked
)

// SpoolOptions configures the spool; zero fields take spool's defaults.
type SpoolOptions struct {
	Dir            string // default <DataDir>/spool
	MaxBytes       int64  // size cap, default 1 GiB
	SegmentBytes   int64  // default MaxBytes/8, at most 16 MiB (64 MiB in fsync durability)
	MaxRecordBytes int    // default 1 MiB
	Durability     Durability
	FsyncMaxDelay  time.Duration
	GatherWindow   time.Duration // see spool.Options.GatherWindow
	WhenFull       FullPolicy
	BlockTimeout   time.Duration // for FullBlock, default 1 s
}

// RetryOptions shapes the backoff between attempts of a retryable failure.
// A batch is retried until it is delivered, it fails permanently, or Close's
// deadline passes (it then stays in the spool).
type RetryOptions struct {
	Initial       time.Duration // first backoff, default 100 ms
	Max           time.Duration // longest backoff, default 30 s
	MaxRetryAfter time.Duration // cap on a destination's Retry-After, default 10 min

	// RedirectDeadLetterAfter is how long a destination may answer with
	// redirects (never followed) before the batch is dead-lettered; the
	// window runs from the first redirect after the last delivery.
	// Default DefaultRefusalWindow.
	RedirectDeadLetterAfter time.Duration
	// AuthDeadLetterAfter is the same for refused credentials (HTTP 401
	// and 403, Kafka authorization errors). Default DefaultRefusalWindow.
	AuthDeadLetterAfter time.Duration
}

// DefaultRefusalWindow is the default of RetryOptions.RedirectDeadLetterAfter
// and AuthDeadLetterAfter: long enough to rotate a token or undo a
// misconfigured proxy; the spool holds the batches meanwhile.
const DefaultRefusalWindow = 15 * time.Minute

func (o *RetryOptions) resolve() {
	if o.Initial <= 0 {
		o.Initial = 100 * time.Millisecond
	}
	if o.Max <= 0 {
		o.Max = 30 * time.Second
	}
	o.Max = max(o.Max, o.Initial)
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = 10 * time.Minute
	}
	if o.RedirectDeadLetterAfter <= 0 {
		o.RedirectDeadLetterAfter = DefaultRefusalWindow
	}
	if o.AuthDeadLetterAfter <= 0 {
		o.AuthDeadLetterAfter = DefaultRefusalWindow
	}
}

// DestinationOptions configures one destination. Exactly one of File, HTTP,
// Kafka, NATS and Sink is set.
type DestinationOptions struct {
	// Name labels metrics and names the cursor and dead-letter folder:
	// 1-64 characters of [A-Za-z0-9_-].
	Name string

	File  *FileOptions
	HTTP  *HTTPOptions
	Kafka *KafkaOptions
	NATS  *NATSOptions
	Sink  Sink // any other sink; closed by Pipeline.Close

	Batch BatchOptions

	// Compression of batches on the wire: the HTTP body, the file
	// frames (zstd only), or Kafka's record batches. Default zstd.
	Compression Codec
	// CompressionLevel: 0 is the codec's default; see NewEncoder (for
	// Kafka, KafkaOptions.CompressionLevel).
	CompressionLevel int

	Retry RetryOptions

	// SendTimeout bounds one Send attempt. Default 30 s. It does not
	// apply to ContextFree sinks (files), whose Send cannot be interrupted.
	SendTimeout time.Duration
}

// Options configures a Pipeline.
type Options struct {
	// DataDir is the base of the default paths: <DataDir>/spool,
	// <DataDir>/deadletter and, for file destinations, <DataDir>/out.
	DataDir string

	Spool        SpoolOptions
	Destinations []DestinationOptions

	// DeadLetterDir receives batches a destination refused for good, in
	// <DeadLetterDir>/<destination>/. Default <DataDir>/deadletter.
	DeadLetterDir string

	// Registerer receives the metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Logger receives operational events; nil uses slog.Default().
	Logger *slog.Logger

	// Clock stamps spool records, measures the age of unsent records and
	// names output and dead-letter files. Nil means clock.Real. File and
	// HTTP destinations without a Clock of their own use it.
	Clock clock.Clock
}

// Pipeline stores records in the spool and ships them to every destination
// they are routed to, at least once. Append is safe for concurrent use.
type Pipeline struct {
	clock    clock.Clock
	spool    *spool.Spool
	shippers []*shipper
	mask     Route
	log      *slog.Logger
	m        *pipelineMetrics

	taps       atomic.Pointer[tapList] // nil: no tap open
	tapMu      sync.Mutex              // serializes changes to taps
	tapsClosed bool                    // Close ended the taps: a new one ends at once; under tapMu

	cancel    context.CancelFunc
	drain     chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// Open opens the spool (repairing what a crash left), builds the sinks and
// starts one shipper per destination, each resuming from its cursor.
func Open(opts Options) (*Pipeline, error) {
	if len(opts.Destinations) == 0 {
		return nil, errors.New("upstream: no destinations")
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if opts.Spool.Dir == "" {
		if opts.DataDir == "" {
			return nil, errors.New("upstream: DataDir or Spool.Dir is required")
		}
		opts.Spool.Dir = filepath.Join(opts.DataDir, "spool")
	}
	if opts.DeadLetterDir == "" {
		opts.DeadLetterDir = filepath.Join(filepath.Dir(filepath.Clean(opts.Spool.Dir)), "deadletter")
		if opts.DataDir != "" {
			opts.DeadLetterDir = filepath.Join(opts.DataDir, "deadletter")
		}
	}
	names := make([]string, len(opts.Destinations))
	for i, d := range opts.Destinations {
		names[i] = d.Name
	}
	opts.Clock = clock.Or(opts.Clock)
	p := &Pipeline{log: log, drain: make(chan struct{}), clock: opts.Clock}
	p.m = newPipelineMetrics()
	var sinks []Sink
	fail := func(err error) (*Pipeline, error) {
		for _, s := range sinks {
			s.Close()
		}
		if p.spool != nil {
			p.spool.Close()
		}
		p.m.unregister()
		return nil, err
	}
	sp, err := spool.Open(spool.Options{
		Dir:            opts.Spool.Dir,
		Destinations:   names,
		MaxBytes:       opts.Spool.MaxBytes,
		SegmentBytes:   opts.Spool.SegmentBytes,
		MaxRecordBytes: opts.Spool.MaxRecordBytes,
		Durability:     opts.Spool.Durability,
		FsyncMaxDelay:  opts.Spool.FsyncMaxDelay,
		GatherWindow:   opts.Spool.GatherWindow,
		WhenFull:       opts.Spool.WhenFull,
		BlockTimeout:   opts.Spool.BlockTimeout,
		Registerer:     opts.Registerer,
		Logger:         log,
		Clock:          opts.Clock,
	})
	if err != nil {
		return fail(err)
	}
	p.spool = sp
	// The sinks only after the spool: its lock tells that no other
	// process runs on this data directory, whose file sinks' .part files
	// NewFileSink repairs (renames) as an earlier run's.
	for i := range opts.Destinations {
		d := &opts.Destinations[i]
		s, err := buildSink(d, opts.DataDir, opts.Clock, opts.Spool.Durability, log)
		if err != nil {
			return fail(fmt.Errorf("upstream: destination %q: %w", d.Name, err))
		}
		sinks = append(sinks, s)
	}
	for i := range opts.Destinations {
		sh, err := newShipper(p, i, opts.Destinations[i], sinks[i], opts.DeadLetterDir)
		if err != nil {
			return fail(fmt.Errorf("upstream: destination %q: %w", names[i], err))
		}
		p.shippers = append(p.shippers, sh)
		p.mask |= RouteTo(i)
	}
	if err := p.m.register(opts.Registerer); err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	for _, sh := range p.shippers {
		go sh.run(ctx)
	}
	return p, nil
}

func buildSink(d *DestinationOptions, dataDir string, clk clock.Clock, durability Durability, log *slog.Logger) (Sink, error) {
	n := 0
	for _, set := range []bool{d.File != nil, d.HTTP != nil, d.Kafka != nil, d.NATS != nil, d.Sink != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, errors.New("set exactly one of File, HTTP, Kafka, NATS and Sink")
	}
	switch {
	case d.File != nil:
		if c := d.Compression.resolve(); c != CodecZstd {
			return nil, fmt.Errorf("file destinations write zstd, not %v", c)
		}
		o := *d.File
		if o.Dir == "" {
			if dataDir == "" {
				return nil, errors.New("file destination without Dir or DataDir")
			}
			o.Dir = filepath.Join(dataDir, "out")
		}
		if o.Clock == nil {
			o.Clock = clk
		}
		// A delivered record leaves the spool: the file must keep it as
		// durably as the spool did.
		o.Durability = durability
		return NewFileSink(o)
	case d.HTTP != nil:
		o := *d.HTTP
		if o.Clock == nil {
			o.Clock = clk
		}
		return NewHTTPSink(o)
	case d.Kafka != nil:
		o := *d.Kafka
		if o.Compression == CodecAuto {
			o.Compression = d.Compression
		}
		if o.CompressionLevel == 0 {
			o.CompressionLevel = d.CompressionLevel
		}
		if o.Logger == nil {
			o.Logger = log
		}
		return NewKafkaSink(o)
	case d.NATS != nil:
		o := *d.NATS
		if o.Destination == "" {
			o.Destination = d.Name
		}
		if o.Logger == nil {
			o.Logger = log
		}
		return NewNATSSink(o)
	}
	return d.Sink, nil
}

// Append stores record (one JSON object, already anonymized; a final '\n'
// is optional) for the destinations in route, and returns once it is as
// durable as SpoolOptions.Durability says. Bits of destinations that do not
// exist are ignored; a record routed nowhere is counted and not stored.
// record is copied. Append does not allocate.
//
// Errors: ErrFull (the caller answers 503 to beacons, still sends the
// pixel's GIF), a disk error (errors.Is(err, ErrDisk)), ErrClosed,
// ErrInvalidRecord. Every refused record is already counted in
// beacongate_upstream_dropped_records_total.
func (p *Pipeline) Append(record []byte, route Route) error {
	route &= p.mask
	if route == 0 {
		p.m.unrouted.Inc()
		return nil
	}
	if err := p.spool.Append(record, route); err != nil {
		return err
	}
	p.offer(record, route)
	return nil
}

// Pending is the records one caller enqueued with Enqueue and has not
// waited for yet (see spool.Pending).
type Pending = spool.Pending

// Enqueue is Append without the wait for durability: record is added to
// p and to the next group write, and Wait(p) returns once every record in p
// is durable. A request's events enqueued one by one and waited for once
// share a group write instead of each waiting for its own. Taps see the
// record at once (before it is durable). Errors are Append's, except a
// disk error of the write, which Wait returns; a refused record is not
// added to p.
func (p *Pipeline) Enqueue(pd *Pending, record []byte, route Route) error {
	route &= p.mask
	if route == 0 {
		p.m.unrouted.Inc()
		return nil
	}
	if err := p.spool.Enqueue(pd, record, route); err != nil {
		return err
	}
	p.offer(record, route)
	return nil
}

// Withdraw takes pd's records back out of the next spool write, when no
// write took any yet and no other caller's came between or after them
// (see spool.Spool.Withdraw), and reports whether it did. Taps saw them.
func (p *Pipeline) Withdraw(pd *Pending) bool { return p.spool.Withdraw(pd) }

// Wait returns once every record in pd is as durable as
// SpoolOptions.Durability says, and empties pd. A non-nil error (a disk
// error) means some of them may be lost; they are counted as dropped.
func (p *Pipeline) Wait(pd *Pending) error { return p.spool.Wait(pd) }

// Ready returns nil when Append can take records: not closed, no recent disk
// error, not full. For /readyz.
func (p *Pipeline) Ready() error {
	select {
	case <-p.drain:
		return ErrClosed
	default:
	}
	if err := p.spool.Err(); err != nil {
		return err
	}
	if p.spool.Full() {
		return ErrFull
	}
	return nil
}

// Destinations returns the configured destination names in route-bit order.
func (p *Pipeline) Destinations() []string {
	names := make([]string, len(p.shippers))
	for i, sh := range p.shippers {
		names[i] = sh.name
	}
	return names
}

// Close stops accepting records, writes what was accepted, and ships what
// can be shipped before ctx's deadline, sending partial batches at once.
// What is left stays in the spool and is shipped after the next Open. It
// returns ctx's error if some destination was not drained.
func (p *Pipeline) Close(ctx context.Context) error {
	p.closeOnce.Do(func() { p.closeErr = p.close(ctx) })
	return p.closeErr
}

func (p *Pipeline) close(ctx context.Context) error {
	var errs []error
	if err := p.spool.CloseAppends(); err != nil {
		errs = append(errs, err)
	}
	// Nothing is appended any more: end the taps, so that their readers
	// see the stream end instead of a cut connection.
	p.closeTaps()
	close(p.drain)
	var undrained []string
	for _, sh := range p.shippers {
		select {
		case <-sh.done:
		case <-ctx.Done():
		}
	}
	p.cancel()
	// Shippers stop at once when cancelled, unless a Send does not
	// notice: closing its sink then makes it return.
	grace := make(chan struct{})
	t := time.AfterFunc(5*time.Second, func() { close(grace) })
	defer t.Stop()
	closed := make([]bool, len(p.shippers))
	for i, sh := range p.shippers {
		select {
		case <-sh.done:
		case <-grace:
			p.log.Warn("upstream: a send ignores cancellation; closing its sink", "destination", sh.name)
			closed[i] = true
			if err := sh.sink.Close(); err != nil {
				errs = append(errs, fmt.Errorf("upstream: closing %q: %w", sh.name, err))
			}
		}
	}
	for i, sh := range p.shippers {
		<-sh.done
		if !sh.drained.Load() {
			undrained = append(undrained, sh.name)
		}
		if !closed[i] {
			if err := sh.sink.Close(); err != nil {
				errs = append(errs, fmt.Errorf("upstream: closing %q: %w", sh.name, err))
			}
		}
	}
	if err := p.spool.Close(); err != nil {
		errs = append(errs, err)
	}
	p.m.unregister()
	if len(undrained) > 0 {
		errs = append(errs, fmt.Errorf("upstream: %q not drained, the rest stays in the spool: %w", undrained, context.Cause(ctx)))
	}
	return errors.Join(errs...)
}
