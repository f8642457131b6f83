package upstream

import "slices"

// batchProgress is which records of one batch a sink has delivered, kept
// across Send attempts so that a retry of that batch sends only the rest
// and a batch given up on is dead-lettered without what got through
// (Progress). It belongs to the batch it was started for (start); empty,
// it holds none.
type batchProgress struct {
	first, end uint64
	size       int    // len(Data) of the batch
	done       []bool // done[i]: record i was delivered, or refused for good
	// refused are the records a Send reported refused for good
	// (RejectedRecords), with why: the batch is then settled, but the
	// shipper may fail to write their dead letter and send it again, and
	// that retry must send nothing and report them again (rejected).
	refused    []int
	refusedErr error
}

// of reports whether p holds the progress of b.
func (p *batchProgress) of(b *Batch) bool {
	return len(p.done) > 0 && b.First == p.first && b.End == p.end && len(b.Data) == p.size && len(p.done) == b.Len()
}

// start makes p the progress of b, with nothing delivered yet.
func (p *batchProgress) start(b *Batch) {
	p.first, p.end, p.size = b.First, b.End, len(b.Data)
	p.done = slices.Grow(p.done[:0], b.Len())[:b.Len()]
	clear(p.done)
	p.refused, p.refusedErr = p.refused[:0], nil
}

// reset empties p: the batch was delivered, or given up on.
func (p *batchProgress) reset() {
	p.done, p.refused, p.refusedErr = p.done[:0], p.refused[:0], nil
}

// refuse records that the batch's records idx were refused for good for
// err, every other one being delivered: they count as done (no retry
// sends them), and the error returned reports them (RejectedRecords), as
// does every later rejected until the next batch starts.
func (p *batchProgress) refuse(idx []int, err error) error {
	for _, i := range idx {
		p.done[i] = true
	}
	p.refused = append(p.refused, idx...)
	slices.Sort(p.refused)
	p.refused = slices.Compact(p.refused)
	p.refusedErr = err
	return p.rejected()
}

// rejected returns the error reporting the records refused for good by a
// Send of this batch (a retry's after the shipper failed to write their
// dead letter), nil if none were.
func (p *batchProgress) rejected() error {
	if len(p.refused) == 0 {
		return nil
	}
	return RejectedRecords(p.refusedErr, slices.Clone(p.refused))
}

// undelivered implements Progress for a sink keeping p.
func (p *batchProgress) undelivered(b *Batch) ([]int, bool) {
	if !p.of(b) {
		return nil, false
	}
	var idx []int
	for i, done := range p.done {
		if !done || slices.Contains(p.refused, i) {
			idx = append(idx, i)
		}
	}
	return idx, true
}
