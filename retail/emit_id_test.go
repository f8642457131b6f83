package retail

import (
	"fmt"
	"testing"
	"time"
)

// TestAggregateIDs: a cell's id is the same whenever it is sent, and
// differs between cells.
func TestAggregateIDs(t *testing.T) {
	a := aggregateID("", "shop", "berlin", "entrance", "2026-11-24T12:00:00Z")
	if a != aggregateID("", "shop", "berlin", "entrance", "2026-11-24T12:00:00Z") || len(a) != 22 {
		t.Fatalf("id %q not stable or not 22 characters", a)
	}
	seen := map[string]bool{a: true}
	for _, c := range [][4]string{
		{"shop", "berlin", "entrance", "2026-11-24T12:15:00Z"},
		{"shop", "berlin", "till", "2026-11-24T12:00:00Z"},
		{"shop", "munich", "entrance", "2026-11-24T12:00:00Z"},
		{"shop2", "berlin", "entrance", "2026-11-24T12:00:00Z"},
		{"shopb", "erlin", "entrance", "2026-11-24T12:00:00Z"},
	} {
		id := aggregateID("", c[0], c[1], c[2], c[3])
		if seen[id] {
			t.Errorf("%v: id %s shared with another cell", c, id)
		}
		seen[id] = true
	}
}

// TestInstancesSendPartialCellsUnderIDsOfTheirOwn: two gateway instances
// that both take pings of one store (a balancer spreading them) each send
// the store's cells with their own counts. Until 2026-12-07 both had the
// same id, a hash of the cell alone, so JetStream (Nats-Msg-Id) or a
// consumer de-duplicating on the id dropped one instance's counts as a
// copy of the other's (found by the review rev-bus). The instance is in
// the id now; one instance still sends a cell under the same id whenever
// it sends it.
func TestInstancesSendPartialCellsUnderIDsOfTheirOwn(t *testing.T) {
	idOf := func(instance string, devices int) (string, uint32) {
		a, c, clk := newAgg(t, Options{K: 1, Instance: instance})
		for i := range devices {
			stay(a, "berlin", "entrance", fmt.Sprintf("%s-d%d", instance, i), 0, 2*time.Minute)
		}
		clk.Set(t0.Add(30 * time.Minute))
		a.Tick()
		e := c.zone("berlin", "entrance")
		if e == nil {
			t.Fatalf("instance %q: no cell: %+v", instance, c.recs)
		}
		return e.ID, e.Visitors
	}
	a, na := idOf("8HkQ2mVt0pLr", 3)
	b, nb := idOf("Zx41sNw9qYc7", 2)
	if a == b {
		t.Fatalf("two instances' partial cells (%d and %d visitors) share the id %s", na, nb, a)
	}
	if again, _ := idOf("8HkQ2mVt0pLr", 3); again != a {
		t.Fatalf("one instance sent a cell under %s, then %s", a, again)
	}
	if old, _ := idOf("", 3); old != aggregateID("", "shop", "berlin", "entrance", t0.Format(cellTime)) {
		t.Fatalf("without an instance the id is not the cell's alone: %s", old)
	}
}
