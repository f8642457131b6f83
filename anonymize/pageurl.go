package anonymize

import (
	"strings"

	"github.com/beacongate/beacongate/anonymize/scrub"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/event"
)

// scrubOptionsFor is ScrubOptions plus what the sites declare about their
// page URLs: the hosts of their origins and their routes (issue 18).
func scrubOptionsFor(cfg *config.Config) scrub.Options {
	o := ScrubOptions(&cfg.Scan)
	o.Shape = scrub.Shape{MaxLength: cfg.Scan.PathMaxLength, MaxDigitPercent: cfg.Scan.PathMaxDigitPercent}
	for _, s := range cfg.Sites {
		if len(s.Origins) == 0 && len(s.Routes) == 0 {
			continue
		}
		site := scrub.Site{ID: s.ID, Routes: s.Routes}
		for _, origin := range s.Origins {
			if h := originHost(origin); h != "" {
				site.Hosts = append(site.Hosts, h)
			}
		}
		o.Sites = append(o.Sites, site)
	}
	return o
}

// originHost returns the host of a validated origin (scheme://host[:port]),
// without the port.
func originHost(origin string) string {
	_, rest, ok := strings.Cut(origin, "://")
	if !ok {
		return ""
	}
	if strings.HasPrefix(rest, "[") {
		if k := strings.IndexByte(rest, ']'); k >= 0 {
			return rest[:k+1]
		}
		return ""
	}
	if k := strings.LastIndexByte(rest, ':'); k >= 0 {
		rest = rest[:k]
	}
	return strings.ToLower(rest)
}

// siteRoutes lists "site route" for every declared route, for the policy
// version: routes decide what a record's url holds.
func siteRoutes(cfg *config.Config) []string {
	var out []string
	for _, s := range cfg.Sites {
		for _, r := range s.Routes {
			out = append(out, s.ID+" "+r)
		}
	}
	return out
}

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
