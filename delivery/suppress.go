package delivery

import "github.com/beacongate/beacongate/event"

// Suppressor tells whether an event belongs to a suppressed subject
// (suppress.List). It must not allocate or keep e.
type Suppressor interface {
	Suppressed(e *event.Event) bool
}

// WithSuppression returns a copy of d that drops the events s reports,
// before the privacy engine sees them: they are counted by s, never
// stored, and answered as accepted (telling the sender would reveal the
// list). A nil s returns d.
func (d *Deliverer) WithSuppression(s Suppressor) *Deliverer {
	if s == nil {
		return d
	}
	c := *d
	c.suppress = s
	return &c
}
