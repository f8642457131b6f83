package retail

import "testing"

// TestAggregateIDs: a cell's id is the same whenever it is sent, and
// differs between cells.
func TestAggregateIDs(t *testing.T) {
	a := aggregateID("shop", "berlin", "entrance", "2026-11-24T12:00:00Z")
	if a != aggregateID("shop", "berlin", "entrance", "2026-11-24T12:00:00Z") || len(a) != 22 {
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
		id := aggregateID(c[0], c[1], c[2], c[3])
		if seen[id] {
			t.Errorf("%v: id %s shared with another cell", c, id)
		}
		seen[id] = true
	}
}
