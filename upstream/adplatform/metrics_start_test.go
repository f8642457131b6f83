package adplatform_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/upstream/adplatform"
)

// TestMetricsFromTheStart: a sink's request, error and dropped-parameter
// series appeared at their first use, so the first 5xx answer or
// dead-lettered event after a start was the first sample of its series,
// which increase() and rate() take as the start and never count: an alert
// on them missed it. Every series a sink can reach (but GA4 test mode's
// validation_<code>, an open set) is on /metrics at 0 from its start.
func TestMetricsFromTheStart(t *testing.T) {
	for _, tc := range []struct {
		p       adplatform.Platform
		reasons []string
		params  []string
	}{
		{adplatform.Meta, []string{"invalid_event", "no_app_data", "too_old", "unmappable", "unsettled"}, nil},
		{adplatform.GA4, []string{"invalid_event", "too_old", "unmappable", "unsettled"}, []string{"duplicate_name"}},
		{adplatform.TikTok, []string{"invalid_event", "no_app_data", "no_event_source_id", "unmappable", "unsettled"}, nil},
	} {
		t.Run(tc.p.String(), func(t *testing.T) {
			_, _, _, reg := setup(t, tc.p, nil)
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, mf := range mfs {
				for _, m := range mf.GetMetric() {
					labels := map[string]string{}
					for _, l := range m.GetLabel() {
						labels[l.GetName()] = l.GetValue()
					}
					if labels["destination"] != "ads" || labels["platform"] != tc.p.String() {
						t.Errorf("%s: labels %v", mf.GetName(), labels)
					}
					if v := m.GetCounter().GetValue(); v != 0 {
						t.Errorf("%s%v = %v before any send", mf.GetName(), labels, v)
					}
					got[mf.GetName()] = append(got[mf.GetName()], labels["reason"]+labels["status"])
				}
			}
			for name, want := range map[string][]string{
				"beacongate_upstream_platform_events_total":         {""},
				"beacongate_upstream_platform_requests_total":       {"2xx", "3xx", "429", "4xx", "5xx", "error"},
				"beacongate_upstream_platform_event_errors_total":   tc.reasons,
				"beacongate_upstream_platform_dropped_params_total": tc.params,
			} {
				g := got[name]
				sort.Strings(g)
				if strings.Join(g, ",") != strings.Join(want, ",") {
					t.Errorf("%s before any send: %q; want %q, at 0", name, g, want)
				}
			}
		})
	}
}
