package upstream

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/internal/atomicfile"
	"github.com/beacongate/beacongate/upstream/spool"
)

// syncDir fsyncs a dead letters' folder after a removal; a variable so that
// a test can see it called.
var syncDir = atomicfile.SyncDir

// DeadLetter is one batch a destination refused for good, stored by the
// shipper in <DeadLetterDir>/<destination>/.
type DeadLetter struct {
	Path    string    // the batch file (.ndjson, .ndjson.zst or .ndjson.gz)
	Bytes   int64     // size of the file
	ModTime time.Time // when it was last written, from which retention counts
	Records int       // records in the batch; -1 if it cannot be read
	Reason  string    // first line of the .error file beside it
	Err     error     // why the batch cannot be read, if it cannot
}

// DeadLetterDir returns where the shipper puts the dead letters of
// destination name under o (as Open resolves it).
func DeadLetterDir(o Options, name string) string {
	dir := o.DeadLetterDir
	if dir == "" {
		if o.DataDir != "" {
			dir = filepath.Join(o.DataDir, "deadletter")
		} else {
			dir = filepath.Join(filepath.Dir(filepath.Clean(o.Spool.Dir)), "deadletter")
		}
	}
	return filepath.Join(dir, name)
}

// ListDeadLetters returns the dead-lettered batches in dir, oldest first
// (file names start with the time they were refused). A missing dir is an
// empty list.
func ListDeadLetters(dir string) ([]DeadLetter, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []DeadLetter
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || !isBatchFile(name) {
			continue
		}
		d := DeadLetter{Path: filepath.Join(dir, name), Records: -1}
		if fi, err := e.Info(); err == nil {
			d.Bytes, d.ModTime = fi.Size(), fi.ModTime()
		}
		if b, err := os.ReadFile(errorFileOf(d.Path)); err == nil {
			d.Reason, _, _ = strings.Cut(strings.TrimSpace(string(b)), "\n")
		}
		if recs, err := readDeadLetter(d.Path); err != nil {
			d.Err = err
		} else {
			d.Records = len(recs)
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// isBatchFile reports whether name is a finished batch file: .ndjson,
// .ndjson.zst or .ndjson.gz.
func isBatchFile(name string) bool {
	return strings.HasSuffix(name, ".ndjson") || strings.HasSuffix(name, ".ndjson.zst") || strings.HasSuffix(name, ".ndjson.gz")
}

// errorFileOf returns the .error file written beside a batch file.
func errorFileOf(path string) string {
	i := strings.LastIndex(path, ".ndjson")
	return path[:i] + ".error"
}

// readDeadLetter decodes a batch file into its records.
func readDeadLetter(path string) ([][]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var data []byte
	switch {
	case strings.HasSuffix(path, ".zst"):
		dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			return nil, err
		}
		defer dec.Close()
		if data, err = dec.DecodeAll(raw, nil); err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
	case strings.HasSuffix(path, ".gz"):
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		if data, err = io.ReadAll(io.LimitReader(zr, 1<<30)); err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
	default:
		data = raw
	}
	var recs [][]byte
	n := 0
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		n++
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if line[0] != '{' {
			// The line, never its content: a record is personal data.
			return nil, fmt.Errorf("line %d is not a JSON object", n)
		}
		recs = append(recs, line)
	}
	return recs, nil
}

// ReplayResult counts what a replay did (or, in a dry run, would do).
type ReplayResult struct {
	Batches, Records int // replayed: appended to the spool (a batch counts when any of its records was)
	Skipped          int // batch files that cannot be read, left in place
	// Held are the records ReplayOptions.Check held back, by its reason,
	// and HeldBatches the batch files they were in: they stay in the dead
	// letters, or with DropHeld are deleted.
	Held        map[string]int
	HeldBatches int
	// Expired and ExpiredRecords count the batches older than
	// ReplayOptions.MaxAge, and their records: not replayed, left for the
	// retention sweep.
	Expired, ExpiredRecords int
}

// HeldRecords returns how many records were held back, for every reason.
func (r *ReplayResult) HeldRecords() int {
	n := 0
	for _, c := range r.Held {
		n += c
	}
	return n
}

// ReplayOptions are a replay's options.
type ReplayOptions struct {
	// DryRun: count what would be done, write and remove nothing.
	DryRun bool
	// Check returns why a record may not be sent to the destination again
	// ("" when it may): the destination's current configuration would
	// not have sent it in that form. A record held back is not appended;
	// it stays in its batch file. nil replays every record.
	Check func(rec []byte) string
	// DropHeld deletes the records Check holds back instead of keeping
	// them.
	DropHeld bool
	// MaxAge is privacy.dead_letter_retention: a batch last written
	// longer ago (by Options.Clock) is past the time it may be kept, and
	// is not replayed (to be sent), but left for the retention sweep,
	// which deletes it and records that in the audit log. 0: no limit.
	MaxAge time.Duration
}

// ReplayDeadLetters appends the records of the dead-lettered batches of
// destination name back into the spool, routed to that destination only,
// so that its shipper sends them again like any other record. It opens the
// spool itself, so the gateway must not run (the spool's lock says so
// otherwise). A batch is appended whole or not at all: one the spool has
// no room for stops the replay before any of its records is appended. Each
// batch file is removed only after all its records are fsynced into the
// spool: an interruption (a kill, a disk error) never loses a batch, at
// worst it is replayed again (its records keep their event ids, so the
// destination can drop the copies). Records ro.Check holds back are not
// appended: their batch file is rewritten with them alone (or, with
// ro.DropHeld, removed), after the others are fsynced into the spool. With
// ro.DryRun nothing is written or removed.
func ReplayDeadLetters(o Options, name string, ro ReplayOptions) (ReplayResult, error) {
	dryRun := ro.DryRun
	var res ReplayResult
	idx := -1
	names := make([]string, len(o.Destinations))
	for i, d := range o.Destinations {
		names[i] = d.Name
		if d.Name == name {
			idx = i
		}
	}
	if idx < 0 {
		return res, fmt.Errorf("upstream: no destination %q in the config (have: %s)", name, strings.Join(names, ", "))
	}
	dls, err := ListDeadLetters(DeadLetterDir(o, name))
	if err != nil || len(dls) == 0 {
		return res, err
	}
	var sp *spool.Spool
	if !dryRun {
		if o.Spool.Dir == "" {
			o.Spool.Dir = filepath.Join(o.DataDir, "spool")
		}
		sp, err = spool.Open(spool.Options{
			Dir:            o.Spool.Dir,
			Destinations:   names,
			MaxBytes:       o.Spool.MaxBytes,
			SegmentBytes:   o.Spool.SegmentBytes,
			MaxRecordBytes: o.Spool.MaxRecordBytes,
			Durability:     spool.DurabilityFsync,
			WhenFull:       spool.FullShed,
			Logger:         o.Logger,
			Clock:          o.Clock,
		})
		if errors.Is(err, spool.ErrLocked) {
			return res, fmt.Errorf("%w (stop the gateway before a replay: it holds the spool)", err)
		}
		if err != nil {
			return res, err
		}
		defer sp.Close()
	}
	cutoff := clock.Or(o.Clock).Now().Add(-ro.MaxAge)
	for _, d := range dls {
		if ro.MaxAge > 0 && d.ModTime.Before(cutoff) {
			res.Expired++
			res.ExpiredRecords += max(d.Records, 0)
			continue
		}
		recs, err := readDeadLetter(d.Path)
		if err != nil {
			res.Skipped++
			continue
		}
		send, held := recs, [][]byte(nil)
		var why []string
		if ro.Check != nil {
			send = make([][]byte, 0, len(recs))
			for _, r := range recs {
				if w := ro.Check(r); w != "" {
					held = append(held, r)
					why = append(why, w)
				} else {
					send = append(send, r)
				}
			}
		}
		if !dryRun {
			// All of the batch or none of it: records appended by a
			// replay that then stops on a full spool would be sent
			// again by the next.
			var n int64
			for _, r := range send {
				n += int64(len(r))
			}
			if !sp.RoomFor(len(send), n) {
				return res, fmt.Errorf("upstream: replaying %s: the spool has no room for its %d records (%d bytes; spool.max_bytes %d); "+
					"start the gateway to deliver what the spool holds, then replay again (nothing of this batch was appended, it stays in the dead letters)",
					filepath.Base(d.Path), len(send), n, sp.Options().MaxBytes)
			}
			for _, r := range send {
				if err := sp.Append(r, spool.RouteTo(idx)); err != nil {
					return res, fmt.Errorf("upstream: replaying %s: %w (the batch stays in the dead letters; records already appended will be sent twice)", filepath.Base(d.Path), err)
				}
			}
			switch {
			case len(held) == len(recs) && !ro.DropHeld:
				// Nothing appended, nothing to change.
			case len(held) > 0 && !ro.DropHeld:
				if err := rewriteDeadLetter(d.Path, held); err != nil {
					return res, fmt.Errorf("upstream: replaying %s: its other records are in the spool, but the batch could not be rewritten with only the %d held back (a replay run again sends those twice): %w",
						filepath.Base(d.Path), len(held), err)
				}
			default:
				if err := removeDeadLetter(d.Path); err != nil {
					return res, fmt.Errorf("upstream: replaying %s: its records are in the spool, but %w", filepath.Base(d.Path), err)
				}
			}
		}
		if len(send) > 0 {
			res.Batches++
			res.Records += len(send)
		}
		if len(held) > 0 {
			res.HeldBatches++
			if res.Held == nil {
				res.Held = map[string]int{}
			}
			for _, w := range why {
				res.Held[w]++
			}
		}
	}
	if sp != nil {
		if err := sp.Close(); err != nil {
			return res, err
		}
	}
	return res, nil
}

// rewriteDeadLetter replaces the batch file at path with recs, in its
// format (.ndjson, .ndjson.zst or .ndjson.gz), atomically: a kill leaves
// the old batch or the new one (and a .tmp file, which the next Open
// removes). The new file keeps the old one's modification time, from which
// privacy.dead_letter_retention counts: a rewrite does not keep the
// records longer.
func rewriteDeadLetter(path string, recs [][]byte) error {
	var mtime time.Time
	if fi, err := os.Stat(path); err == nil {
		mtime = fi.ModTime()
	}
	var data []byte
	for _, r := range recs {
		data = append(append(data, r...), '\n')
	}
	switch {
	case strings.HasSuffix(path, ".zst"):
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return err
		}
		data = enc.EncodeAll(data, nil)
		enc.Close()
	case strings.HasSuffix(path, ".gz"):
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(data); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		data = buf.Bytes()
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err == nil && !mtime.IsZero() {
		err = os.Chtimes(tmp, mtime, mtime)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// removeDeadLetter removes a batch file and its .error file and fsyncs
// their folder, so that after a power loss the batch does not come back
// (to be replayed, and its records sent, a second time).
func removeDeadLetter(path string) error {
	if err := os.Remove(path); err != nil {
		return err
	}
	os.Remove(errorFileOf(path))
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("the removal of the batch file may not survive a power loss: %w", err)
	}
	return nil
}

// DropDeadLetters removes the dead-lettered batches of destination name
// (and their .error files). With dryRun it only counts them.
func DropDeadLetters(o Options, name string, dryRun bool) (ReplayResult, error) {
	var res ReplayResult
	dls, err := ListDeadLetters(DeadLetterDir(o, name))
	if err != nil {
		return res, err
	}
	for _, d := range dls {
		if !dryRun {
			if err := removeDeadLetter(d.Path); err != nil {
				return res, fmt.Errorf("upstream: dropping %s: %w", filepath.Base(d.Path), err)
			}
		}
		res.Batches++
		res.Records += max(d.Records, 0)
	}
	return res, nil
}
