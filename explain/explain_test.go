package explain

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/gateway"
	"github.com/beacongate/beacongate/ropa"
	"github.com/beacongate/beacongate/wiring"
)

func newExplainer(t *testing.T, yaml string) *Explainer {
	t.Helper()
	cfg, err := config.Parse("t.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	p, err := wiring.Compile(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	sites := map[string][]string{}
	for _, s := range cfg.Sites {
		sites[s.ID] = s.Origins
	}
	x, err := New(Options{Plan: p, Facts: ropa.FactsOf(cfg),
		Settings: gateway.Settings{Sites: sites, Clock: clock.Fixed(clocktest.Golden)},
		Deps:     anonymize.Deps{Clock: clock.Fixed(clocktest.Golden)}, MaxHeaderBytes: 8 << 10, MaxBodyBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestRejectionFromTheHandler: the reason of a rejection comes from the
// gateway's own decision (its OnReject hook), and a later accepted request
// does not inherit it.
func TestRejectionFromTheHandler(t *testing.T) {
	x := newExplainer(t, "sites: [{id: shop}]\n")
	peer := netip.MustParseAddr("203.0.113.7")
	out := x.Explain([]byte(`{"site":"other","event":"view"}`), peer)
	if out.Rejected == nil || out.Rejected.Reason != "unknown_site" || out.Response.Status != 400 {
		t.Fatalf("unknown site: rejected %+v, status %d", out.Rejected, out.Response.Status)
	}
	out = x.Explain([]byte(`{"site":"shop","event":"view"}`), peer)
	if out.Rejected != nil || len(out.Events) != 1 {
		t.Fatalf("known site: rejected %+v, %d events", out.Rejected, len(out.Events))
	}
	out = x.Explain([]byte("https://collect.example/p.gif?site=other"), peer)
	if out.Rejected == nil || out.Rejected.Reason != "unknown_site" || !strings.Contains(out.Rejected.Detail, "GIF") {
		t.Fatalf("pixel for an unknown site: %+v", out.Rejected)
	}
}

// TestPolicyVersionIsThePlans: the version explain prints is the one the
// server's records carry.
func TestPolicyVersionIsThePlans(t *testing.T) {
	x := newExplainer(t, "")
	if out := x.Explain([]byte(`{"site":"s"}`), netip.MustParseAddr("203.0.113.7")); out.Policy != x.plan.Version() || len(out.Policy) != 12 {
		t.Fatalf("policy %q; want %q", out.Policy, x.plan.Version())
	}
}
