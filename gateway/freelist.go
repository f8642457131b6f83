package gateway

// freeList keeps reusable objects across garbage collections. A sync.Pool
// empties at every collection, and a request's events carry buffers grown to
// the sizes seen so far: refilling a pool after each collection costs
// hundreds of allocations for one 40-sighting BLE request. A buffered
// channel keeps up to its capacity alive; beyond that, objects are dropped
// for the collector.
type freeList[T any] struct {
	ch    chan *T
	fresh func() *T
}

func newFreeList[T any](capacity int, fresh func() *T) *freeList[T] {
	return &freeList[T]{ch: make(chan *T, capacity), fresh: fresh}
}

// get returns a kept object, or a fresh one when none is kept.
func (l *freeList[T]) get() *T {
	select {
	case x := <-l.ch:
		return x
	default:
		return l.fresh()
	}
}

// put keeps x for reuse, or drops it when the list is full. The caller must
// have reset x and must not use it afterwards.
func (l *freeList[T]) put(x *T) {
	select {
	case l.ch <- x:
	default:
	}
}
