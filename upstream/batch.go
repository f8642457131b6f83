package upstream

import "time"

// BatchOptions bounds a batch. A batch is sent as soon as one bound is
// reached. Zero fields take the defaults.
type BatchOptions struct {
	MaxEvents int           // default 1000
	MaxBytes  int           // uncompressed NDJSON bytes, default 1 MiB
	MaxAge    time.Duration // age of the oldest record, default 1 s
}

// Defaults of BatchOptions.
const (
	DefaultBatchEvents = 1000
	DefaultBatchBytes  = 1 << 20
	DefaultBatchAge    = time.Second
)

func (o *BatchOptions) resolve() {
	if o.MaxEvents <= 0 {
		o.MaxEvents = DefaultBatchEvents
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultBatchBytes
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultBatchAge
	}
}

// Batch is a group of records sent to one destination at once. It is owned
// by the destination's shipper and reused: a Sink must not keep it, or any
// slice in it, after Send returns.
type Batch struct {
	// Destination is the configured name of the destination.
	Destination string

	// Data holds the records as NDJSON: each record followed by '\n'.
	Data []byte

	// Encoded is Data compressed with Codec (for CodecNone, Data itself).
	// It is empty for sinks that implement Unencoded.
	Encoded []byte
	Codec   Codec

	// First and End delimit the batch in the spool: offsets [First, End).
	// A batch sent again after a failure or a restart starts at the same
	// First, so "<destination>-<First>" identifies it for deduplication.
	First, End uint64

	// OldestMS is the time the first record was spooled, Unix ms.
	OldestMS int64

	ends []int // end of each record in Data, '\n' excluded
}

// Len returns the number of records.
func (b *Batch) Len() int { return len(b.ends) }

// Record returns the i-th record, without its '\n'. It points into Data.
func (b *Batch) Record(i int) []byte {
	start := 0
	if i > 0 {
		start = b.ends[i-1] + 1
	}
	return b.Data[start:b.ends[i]]
}

// Add appends rec (one JSON object, without '\n') as the batch's next
// record: for tests and tools that drive a Sink without a shipper.
func (b *Batch) Add(rec []byte) { b.add(rec) }

func (b *Batch) add(rec []byte) {
	b.Data = append(b.Data, rec...)
	b.ends = append(b.ends, len(b.Data))
	b.Data = append(b.Data, '\n')
}

func (b *Batch) reset() {
	b.Data, b.Encoded, b.ends = b.Data[:0], b.Encoded[:0], b.ends[:0]
	b.First, b.End, b.OldestMS = 0, 0, 0
}
