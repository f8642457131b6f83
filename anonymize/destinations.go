package anonymize

import (
	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/anonymize/useragent"
	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/plan"
)

// MaxDestinations is the most destinations an Engine routes to: one bit
// each in a Dests mask, as in the spool's routes.
const MaxDestinations = plan.MaxDestinations

// Dests is a set of destinations, bit i for the config's destinations[i].
type Dests uint64

// Has reports whether destination i is in d.
func (d Dests) Has(i int) bool { return i >= 0 && i < MaxDestinations && d&(1<<uint(i)) != 0 }

// destination is one destination compiled for the hot path: the purposes it
// needs and, per consent state, the index of its policy in
// Engine.policies.
type destination struct {
	name     string
	requires consent.Purposes
	policy   [numStates]uint8
	// vendor is the recipient's TCF declaration; vendor.ID 0: none, and
	// then withoutVendor says whether it gets events where GDPR applies.
	vendor        consent.Vendor
	withoutVendor bool
}

// gdprApplies reports whether an event's consent answer falls under GDPR
// for vendor enforcement: gdpr=1, or a TC string (standalone or in GPP's
// tcfeuv2 section) that gdpr=0 does not switch off.
func gdprApplies(a *consent.Answer) bool {
	return a.GDPR == consent.GDPRYes || (a.TCSource != consent.SignalNone && a.GDPR != consent.GDPRNo)
}

// usableTC reports whether the TC string in sc decoded and keeps the TCF
// 2.2 rules, and the signal that carried it was relied on, so vendors can
// be checked against it.
func usableTC(a *consent.Answer) bool {
	src := a.TCSource
	return src != consent.SignalNone && !a.Malformed.Has(src) && !a.Rejected.Has(src)
}

// checkVendor returns destination i's verdict under GDPR.
func (en *Engine) checkVendor(i int, tcOK bool, tc *consent.TCString) consent.VendorVerdict {
	d := &en.dests[i]
	switch {
	case d.vendor.ID == 0 && d.withoutVendor:
		return consent.VendorVerdict{}
	case d.vendor.ID == 0:
		return consent.VendorVerdict{Reason: consent.VendorNoID}
	case !tcOK:
		return consent.VendorVerdict{Reason: consent.VendorNoTCString}
	}
	return consent.CheckVendor(tc, &d.vendor)
}

// enforceVendors removes from res.Dests the destinations that GDPR and the
// TC string in sc do not allow, and counts why.
func (en *Engine) enforceVendors(res *Result, ans *consent.Answer, sc *scratch) {
	if res.Dests == 0 || !gdprApplies(ans) {
		return
	}
	tcOK := usableTC(ans)
	for i := range en.dests {
		if !res.Dests.Has(i) {
			continue
		}
		if v := en.checkVendor(i, tcOK, &sc.tc); v.Reason != consent.VendorAllowed {
			res.Dests &^= 1 << uint(i)
			res.VendorRefused |= 1 << uint(i)
			res.VendorReasons[v.Reason]++
		}
	}
}

// policyGroup is one distinct policy among the destinations of an event, and
// the destinations that share its record.
type policyGroup struct {
	policy uint8
	dests  Dests
}

// internPolicy returns the index of p in en.policies, adding it when no
// equal policy is there yet, so destinations whose policies compile to the
// same thing share one record. A valid plan has at most 3 + 3 ×
// MaxDestinations = 195 distinct policies, so the index fits a byte.
func (en *Engine) internPolicy(p policy) uint8 {
	for i := range en.policies {
		if en.policies[i] == p {
			return uint8(i)
		}
	}
	en.policies = append(en.policies, p)
	return uint8(len(en.policies) - 1)
}

// Emitter receives the records of one event, one per distinct policy among
// the destinations the event goes to. rec is owned by the engine and valid
// only during the call; copy it to keep it. An error stops the event: no
// further record is made and AppendRecords returns the error.
type Emitter interface {
	EmitRecord(rec []byte, dests Dests) error
}

// Route returns the destinations whose required purposes granted covers.
func (en *Engine) Route(granted consent.Purposes) Dests {
	return en.routes[uint8(granted&en.enabled)]
}

// DestinationPolicyIndex returns, for tests and dry runs, which of the
// engine's distinct policies destination i gets in state s, and whether i is
// a destination at all.
func (en *Engine) DestinationPolicyIndex(i int, s State) (int, bool) {
	if i < 0 || i >= len(en.dests) || s >= numStates {
		return 0, false
	}
	return int(en.dests[i].policy[s]), true
}

// OwnPolicy reports, for dry runs (explain), whether destination i gets
// another record than the site-wide policy makes in state s: its own
// policy in s is not the site-wide one. It is false when i or s is out of
// range.
func (en *Engine) OwnPolicy(i int, s State) bool {
	return i >= 0 && i < len(en.dests) && s < numStates && en.dests[i].policy[s] != en.site[s]
}

// AppendRecords decides consent for e once, picks the destinations whose
// required purposes are granted, and for each distinct policy among them
// (in the state the consent selects) makes one record and hands it to out
// with the destinations that share it. Destinations with equal policies get
// the same record; each record has its own event id, so recipients cannot
// join their records on it. dst is scratch as for AppendRecord; the
// returned buffer is dst grown, for reuse.
//
// res.Dests holds every destination the event's consent allows (its
// purposes, and where GDPR applies the TC string's vendor consent, see
// consent.CheckVendor; res.VendorRefused those refused only by the latter);
// res.Records counts the records handed to out. res.Drop is set when every
// applicable policy drops the user agent's class (bots or http_clients:
// drop), so no record was made; with no destination at all it tells what
// the site-wide policy would do.
func (en *Engine) AppendRecords(dst []byte, e *event.Event, out Emitter) ([]byte, Result, error) {
	sc := getScratch()
	defer putScratch(sc)
	var res Result
	en.decideRouted(e, sc, &res)
	if res.Dests == 0 {
		p := &en.policies[en.site[res.State]]
		ua, _ := en.reduceUA(sc, e.UserAgent)
		res.Bot, res.HTTPClient, res.Drop = en.classify(ua, e.Site, p)
		return dst, res, nil
	}
	groups := sc.groups[:0]
	if en.bleAggregates && e.Kind == event.KindBLE {
		// One record for the aggregation, which counts each record it
		// gets as a sighting; no destination gets it.
		groups = append(groups, policyGroup{policy: en.site[res.State], dests: res.Dests})
	} else {
		for i := range en.dests {
			if !res.Dests.Has(i) {
				continue
			}
			pi := en.dests[i].policy[res.State]
			j := 0
			for j < len(groups) && groups[j].policy != pi {
				j++
			}
			if j == len(groups) {
				groups = append(groups, policyGroup{policy: pi})
			}
			groups[j].dests |= 1 << uint(i)
		}
	}
	sc.groups = groups
	dropped := 0
	base := res
	// The records share the event's pseudonyms and visitor hash.
	sc.memo.start(len(groups))
	defer sc.memo.stop()
	for _, g := range groups {
		rec, r := en.appendRecord(dst[:0], e, &base, sc, g.policy)
		dst = rec[:0]
		res.Bot, res.HTTPClient = r.Bot, r.HTTPClient
		res.Scrubbed |= r.Scrubbed
		res.DroppedProps = max(res.DroppedProps, r.DroppedProps)
		res.DroppedContact += r.DroppedContact
		if r.Drop {
			dropped++
			continue
		}
		if err := out.EmitRecord(rec, g.dests); err != nil {
			return dst, res, err
		}
		res.Records++
	}
	res.Drop = dropped == len(groups)
	return dst, res, nil
}

// DestinationDrops reports, for dry runs (explain), whether destination i's
// own policy in state s drops e's user agent (a crawler under bots: drop,
// an HTTP client library under http_clients: drop, or a destination that
// takes no app events), so that it gets no record of e in that state
// whatever the site-wide policy does. It is false when i or s is out of
// range. It is not used on the request path.
func (en *Engine) DestinationDrops(i int, s State, e *event.Event) bool {
	if i < 0 || i >= len(en.dests) || s >= numStates {
		return false
	}
	sc := getScratch()
	defer putScratch(sc)
	ua, _ := en.reduceUA(sc, e.UserAgent)
	_, _, drop := en.classify(ua, e.Site, &en.policies[en.dests[i].policy[s]])
	return drop
}

// classify tells whether the user agent is a crawler or an HTTP client, and
// whether policy p drops it.
func (en *Engine) classify(ua useragent.Info, site []byte, p *policy) (bot, httpClient, drop bool) {
	switch ua.Class() {
	case useragent.ClassCrawler:
		return true, false, p.bots == plan.BotsDrop
	case useragent.ClassHTTPClient:
		return false, true, p.noAppEvents || !en.serverToServer(site) && p.httpClients == plan.BotsDrop
	}
	return false, false, false
}

// Recipient says what one destination gets of an event: for dry runs
// (explain, the report's checks), never on the request path.
type Recipient struct {
	Name string
	// Gets is whether the destination receives a record of the event.
	Gets bool
	// Why says why not, in words: a purpose it requires that is not
	// granted, the vendor check that failed (e.g. "no vendor consent for
	// vendor 755"), or the policy dropping the event.
	Why string
	// Record is the record it gets (shared with the destinations of equal
	// policy), nil when it gets none.
	Record []byte
	// Policy identifies its policy among the event's records: destinations
	// with the same value share a record.
	Policy int
}

// recipientsCollector is the Emitter of Recipients: it keeps copies.
type recipientsCollector struct {
	recs  [][]byte
	dests []Dests
}

func (c *recipientsCollector) EmitRecord(rec []byte, dests Dests) error {
	c.recs = append(c.recs, append([]byte(nil), rec...))
	c.dests = append(c.dests, dests)
	return nil
}

// Recipients runs e through AppendRecords, the request path's own code, and
// says for each destination, in config order, whether it gets the event,
// the record it gets, and why not.
func (en *Engine) Recipients(e *event.Event) ([]Recipient, Result) {
	var c recipientsCollector
	_, res, _ := en.AppendRecords(make([]byte, 0, 16<<10), e, &c)
	sc := getScratch()
	defer putScratch(sc)
	ans := en.decide(e, sc)
	tcOK := usableTC(&ans)
	out := make([]Recipient, len(en.dests))
	for i := range en.dests {
		d := &en.dests[i]
		r := Recipient{Name: d.name, Policy: int(d.policy[res.State])}
		for j, ds := range c.dests {
			if ds.Has(i) {
				r.Gets, r.Record = true, c.recs[j]
			}
		}
		switch {
		case r.Gets:
		case res.Purposes&d.requires != d.requires:
			r.Why = "requires " + d.requires.String() + "; granted: " + res.Purposes.String()
		case res.VendorRefused.Has(i):
			r.Why = en.checkVendor(i, tcOK, &sc.tc).Explain(d.vendor.ID)
		case res.Dests.Has(i) && res.HTTPClient && en.policies[d.policy[res.State]].noAppEvents:
			r.Why = "takes no app events (an HTTP client library sent this one): the platform requires app data the gateway does not know"
		case res.Dests.Has(i):
			r.Why = "its policy drops this user agent (bots or http_clients: drop)"
		}
		out[i] = r
	}
	return out, res
}
