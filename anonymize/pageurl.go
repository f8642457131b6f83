package anonymize

import (
	"github.com/beacongate/beacongate/anonymize/scrub"
	"github.com/beacongate/beacongate/event"
)

// ownIDRule is the rule ExplainPath names for a segment that holds the
// event's own user or client id, which the record writes as {id}
// (replaceOwnIDs) after the cleaner's rules kept it.
const ownIDRule = "the event's own user or client id, replaced by {id} (the record carries it as a pseudonym or not at all)"

// ExplainPath says which rule kept or replaced each path segment of the
// page URL of e under the policy of state, for "beacongate explain"; nil
// when the policy drops the URL, keeps it as sent, or keeps only its origin.
// A segment holding the event's own user or client id shows {id}, as the
// record has it.
func (en *Engine) ExplainPath(e *event.Event, state State) []scrub.SegmentRule {
	mode := urlMode(en.policies[state].url)
	if mode == dropURL || mode == keepURL {
		return nil
	}
	rules := en.cleaner.ExplainPath(e.URL, scrub.URLMode(mode-1), e.Site)
	for i := range rules {
		if res, f := replaceOwnIDs([]byte(rules[i].Result), 0, e, 0); f != 0 {
			rules[i].Result, rules[i].Rule = string(res), ownIDRule
		}
	}
	return rules
}
