package wiring

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/plan"
	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/upstream/adplatform"
)

// adPlatformDestination fills do with the sink of an ad platform
// destination (meta_capi, ga4, tiktok), which dates its requests and judges
// events' ages by clk.
func adPlatformDestination(do *upstream.DestinationOptions, d *config.Destination, reg prometheus.Registerer, origins *adplatform.Origins, clk clock.Clock) error {
	m, err := adplatform.NewMetrics(reg)
	if err != nil {
		return err
	}
	o, _ := PlatformOptions(d)
	o.Metrics = m
	var timeout config.Duration
	var retry config.Retry
	switch d.Type {
	case config.DestinationMetaCAPI:
		timeout, retry = d.MetaCAPI.Timeout, d.MetaCAPI.Retry
	case config.DestinationGA4:
		timeout, retry = d.GA4.Timeout, d.GA4.Retry
	case config.DestinationTikTok:
		timeout, retry = d.TikTok.Timeout, d.TikTok.Retry
	}
	o.Timeout = timeout.D()
	o.Origins = origins // a path-only url is made absolute with the site's first origin
	o.Clock = clk
	s, err := adplatform.New(o)
	if err != nil {
		return err
	}
	do.Sink = s
	do.Retry = upstream.RetryOptions{Initial: retry.InitialBackoff.D(), Max: retry.MaxBackoff.D(),
		RedirectDeadLetterAfter: retry.RedirectDeadLetterAfter.D(), AuthDeadLetterAfter: retry.AuthDeadLetterAfter.D()}
	// A Send may take several requests (GA4: one per client); what was
	// answered before a timeout is not sent again.
	do.SendTimeout = 2 * timeout.D()
	return nil
}

// PlatformOptions returns the sink options of an ad platform destination
// (meta_capi, ga4, tiktok) as its config sets them, without metrics,
// origins, timeout or clock; false for any other destination. beacongate
// explain maps records with them (adplatform.Preview) as the sink does.
func PlatformOptions(d *config.Destination) (adplatform.Options, bool) {
	o := adplatform.Options{Destination: d.Name}
	switch d.Type {
	case config.DestinationMetaCAPI:
		c := &d.MetaCAPI
		o.Platform, o.ID, o.TokenFile, o.TestEventCode, o.Endpoint, o.APIVersion = adplatform.Meta, c.PixelID, c.AccessTokenFile, c.TestEventCode, c.Endpoint, c.APIVersion
	case config.DestinationGA4:
		c := &d.GA4
		o.Platform, o.ID, o.TokenFile, o.TestMode, o.Endpoint = adplatform.GA4, c.MeasurementID, c.APISecretFile, c.TestMode, c.Endpoint
		o.MaxInFlight = c.MaxInFlight
	case config.DestinationTikTok:
		c := &d.TikTok
		o.Platform, o.ID, o.TokenFile, o.TestEventCode, o.Endpoint = adplatform.TikTok, c.EventSourceID, c.AccessTokenFile, c.TestEventCode, c.Endpoint
		o.OfflineEventSetID = c.OfflineEventSetID
	default:
		return o, false
	}
	return o, true
}

// SiteOrigins maps each site with origins to its first one: the ad
// platform sinks make path-only URLs absolute with it (Origins).
func SiteOrigins(cfg *config.Config) map[string]string {
	m := make(map[string]string, len(cfg.Sites))
	for _, s := range cfg.Sites {
		if len(s.Origins) > 0 {
			m[s.ID] = s.Origins[0]
		}
	}
	return m
}

// PlatformNotes says, per ad platform destination of p, which record field
// its policy leaves out that the platform needs for every website event,
// so that its sink would dead-letter each one unsent (reason unmappable;
// see package adplatform's doc): Meta needs the user agent as sent
// (user_agent: keep) and the page URL, GA4 a client id (the pseudonymized
// cid, or the _ga cookie's id among the click ids). An ad platform
// requires ads (config validation), so the policy read is its ads policy;
// but where consent.purposes lacks analytics the ads state is never
// reached, and every event reaches it under its none policy, which is
// read then. These are notes, not errors: a destination may get store
// visits (BLE) only, which need neither.
func PlatformNotes(p *plan.Plan) []string {
	var notes []string
	state, key, why := plan.StateAds, "ads", ""
	if !p.Reachable(plan.StateAds) {
		state, key = plan.StateNone, "none"
		why = " (consent.purposes lacks analytics, so its ads policy, which needs analytics and ads granted, never applies, and every event reaches it under its none policy)"
	}
	for i := range p.Destinations {
		d := &p.Destinations[i]
		pol := &d.Policies[state]
		at := fmt.Sprintf("destinations[%d] (%s)%s", i, d.Name, why)
		switch d.Platform {
		case plan.PlatformMeta:
			if pol.UA != plan.UAKeep {
				notes = append(notes, at+": its "+key+" policy does not keep the user agent (user_agent: {action: keep}), which Meta needs for every website event: each would be dead-lettered unsent (unmappable); set policies."+key+".user_agent: {action: keep}, unless it gets store visits only")
			}
			if pol.URL == plan.URLDrop {
				notes = append(notes, at+": its "+key+" policy drops the page URL, which Meta needs for every website event: each would be dead-lettered unsent (unmappable); set policies."+key+".url to path, clean or keep, unless it gets store visits only")
			}
		case plan.PlatformGoogle:
			if pol.ClientID == plan.IDDrop && pol.ClickIDs != plan.ClickIDsKeep {
				notes = append(notes, at+": its "+key+" policy drops the client id and the click ids (so the _ga cookie's id too), and GA4 takes no event without a client_id: each would be dead-lettered unsent (unmappable); set policies."+key+".client_id: pseudonymize or click_ids: keep")
			}
		}
	}
	return notes
}
