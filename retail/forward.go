package retail

import (
	"encoding/json"
	"fmt"
)

// Aggregates calls fn with each aggregate a record written back by a
// Follower holds, in order, exactly as stored: the "aggregates" of a
// KindIntervalClosed or KindAggregates record, or a KindAggregate record
// itself. Other records hold none. It returns fn's first error; a record
// it cannot read holds none.
func Aggregates(rec []byte, fn func(agg []byte) error) error {
	var r struct {
		Kind       string            `json:"kind"`
		Aggregates []json.RawMessage `json:"aggregates"`
	}
	if json.Unmarshal(rec, &r) != nil {
		return nil // not ours to judge: the shippers count damaged records
	}
	switch r.Kind {
	case KindAggregate:
		return fn(rec)
	case KindAggregates, KindIntervalClosed:
		for _, a := range r.Aggregates {
			if err := fn(a); err != nil {
				return err
			}
		}
	}
	return nil
}

// Forward hands send every aggregate of the records src holds (the
// Follower's records, as a second reader of its stream reads them: see
// Aggregates), and commits src past each record once send took all of
// its aggregates (and at the end, past what it skipped). A kill before that commit sends the record's aggregates
// again after the restart, byte for byte as before: destinations that
// de-duplicate by id see one content per id. It returns src's first error,
// or send's: src is then positioned past a record not committed, and must
// be reopened (a restart) to send it again.
func Forward(src Source, send func(agg []byte) error) error {
	for {
		rec, _, ok, err := src.Next()
		if err != nil {
			return err
		}
		if !ok {
			// Past what else the stream holds (sightings, which a
			// second reader skips), so its space can be freed.
			return src.Commit(src.Pos())
		}
		if err := Aggregates(rec, send); err != nil {
			return fmt.Errorf("retail: forwarding an aggregate: %w", err)
		}
		if err := src.Commit(src.Pos()); err != nil {
			return err
		}
	}
}
