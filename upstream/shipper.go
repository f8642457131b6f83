package upstream

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/beacongate/beacongate/internal/atomicfile"
	"github.com/beacongate/beacongate/internal/yield"
	"github.com/beacongate/beacongate/upstream/spool"
)

// shipper moves one destination's records from the spool to its sink:
// read, batch, encode, send with retries, commit the cursor.
type shipper struct {
	p       *Pipeline
	name    string
	opts    DestinationOptions
	sink    Sink
	r       *spool.Reader
	enc     *Encoder // nil for Unencoded sinks
	bounded bool     // Send gets a context with SendTimeout (not ContextFree)
	dlDir   string
	log     *slog.Logger
	m       destMetrics
	batch   Batch
	started time.Time // when the batch got its first record
	// yield gives the core to the requests (yield.Core; tests count it);
	// unyielded is how many bytes fill read since it last called it
	// (ship counts compression's slices on top of it).
	yield     func()
	unyielded int

	oldestMS atomic.Int64  // spool time of the oldest unsent record, 0 if none
	rawBytes atomic.Uint64 // uncompressed bytes sent, for the ratio gauge
	encBytes atomic.Uint64 // bytes sent
	drained  atomic.Bool   // stopped because Close's drain finished
	done     chan struct{}

	failing   bool // the last attempt failed
	lastLogAt time.Time

	// refusedSince[k] is when the destination started refusing with
	// kind k (monotonic nanoseconds since monoBase, 0 if it is not):
	// set by the first refusal after a delivery, cleared by a delivery.
	// Read by the *_failing_seconds gauges.
	refusedSince [3]atomic.Int64
	// failingSince is when the send attempts of the batch being sent
	// started to fail (monotonic, as refusedSince): set by its first failed
	// attempt, cleared once it is delivered or dead-lettered. Read by
	// failing_seconds.
	failingSince atomic.Int64
}

// monoBase anchors monotonic timestamps stored in atomics.
var monoBase = time.Now()

// monoNow returns monotonic nanoseconds since monoBase, at least 1.
func monoNow() int64 { return max(1, int64(time.Since(monoBase))) }

// failingFor returns how long every attempt to send the current batch has
// failed, 0 if none did.
func (sh *shipper) failingFor() time.Duration {
	since := sh.failingSince.Load()
	if since == 0 {
		return 0
	}
	return time.Duration(monoNow() - since)
}

// refusedFor returns how long the destination has refused with kind k, 0 if
// it does not.
func (sh *shipper) refusedFor(k Refusal) time.Duration {
	since := sh.refusedSince[k].Load()
	if since == 0 {
		return 0
	}
	return time.Duration(monoNow() - since)
}

// refusalWindow returns how long refusals of kind k are retried.
func (sh *shipper) refusalWindow(k Refusal) time.Duration {
	if k == RefusalRedirect {
		return sh.opts.Retry.RedirectDeadLetterAfter
	}
	return sh.opts.Retry.AuthDeadLetterAfter
}

func newShipper(p *Pipeline, i int, o DestinationOptions, sink Sink, deadLetterDir string) (*shipper, error) {
	o.Batch.resolve()
	o.Retry.resolve()
	if o.SendTimeout <= 0 {
		o.SendTimeout = 30 * time.Second
	}
	sh := &shipper{
		p:     p,
		name:  o.Name,
		opts:  o,
		sink:  sink,
		r:     p.spool.Reader(i),
		dlDir: filepath.Join(deadLetterDir, o.Name),
		log:   p.log.With("destination", o.Name),
		done:  make(chan struct{}),
		yield: shipperYield,
	}
	sh.batch.Destination = o.Name
	_, free := sink.(ContextFree)
	sh.bounded = !free
	if _, raw := sink.(Unencoded); !raw {
		enc, err := NewEncoder(o.Compression, o.CompressionLevel)
		if err != nil {
			return nil, err
		}
		sh.enc = enc
	}
	sh.m = p.m.forDestination(sh)
	sh.tidyDeadLetters()
	return sh, nil
}

// tidyDeadLetters removes what a kill during a dead letter's write left in
// the destination's dead-letter folder, when the pipeline opens: temporary
// files, and a .error without its batch file (the reason is written first;
// it may quote the destination's answer, which may echo records). That
// batch was not dead-lettered (the cursor moves past it only after both
// files are in place) and is read and sent again. Only this destination's
// shipper writes there. A folder that cannot be read is left to the next
// dead letter's write to report.
func (sh *shipper) tidyDeadLetters() {
	entries, err := os.ReadDir(sh.dlDir)
	if err != nil {
		return
	}
	names := make(map[string]bool, len(entries))
	for _, e := range entries {
		names[e.Name()] = true
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() {
			continue
		}
		if base, isErr := strings.CutSuffix(name, ".error"); !strings.HasSuffix(name, ".tmp") &&
			!(isErr && !names[base+".ndjson"] && !names[base+".ndjson.zst"] && !names[base+".ndjson.gz"]) {
			continue
		}
		if err := os.Remove(filepath.Join(sh.dlDir, name)); err != nil {
			sh.log.Warn("upstream: could not remove what an interrupted dead letter's write left", "file", name, "err", err)
		}
	}
}

func (sh *shipper) run(ctx context.Context) {
	defer close(sh.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	draining := false
	readFailures := 0
	// Where the reader was when the spool last said records were ready:
	// ready again at the same place means the read in between found none
	// (a frame in the live segment that cannot be read yet, an end past
	// this reader's last segment when the disk was full at Open), and the
	// shipper waits for the next write or its timer rather than spin.
	readyAt := ^uint64(0)
	for ctx.Err() == nil {
		if !draining {
			select {
			case <-sh.p.drain:
				draining = true
			default:
			}
		}
		full, err := sh.fill()
		if err != nil {
			readFailures++
			sh.logFailure("cannot read the spool", err)
			if !sleepCtx(ctx, sh.backoff(readFailures-1, nil)) {
				return
			}
			continue
		}
		readFailures = 0
		b := &sh.batch
		if b.Len() > 0 && (full || draining || sh.age() >= sh.opts.Batch.MaxAge) {
			if !sh.ship(ctx) {
				return
			}
			continue
		}
		if b.Len() == 0 {
			sh.oldestMS.Store(0) // caught up
			// Move past records routed elsewhere, so their segments can go.
			sh.commit(sh.r.Pos())
			if draining {
				sh.drained.Store(true)
				return
			}
		}
		// A partial batch goes out on its timer or once full: wake for
		// more records when a good part of a batch is written (64 KiB),
		// not after every small group write (a goroutine switch each),
		// but no later than when the batch's room in bytes is written, or
		// as many records as it lacks of MaxEvents, so that a batch full
		// by size or count does not wait for its timer (near the end of a
		// batch that can be every group write). An empty batch waits for
		// the first record, which starts its clock.
		var after, lack uint64
		if n := b.Len(); n > 0 {
			room := max(1, sh.opts.Batch.MaxBytes-len(b.Data))
			after = uint64(min(wakeBytes, sh.opts.Batch.MaxBytes/2, room))
			lack = uint64(sh.opts.Batch.MaxEvents - n)
		}
		if sh.r.NotifyAfterRecords(after, lack) && sh.r.Pos() != readyAt {
			readyAt = sh.r.Pos()
			continue // written meanwhile: read it now
		}
		var wake <-chan time.Time
		if b.Len() > 0 {
			timer.Reset(sh.opts.Batch.MaxAge - sh.age())
			wake = timer.C
		}
		drain := sh.p.drain
		if draining {
			drain = nil
		}
		select {
		case <-sh.r.Notify():
		case <-wake:
		case <-drain:
			draining = true
		case <-ctx.Done():
		}
		timer.Stop()
	}
}

// age returns how long the batch's oldest record has waited: since it was
// spooled, or since it was read if the clock went backwards.
func (sh *shipper) age() time.Duration {
	if sh.batch.Len() == 0 {
		return 0
	}
	spooled := time.Duration(sh.p.clock.Now().UnixMilli()-sh.batch.OldestMS) * time.Millisecond
	return max(time.Since(sh.started), spooled)
}

// fill adds available records to the batch until it is full (true) or no
// record is left (false).
func (sh *shipper) fill() (bool, error) {
	b := &sh.batch
	for b.Len() < sh.opts.Batch.MaxEvents {
		pos := sh.r.Pos()
		rec, ms, ok, err := sh.r.Next()
		if err != nil || !ok {
			return false, err
		}
		if b.Len() > 0 && len(b.Data)+len(rec)+1 > sh.opts.Batch.MaxBytes {
			sh.r.Unread()
			return true, nil
		}
		if b.Len() == 0 {
			b.First, b.OldestMS, sh.started = pos, ms, time.Now()
			sh.oldestMS.Store(ms)
		}
		b.add(rec)
		b.End = sh.r.Pos()
		// A full batch is read in one go (up to 1,000 records) and the
		// first compression slice follows: yield between, as between
		// slices, so that the requests do not wait behind both.
		if sh.unyielded += len(rec); sh.unyielded >= sliceBytes {
			sh.unyielded = 0
			sh.yield()
		}
	}
	return true, nil
}

// ship encodes and sends the batch until it is delivered or dead-lettered,
// then commits it. It returns false if ctx ended first (the batch stays
// in the spool).
func (sh *shipper) ship(ctx context.Context) bool {
	b := &sh.batch
	b.Codec = CodecNone
	b.Encoded = b.Encoded[:0]
	if sh.enc != nil {
		// The first slice would follow what fill read since its last
		// yield in one run on the core: yield between when together
		// they exceed a slice.
		if sh.unyielded > 0 && sh.unyielded+min(len(b.Data), sliceBytes) > sliceBytes {
			sh.yield()
		}
		sh.unyielded = 0
		enc, err := sh.enc.AppendEncodedSliced(b.Encoded, b.Data, sh.yield)
		if err != nil { // cannot happen with in-memory buffers; send as is
			sh.log.Error("upstream: cannot compress a batch, sending it uncompressed", "err", err)
			enc = append(enc[:0], b.Data...)
		} else {
			b.Codec = sh.enc.Codec()
		}
		b.Encoded = enc
	}
	for attempt := 0; ; attempt++ {
		t0 := time.Now()
		var err error
		if sh.bounded {
			sctx, cancel := context.WithTimeout(ctx, sh.opts.SendTimeout)
			err = sh.sink.Send(sctx, b)
			cancel()
		} else {
			err = sh.sink.Send(ctx, b)
		}
		sh.m.latency.Observe(time.Since(t0).Seconds())
		if err == nil {
			sh.sent(b, 0)
			break
		}
		if rej := rejectedOf(err); len(rej) > 0 {
			dlErr := sh.deadLetterRecords(b, rej, err)
			if dlErr == nil {
				sh.sent(b, len(rej))
				break
			}
			err = fmt.Errorf("%w; and cannot write the dead letter: %w", err, dlErr)
		}
		if ctx.Err() != nil {
			return false
		}
		permanent := IsPermanent(err)
		if k := RefusalOf(err); k == RefusalRedirect || k == RefusalAuth {
			sh.m.refusals[k].Inc()
			sh.refusedSince[k].CompareAndSwap(0, monoNow())
			if held := sh.refusedFor(k); held >= sh.refusalWindow(k) {
				permanent = true
				err = fmt.Errorf("%w (refused with %v answers for %v)", err, k, held.Round(time.Millisecond))
			}
		}
		if permanent {
			var dlErr error
			if rest, partly := sh.undelivered(b); !partly {
				if dlErr = sh.deadLetter(b, err); dlErr == nil {
					break
				}
			} else if len(rest) == 0 {
				sh.sent(b, 0)
				break
			} else if dlErr = sh.deadLetterRecords(b, rest, err); dlErr == nil {
				sh.sent(b, len(rest))
				break
			}
			err = fmt.Errorf("%w; and cannot write the dead letter: %w", err, dlErr)
		}
		sh.failingSince.CompareAndSwap(0, monoNow())
		sh.m.retries.Inc()
		sh.logFailure("send failed, retrying", err)
		if !sleepCtx(ctx, sh.backoff(attempt, err)) {
			return false
		}
	}
	sh.failingSince.Store(0) // delivered, or given up on
	if sh.failing {
		sh.failing = false
		sh.log.Info("upstream: destination accepts batches again")
	}
	sh.commit(b.End)
	b.reset() // oldestMS stays until fill finds the next record or nothing
	return true
}

// undelivered returns the records of b a Progress sink has not delivered
// yet, when some of them it has (partly): the batch being given up, only
// those go to the dead letters and the rest counts as delivered.
func (sh *shipper) undelivered(b *Batch) (rest []int, partly bool) {
	pr, ok := sh.sink.(Progress)
	if !ok {
		return nil, false
	}
	rest, ok = pr.Undelivered(b)
	if !ok || len(rest) >= b.Len() {
		return nil, false
	}
	return rest, true
}

// sent counts a delivered batch, rejected of whose records were refused
// (and dead-lettered).
func (sh *shipper) sent(b *Batch, rejected int) {
	for i := range sh.refusedSince {
		sh.refusedSince[i].Store(0)
	}
	wire := len(b.Encoded)
	if wire == 0 {
		wire = len(b.Data)
	}
	sh.m.batches.Inc()
	sh.m.records.Add(float64(b.Len() - rejected))
	sh.m.bytes.Add(float64(wire))
	sh.m.rawBytes.Add(float64(len(b.Data)))
	sh.rawBytes.Add(uint64(len(b.Data)))
	sh.encBytes.Add(uint64(wire))
}

func (sh *shipper) commit(off uint64) {
	if err := sh.r.Commit(off); err != nil {
		// The records are delivered; not persisting the cursor only means
		// they may be sent again after a restart.
		sh.logFailure("cannot persist the cursor", err)
	}
}

// backoff returns the wait before attempt+1: exponential with jitter (half
// fixed, half random), or what the destination asked for with Retry-After.
func (sh *shipper) backoff(attempt int, err error) time.Duration {
	if ra := retryAfterOf(err); ra > 0 {
		return min(ra, sh.opts.Retry.MaxRetryAfter)
	}
	d := sh.opts.Retry.Initial << min(attempt, 30)
	if d <= 0 || d > sh.opts.Retry.Max {
		d = sh.opts.Retry.Max
	}
	return d/2 + rand.N(d/2+1)
}

// logFailure logs the first failure of a streak, then at most every 30 s.
func (sh *shipper) logFailure(msg string, err error) {
	if sh.failing && time.Since(sh.lastLogAt) < 30*time.Second {
		return
	}
	sh.failing, sh.lastLogAt = true, time.Now()
	sh.log.Warn("upstream: "+msg, "err", err)
}

// deadLetter stores a batch the destination refused for good in
// <dlDir>/<time>-<first offset>.ndjson[.zst|.gz], with the reason beside it
// in a .error file. The batch file is written under a temporary name,
// fsynced and renamed, so it is either whole or absent.
func (sh *shipper) deadLetter(b *Batch, cause error) error {
	if err := os.MkdirAll(sh.dlDir, 0o700); err != nil {
		return err
	}
	data, codec := b.Encoded, b.Codec
	if len(data) == 0 {
		data, codec = b.Data, CodecNone
	}
	base := fmt.Sprintf("%s-%020d", sh.p.clock.Now().UTC().Format("20060102T150405.000Z"), b.First)
	path := filepath.Join(sh.dlDir, base+".ndjson"+codec.Ext())
	// The reason first: a kill before the batch file is in place leaves a
	// .error alone, which the next start removes (tidyDeadLetters), not a
	// batch without its reason.
	if err := atomicfile.Write(filepath.Join(sh.dlDir, base+".error"), deadLetterReason(cause), 0o600); err != nil {
		return err
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return err
	}
	sh.m.deadBatches.Inc()
	sh.m.deadRecords.Add(float64(b.Len()))
	sh.log.Warn("upstream: batch refused for good, moved to the dead-letter folder",
		"file", path, "records", b.Len(), "err", cause)
	return nil
}

// deadLetterRecords stores the records at the indexes rej of b, which the
// destination refused for good while it took the rest of the batch, as an
// uncompressed batch of their own, named like deadLetter's.
func (sh *shipper) deadLetterRecords(b *Batch, rej []int, cause error) error {
	if err := os.MkdirAll(sh.dlDir, 0o700); err != nil {
		return err
	}
	var data []byte
	n := 0
	for _, i := range rej {
		if i < 0 || i >= b.Len() {
			continue // a sink's bug must not lose the rest
		}
		data = append(data, b.Record(i)...)
		data = append(data, '\n')
		n++
	}
	base := fmt.Sprintf("%s-%020d-rejected", sh.p.clock.Now().UTC().Format("20060102T150405.000Z"), b.First)
	path := filepath.Join(sh.dlDir, base+".ndjson")
	if err := atomicfile.Write(filepath.Join(sh.dlDir, base+".error"), deadLetterReason(cause), 0o600); err != nil {
		return err
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return err
	}
	sh.m.deadBatches.Inc()
	sh.m.deadRecords.Add(float64(n))
	sh.log.Warn("upstream: records refused for good, moved to the dead-letter folder; the rest of the batch was delivered",
		"file", path, "records", n, "of", b.Len(), "err", cause)
	return nil
}

// shipperYield is what a shipper calls to give the core to the requests
// between steps of a batch; tests replace it before Open to count the
// calls.
var shipperYield = yield.Core

// wakeBytes is how much a shipper with a partial batch lets the spool
// write before it is woken to read: about 150 typical records, well within
// the spool's in-memory tail, so it still reads from memory.
const wakeBytes = 64 << 10

// sleepCtx waits d; false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// deadLetterReason is the content of a dead letter's .error file: the
// error, and on the same line the start of the destination's answer,
// which may echo the records and so is written only here, beside them.
func deadLetterReason(cause error) []byte {
	reason := cause.Error()
	if a := answerOf(cause); a != "" {
		reason += "; answer: " + a
	}
	return []byte(reason + "\n")
}
