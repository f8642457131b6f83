package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSubjectSuppressRefusesSiteTheGatewayRefuses: with sites listed, the
// gateway refuses every event of another site id (400 unknown site), and
// matches site ids exactly. subject suppress -site with a mistyped site
// (shpo, or Shop) put the subject's hash for that site on the list and
// answered "now suppressed": an objection or erasure request that stopped
// nothing, while the subject's events on shop went on. It is now refused
// (exit 2, naming -site, the closest site), nothing written. A lookup on
// such a site still runs (records of a site since removed may be
// downstream) but says the gateway takes none of its events now.
// Unsuppress takes it, so an entry written so before can be removed.
func TestSubjectSuppressRefusesSiteTheGatewayRefuses(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := writeE2EConfig(t, dir, "c.yaml", "sites:\n  - id: shop\n  - id: blog\n")
	subj := func(args ...string) (int, string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := run(append([]string{"subject"}, append(args, "-config", cfg, "-data", data)...), nil, &out, &errb)
		return code, out.String(), errb.String()
	}
	list := filepath.Join(data, "suppressed.txt")
	for _, site := range []string{"shpo", "Shop"} {
		code, out, errs := subj("suppress", "-site", site, "-id", "kim-4711")
		if code != 2 || !strings.Contains(errs, "-site: not one of the sites in the config (shop, blog)") || !strings.Contains(errs, "did you mean shop?") || !strings.Contains(errs, "nothing was suppressed") {
			t.Errorf("suppress -site %s: exit %d\n%s%s", site, code, out, errs)
		}
		if strings.Contains(errs, "kim-4711") {
			t.Errorf("suppress -site %s: the error holds the id:\n%s", site, errs)
		}
		if b, err := os.ReadFile(list); err == nil && len(bytes.TrimSpace(b)) > 0 {
			t.Errorf("suppress -site %s wrote the list:\n%s", site, b)
		}
	}
	if code, out, errs := subj("suppress", "-site", "shop", "-id", "kim-4711"); code != 0 || !strings.Contains(out, "now suppressed") {
		t.Errorf("suppress on a configured site: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := subj("unsuppress", "-site", "shpo", "-id", "kim-4711"); code != 0 || !strings.Contains(out, "already unsuppressed") {
		t.Errorf("unsuppress on a site not configured: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs := subj("-site", "shpo", "-id", "kim-4711", "-from", "2026-01-01", "-to", "2026-01-02")
	if code != 0 || !strings.Contains(out, "site: -site is not one of the sites in the config (shop, blog), so the gateway takes no event of it now") {
		t.Errorf("lookup on a site not configured: exit %d, no note\n%s%s", code, out, errs)
	}
	if _, out, _ := subj("-site", "shop", "-id", "kim-4711", "-from", "2026-01-01", "-to", "2026-01-02"); strings.Contains(out, "site: ") {
		t.Errorf("lookup on a configured site has the site note:\n%s", out)
	}
}
