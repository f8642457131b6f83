package anonymize

import (
	"github.com/beacongate/beacongate/anonymize/scrub"
	"github.com/beacongate/beacongate/event"
)

// ExplainPath says which rule kept or replaced each path segment of the
// page URL of e under the policy of state, for "beacongate explain"; nil
// when the policy drops the URL, keeps it as sent, or keeps only its origin.
func (en *Engine) ExplainPath(e *event.Event, state State) []scrub.SegmentRule {
	mode := urlMode(en.policies[state].url)
	if mode == dropURL || mode == keepURL {
		return nil
	}
	return en.cleaner.ExplainPath(e.URL, scrub.URLMode(mode-1), e.Site)
}
