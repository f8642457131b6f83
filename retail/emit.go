package retail

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"sort"
	"time"
)

// OtherZones is the zone of the coarser cell into which a store's zones
// below k are merged. A zone of that name is always merged into it, at
// any count: a cell of its own would have the other-zones cell's id.
const OtherZones = "*"

// Bucket is one dwell histogram bucket of an aggregate: visits that lasted
// at least MinS and less than MaxS seconds (no MaxS: no upper bound).
type Bucket struct {
	MinS   int64  `json:"min_s"`
	MaxS   *int64 `json:"max_s,omitempty"`
	Visits uint32 `json:"visits"`
}

// Aggregate is one emitted cell: a store's zone (or its merged other zones)
// in one interval. A count below k, or of fewer than k distinct devices
// (visits, new, returning, weak: see emitCell), is left out and its name
// listed in Suppressed; so is any count that would let a reader pin one left out
// down (see withhold): when a count of visits (visits, new, returning) or
// of sightings (sightings, randomized, weak, anonymous) is left out, so
// are the parts of it that are 0, and the parts left out stand for k or
// more together, or the total is left out too. Visits and the dwell histogram
// are left out together (over a day a cell's visits and dwell totals are
// the same visits, so one left out alone would be their difference). A
// count named in Suppressed may therefore be 0, or k or more.
type Aggregate struct {
	V    int    `json:"v"`
	Kind string `json:"kind"` // "ble_aggregate"
	// ID is the same for the same cell (site, store, zone, interval)
	// whenever it is sent: a cell sent twice (a kill between handing it to
	// the pipeline and its stream reader's commit, see Forward) is sent
	// with the same bytes, one for a consumer that de-duplicates by id, as
	// JetStream's duplicate window does.
	ID         string   `json:"id"`
	Site       string   `json:"site"`
	Store      string   `json:"store"`
	Zone       string   `json:"zone"`
	Start      string   `json:"start"`
	End        string   `json:"end"`
	K          int      `json:"k"`
	Visitors   uint32   `json:"visitors"`
	Visits     uint32   `json:"visits,omitempty"`
	New        uint32   `json:"new,omitempty"`
	Returning  uint32   `json:"returning,omitempty"`
	Dwell      []Bucket `json:"dwell,omitempty"`
	Sightings  uint32   `json:"sightings,omitempty"`
	Randomized uint32   `json:"randomized_sightings,omitempty"`
	Weak       uint32   `json:"weak_sightings,omitempty"`
	Anonymous  uint32   `json:"anonymous_sightings,omitempty"`
	Merged     int      `json:"merged_zones,omitempty"`
	Suppressed []string `json:"suppressed,omitempty"`
}

// closeBelow emits and frees every open interval below iv, oldest first.
func (a *Aggregator) closeBelow(iv int64) {
	closed := false
	for {
		best := -1
		for i, v := range a.slotIv {
			if v >= 0 && v < iv && (best < 0 || v < a.slotIv[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		iv := a.slotIv[best]
		a.emitInterval(iv, best)
		c := a.slot[best]
		clear(c)
		a.slot[best] = c[:0]
		a.counted[best] = a.counted[best][:0]
		a.starts[best] = a.starts[best][:0]
		a.weak[best] = a.weak[best][:0]
		a.slotIv[best] = -1
		a.capped[best] = false
		a.stats.intervalsEmitted.Add(1)
		if a.closed != nil {
			a.closed(iv)
		}
		closed = true
	}
	if closed {
		a.closedAny = true // forget forgets the cells no longer used
	}
	if iv > a.closedTo {
		a.closedTo = iv
	}
}

func (k *counts) add(o *counts) {
	k.sightings += o.sightings
	k.weak += o.weak
	k.randomized += o.randomized
	k.anonymous += o.anonymous
	k.visitors += o.visitors
	k.fresh += o.fresh
	k.returning += o.returning
	k.visits += o.visits
	for i := range k.dwell {
		k.dwell[i] += o.dwell[i]
	}
	// devices, visitDevs, freshDevs, returnDevs and weakDevs are not
	// added: one device may be in several of the zones added up (see
	// emitInterval); nor is weakHead, a cell's own.
}

func (k *counts) empty() bool { return *k == counts{} }

// emitInterval hands each cell of interval iv to emit. A zone whose
// visitors are below k is merged with the store's other such zones into
// one OtherZones cell, whose visitors are the distinct devices counted in
// those zones (marks); that cell too is dropped when still below k. A zone
// named OtherZones is merged into it whatever its count. No
// store total is sent, and a zone is in its own cell or in OtherZones,
// never both: no zone's counts are the difference of two cells. That
// holds across a restart too (see done). An interval withhold names
// (one that may count a device under two keys) sends no cell.
func (a *Aggregator) emitInterval(iv int64, si int) {
	cs, marks := a.slot[si], a.counted[si]
	type store struct{ site, store string }
	start := time.UnixMilli(iv * a.ivMS).UTC()
	if a.withhold != nil && a.withhold(iv) {
		// Counted as suppressed once: not again by a replay, which
		// skips every cell (the run that closed the interval counted
		// them).
		for i := range cs {
			if ck := a.cellKeys[i]; !cs[i].empty() && !a.skipped(ck.site, ck.store, ck.zone, start) {
				a.stats.cellsSuppressed.Add(1)
			}
		}
		return
	}
	// done marks the cells emitted before a restart (Follower: an
	// interval written back in several records, killed between them),
	// which are neither emitted nor merged again, whatever the restart
	// counts: a zone emitted on its own, and every zone of a store whose
	// OtherZones cell was emitted (it was in that cell, or had no
	// sighting then). Otherwise a late sighting that lifts a merged zone
	// to k would send it on its own beside the OtherZones cell that holds
	// it, and the difference would be the store's other small zones.
	var done []bool
	if a.skip != nil {
		done = make([]bool, len(cs))
		for i := range cs {
			if ck := a.cellKeys[i]; !cs[i].empty() {
				done[i] = a.skipped(ck.site, ck.store, ck.zone, start) || a.skipped(ck.site, ck.store, OtherZones, start)
			}
		}
	}
	distinct := map[store]map[uint64]struct{}{} // devices of the zones merged
	for _, m := range marks {
		if int(m.cell) >= len(cs) || done != nil && done[m.cell] || !a.merged(cs, m.cell) {
			continue // in a cell of its own, or emitted before a restart
		}
		ck := a.cellKeys[m.cell]
		s := store{ck.site, ck.store}
		set := distinct[s]
		if set == nil {
			set = map[uint64]struct{}{}
			distinct[s] = set
		}
		set[m.dev] = struct{}{}
	}
	// The devices behind the visits (new, returning) and the weak
	// sightings of the zones merged, each counted once: kinds 0 marks a
	// weak device.
	type devKind struct {
		dev   uint64
		kinds uint8
	}
	devsOf := map[store]map[devKind]struct{}{}
	note := func(m visitorMark, kinds uint8) {
		if int(m.cell) >= len(cs) || done != nil && done[m.cell] || !a.merged(cs, m.cell) {
			return
		}
		ck := a.cellKeys[m.cell]
		s := store{ck.site, ck.store}
		set := devsOf[s]
		if set == nil {
			set = map[devKind]struct{}{}
			devsOf[s] = set
		}
		set[devKind{m.dev, kinds}] = struct{}{}
	}
	for _, m := range a.starts[si] {
		for _, kind := range [...]uint8{markStarted, markFresh, markReturning} {
			if m.kinds&kind != 0 {
				note(m, kind)
			}
		}
	}
	for _, m := range a.weak[si] {
		note(visitorMark{dev: m.dev, cell: m.cell}, 0)
	}
	byStore := map[store][]int{}
	for i := range cs {
		if cs[i].empty() || done != nil && done[i] {
			continue
		}
		ck := a.cellKeys[i]
		s := store{ck.site, ck.store}
		byStore[s] = append(byStore[s], i)
	}
	stores := make([]store, 0, len(byStore))
	for s := range byStore {
		stores = append(stores, s)
	}
	sort.Slice(stores, func(i, j int) bool {
		if stores[i].site != stores[j].site {
			return stores[i].site < stores[j].site
		}
		return stores[i].store < stores[j].store
	})
	for _, s := range stores {
		cells := byStore[s]
		sort.Slice(cells, func(i, j int) bool { return a.cellKeys[cells[i]].zone < a.cellKeys[cells[j]].zone })
		var other counts
		var devs [][maxBuckets]uint32 // the dwell devices of each zone merged
		merged := 0
		for _, i := range cells {
			if a.merged(cs, uint32(i)) {
				other.add(&cs[i])
				devs = append(devs, cs[i].devices)
				merged++
				continue
			}
			a.emitCell(s.site, s.store, a.cellKeys[i].zone, start, &cs[i], 0, nil)
		}
		if merged == 0 || a.skipped(s.site, s.store, OtherZones, start) {
			continue
		}
		// One device seen in several of the zones is one visitor, and
		// one device of its visits, new visits, returning visits and
		// weak sightings.
		other.visitors = uint32(len(distinct[s]))
		for dk := range devsOf[s] {
			switch dk.kinds {
			case markStarted:
				other.visitDevs++
			case markFresh:
				other.freshDevs++
			case markReturning:
				other.returnDevs++
			default:
				other.weakDevs++
			}
		}
		// A zone with k weak devices or more has no more marked: the
		// zones merged then have k at least.
		for _, i := range cells {
			if a.merged(cs, uint32(i)) && cs[i].weakDevs >= uint32(a.o.K) {
				other.weakDevs = max(other.weakDevs, cs[i].weakDevs)
			}
		}
		if other.visitors < uint32(a.o.K) {
			a.stats.cellsSuppressed.Add(uint64(merged))
			continue
		}
		a.stats.cellsMerged.Add(uint64(merged))
		a.emitCell(s.site, s.store, OtherZones, start, &other, merged, devs)
	}
}

// merged reports whether cell c of an interval's counts cs goes into its
// store's OtherZones cell: a zone below k, or one named OtherZones.
func (a *Aggregator) merged(cs []counts, c uint32) bool {
	return cs[c].visitors < uint32(a.o.K) || a.cellKeys[c].zone == OtherZones
}

// skipped reports whether the cell at start was emitted (or, withheld,
// counted) before a restart: it is neither sent nor counted again.
func (a *Aggregator) skipped(site, store, zone string, start time.Time) bool {
	return a.skip != nil && a.skip(site, store, zone, start.Format(cellTime))
}

// cellTime is the layout of an aggregate's start and end.
const cellTime = "2006-01-02T15:04:05Z"

// emitCell emits cell c; devs, when not nil, are the dwell devices of
// each zone merged into it (c's own are not used).
func (a *Aggregator) emitCell(site, store, zone string, start time.Time, c *counts, merged int, devs [][maxBuckets]uint32) {
	if a.skipped(site, store, zone, start) {
		return
	}
	ag := Aggregate{
		V: 1, Kind: "ble_aggregate", Site: site, Store: store, Zone: zone,
		Start: start.Format(cellTime), End: start.Add(a.o.Interval).Format(cellTime),
		K: a.o.K, Visitors: c.visitors, Merged: merged,
	}
	ag.ID = aggregateID(a.o.Instance, site, store, zone, ag.Start)
	v := [nCounts]uint32{c.visits, c.fresh, c.returning, c.sightings, c.randomized, c.weak, c.anonymous}
	// Over the intervals of a day every visit of a cell starts once (in
	// visits) and ends once (in the dwell histogram): a reader who sums a
	// cell's visits and dwell totals over the day gets one from the other.
	// So visits and the dwell histogram are left out together, or one
	// left out alone would be that difference (see withholdWith).
	if devs == nil {
		devs = [][maxBuckets]uint32{c.devices}
	}
	// The distinct devices behind each count: visits, new, returning
	// and weak sightings can all be one device's. The sightings are
	// those of every visitor (each one's strong sighting in the
	// interval): visitors >= k devices. Randomized and anonymous
	// sightings carry no device to count: their own number stands for
	// it (see the README's judgement on them). A count above 0 has a
	// device, whatever the device counts say (an evicted device is
	// counted as none of them, see uncountStarts).
	n := [nCounts]uint32{c.visitDevs, c.freshDevs, c.returnDevs, c.sightings, c.randomized, c.weakDevs, c.anonymous}
	for i := range n {
		n[i] = max(n[i], min(v[i], 1))
	}
	dwell, dwellOut := a.dwellBuckets(c, devs)
	hide := withholdDevices(&v, &n, uint32(a.o.K), c.visitors, dwellOut)
	dst := [nCounts]*uint32{&ag.Visits, &ag.New, &ag.Returning, &ag.Sightings, &ag.Randomized, &ag.Weak, &ag.Anonymous}
	for i := range v {
		if hide[i] {
			ag.Suppressed = append(ag.Suppressed, countNames[i])
			a.stats.cellsSuppressed.Add(1)
		} else {
			*dst[i] = v[i]
		}
	}
	if hide[cVisits] {
		dwell, dwellOut = nil, true
	}
	if dwellOut {
		ag.Suppressed = append(ag.Suppressed, "dwell")
		a.stats.cellsSuppressed.Add(1)
	}
	ag.Dwell = dwell
	rec, err := json.Marshal(&ag)
	if err != nil {
		return // cannot happen: plain strings and numbers
	}
	a.stats.cellsEmitted.Add(1)
	if a.emit != nil {
		a.emit(rec)
	}
}

// The counts of a cell that withhold decides on, in the order of
// Aggregate's fields (and of its Suppressed list).
const (
	cVisits = iota
	cNew
	cReturning
	cSightings
	cRandomized
	cWeak
	cAnonymous
	nCounts
)

var countNames = [nCounts]string{"visits", "new", "returning", "sightings", "randomized_sightings", "weak_sightings", "anonymous_sightings"}

// partitions are the counts of a cell that are sums of others: every visit
// is new or returning; every sighting is randomized, anonymous (no device
// id), weak (below the enter RSSI) or strong. Strong sightings are not
// sent, but a reader knows there are at least as many as visitors and as
// visits (each visitor counted, each visit started, in the interval was a
// strong sighting in it).
var partitions = [...]struct {
	total int
	parts []int
}{
	{cVisits, []int{cNew, cReturning}},
	{cSightings, []int{cRandomized, cWeak, cAnonymous}},
}

// withhold reports which of a cell's counts v are left out with minimum
// count k (visitors, always shown, is at least k). A count from 1 to k-1
// is left out, and so is any count that would let a reader who knows this
// rule pin one left out down: for every partition (visits = new +
// returning; sightings = randomized + weak + anonymous + strong),
//
//   - when its total or any of its parts is left out, its parts that are 0
//     are left out too: a reader who saw the zeros would know each part
//     left out is at least 1 (visits 2 = new 1 + returning 1 with k = 3);
//   - when a part is left out and the total is not, the smallest parts
//     still shown are left out too (the first in field order among
//     equals) until the parts left out hold at least k together, and the
//     total when no part is left to add. For the sightings, what a reader
//     cannot bound of the strong ones, those beyond max(visitors, visits
//     if shown), counts towards the k.
//
// A reader who knows this rule then cannot narrow a count left out to
// fewer than k-1 values, as many as "1 to k-1" leaves of a count left out
// alone: a part left out alone is 1 to k-1; one left out with others and
// the total shown may be 0 or anything up to k-1 at least (the others, and
// what is not sent, hold the rest); a total left out for want of parts to
// add (sightings, at least visitors >= k) tells that its parts and what is
// not sent hold fewer than k, but with the zeros left out each part may
// still be 0 to k-1, and the total any of the k-1 values above
// max(visitors, visits). TestWithholdReaderCannotNarrow checks this from
// the reader's side on every cell of small counts.
func withhold(v *[nCounts]uint32, k, visitors uint32) (hide [nCounts]bool) {
	return withholdWith(v, k, visitors, false)
}

// withholdWith is withhold, with visits, new and returning left out from
// the start when visitsOut (the cell's dwell histogram is left out, and a
// reader would get it from the visits: over a day a cell's visits and its
// dwell totals are the same visits, started and ended). The sightings are
// then decided with visits unknown to the reader. A reader who sums a
// cell's counts over the day then learns only visits minus dwell of each
// cell that leaves both out: either may be 0 to k-1 (dwell left out with
// visits may be 0, or k or more), so neither is narrowed to fewer than k-1
// values.
func withholdWith(v *[nCounts]uint32, k, visitors uint32, visitsOut bool) (hide [nCounts]bool) {
	return withholdDevices(v, v, k, visitors, visitsOut)
}

// withholdDevices is withholdWith for counts v that stand for n[i]
// distinct contributors each (n[i] = v[i] for a count that stands for as
// many as it holds, or whose contributors cannot be counted): a count
// stands for min(v[i], n[i]), and that is what is held to k. So a count of
// k or more visits of fewer than k devices is left out as one below k is,
// and, left out, adds only its devices towards the k that the parts left
// out of a partition must stand for together: it is never left out alone
// with its total and the other parts shown (visits 8 = new 5 + returning 3
// of one device, with k 3, leaves out new as well). The rule is withhold's
// with the devices in place of the counts, and so is the argument: a reader
// who sees the total of a partition knows the sum of its parts left out
// and of the strong sightings it cannot bound; that sum has at least two
// unknowns (one part left out for standing for fewer than k adds fewer
// than k, and the sum stands for k or more), and the reader, who sees no
// device counts, cannot tell a part left out for its devices from one
// left out for its count: each part left out may be anything from 0 to
// that sum, k at least.
func withholdDevices(v, n *[nCounts]uint32, k, visitors uint32, visitsOut bool) (hide [nCounts]bool) {
	var w [nCounts]uint32 // what each count stands for
	for i, x := range v {
		w[i] = min(x, n[i])
		hide[i] = x > 0 && w[i] < k
	}
	if visitsOut {
		hide[cVisits], hide[cNew], hide[cReturning] = true, true, true
	}
	for _, p := range partitions {
		left := hide[p.total]
		for _, i := range p.parts {
			left = left || hide[i]
		}
		if !left {
			continue
		}
		for _, i := range p.parts {
			if v[i] == 0 {
				hide[i] = true
			}
		}
		if hide[p.total] {
			continue // its parts, at most the total, cannot be told
		}
		var sum uint64 // of the parts left out, and of what is not sent
		if p.total == cSightings {
			strong := uint64(v[cSightings]) - uint64(v[cRandomized]) - uint64(v[cWeak]) - uint64(v[cAnonymous])
			known := uint64(visitors)
			if !hide[cVisits] { // decided above: visits is no part of the sightings
				known = max(known, uint64(v[cVisits]))
			}
			if strong > known {
				sum = strong - known
			}
		}
		for _, i := range p.parts {
			if hide[i] {
				sum += uint64(w[i])
			}
		}
		for sum < uint64(k) {
			best := -1
			for _, i := range p.parts {
				if !hide[i] && (best < 0 || w[i] < w[best]) {
					best = i
				}
			}
			if best < 0 {
				hide[p.total] = true
				break
			}
			hide[best] = true
			sum += uint64(w[best])
		}
	}
	return hide
}

// dwellBuckets merges adjacent histogram buckets until each holds the
// visits of at least k distinct devices (a coarser bucket, never a small
// one); a remainder below k joins the last bucket kept, and a histogram of
// fewer than k devices in all is left out (out). The visits of one device
// count as one: a shopper who stepped into a zone three times is not a
// bucket of 3 with k 3. The devices of a run of buckets are counted from
// devs, each zone's devices by their lowest bucket (see countDwell): the
// run's devices in one zone, never more than there are; for the
// OtherZones cell, whose zones may share a device, the most of any one
// zone (a device with visits in two zones merged is one device, and
// nothing kept tells which they share). The histogram counts the visits
// that ended in the interval, not the cell's visits, and no bucket is left
// out alone: there is no part of it to work out.
func (a *Aggregator) dwellBuckets(c *counts, devs [][maxBuckets]uint32) (buckets []Bucket, out bool) {
	bounds := a.o.DwellBounds
	k := uint32(a.o.K)
	// run is the devices of buckets from..b: the most of any zone.
	run := func(from, b int) uint32 {
		most := uint32(0)
		for _, d := range devs {
			n := uint32(0)
			for i := from; i <= b; i++ {
				n += d[i]
			}
			most = max(most, n)
		}
		return most
	}
	var carry uint32
	first := 0 // the first bucket of the run
	from := int64(0)
	total := uint32(0)
	for b := 0; b <= len(bounds); b++ {
		carry += c.dwell[b]
		total += c.dwell[b]
		// A run with a visit has a device, whatever devs say (an
		// evicted device is counted as none, see evict).
		if carry == 0 || max(run(first, b), 1) < k {
			continue
		}
		bk := Bucket{MinS: from, Visits: carry}
		if b < len(bounds) {
			m := int64(bounds[b] / time.Second)
			bk.MaxS = &m
			from = m
		}
		buckets = append(buckets, bk)
		carry = 0
		first = b + 1
	}
	switch {
	case total == 0:
		return nil, false
	case len(buckets) == 0:
		return nil, true
	case carry > 0:
		last := &buckets[len(buckets)-1]
		last.Visits += carry
		last.MaxS = nil
	}
	return buckets, false
}

// aggregateID is an aggregate cell's id: the first 128 bits of SHA-256 over its
// site, store, zone and interval start, and the instance that computed it
// (Options.Instance; left out when ""), base64url, as long as an event id.
// The same instance sends the same cell with the same id (again after a
// kill); two instances' partial counts of one cell have ids of their own.
func aggregateID(instance, site, store, zone, start string) string {
	h := sha256.New()
	for _, part := range []string{"ble_aggregate", site, store, zone, start} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	if instance != "" {
		h.Write([]byte("instance\x00" + instance))
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}
