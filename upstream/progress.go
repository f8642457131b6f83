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
	done       []bool // done[i]: record i was delivered
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
}

// reset empties p: the batch was delivered, or given up on.
func (p *batchProgress) reset() { p.done = p.done[:0] }

// undelivered implements Progress for a sink keeping p.
func (p *batchProgress) undelivered(b *Batch) ([]int, bool) {
	if !p.of(b) {
		return nil, false
	}
	var idx []int
	for i, done := range p.done {
		if !done {
			idx = append(idx, i)
		}
	}
	return idx, true
}
