package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSubjectListsOnlyDestinationsThatReceiveThePseudonyms: a lookup says,
// per field, which destinations can have received the person's pseudonyms
// and which never do, by their policies and, for an ad platform, by what
// its requests carry. It used to name every destination as a place to look,
// Meta and TikTok included (their requests carry no pseudonym) and a
// destination whose policies drop the ids in every state: an officer
// following it would disclose the person's pseudonyms to a recipient that
// never had them. Likewise an external id's hash for GA4, whose requests
// carry none.
func TestSubjectListsOnlyDestinationsThatReceiveThePseudonyms(t *testing.T) {
	t.Setenv("BEACONGATE_PSEUDONYM_SECRET", "0123456789abcdef0123456789abcdef-where")
	data := t.TempDir()
	lookup := func(cfg string, args ...string) subjectReport {
		t.Helper()
		code, out := cli(t, append([]string{"subject", "-config", cfg, "-data", data, "-from", "2026-03-01", "-to", "2026-03-02", "-format", "json"}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, out)
		}
		var rep subjectReport
		if err := json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &rep); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return rep
	}
	f := func(rep subjectReport, field string, in, never []string) {
		t.Helper()
		for _, w := range rep.Where {
			if w.Field == field {
				if !slices.Equal(w.Destinations, in) || !slices.Equal(w.Never, never) {
					t.Errorf("%s: in %v, never %v; want in %v, never %v", field, w.Destinations, w.Never, in, never)
				}
				return
			}
		}
		t.Errorf("%s: not in the lookup's where %+v", field, rep.Where)
	}
	shop := exampleConfig("shop-retargeting.yaml")
	rep := lookup(shop, "-site", "shop", "-id", "user-4711")
	f(rep, "user", []string{"warehouse", "retargeting", "ga4"}, []string{"meta", "tiktok"})
	f(rep, "client", []string{"warehouse", "retargeting", "ga4"}, []string{"meta", "tiktok"})
	f(rep, "device", []string{"warehouse", "retargeting"}, []string{"meta", "ga4", "tiktok"})
	f(rep, "visitor", []string{"warehouse", "retargeting"}, []string{"meta", "ga4", "tiktok"})
	if !slices.Equal(rep.Destinations, []string{"warehouse", "retargeting", "ga4"}) {
		t.Errorf("destinations %v; want those that can have a pseudonym", rep.Destinations)
	}
	rep = lookup(shop, "-site", "shop", "-kind", "mac", "-id", "00:1a:2b:3c:4d:5e")
	f(rep, "device", []string{"warehouse", "retargeting"}, []string{"meta", "ga4", "tiktok"})
	if !slices.Equal(rep.Destinations, []string{"warehouse", "retargeting"}) {
		t.Errorf("device lookup: destinations %v", rep.Destinations)
	}
	code, out := cli(t, "subject", "-config", shop, "-data", data, "-site", "shop", "-id", "user-4711", "-from", "2026-03-01", "-to", "2026-03-02")
	if code != 0 || !strings.Contains(out, "user    field: in warehouse, retargeting, ga4; never received by meta, tiktok") {
		t.Errorf("text lookup (exit %d) does not say where the user pseudonyms are:\n%s", code, out)
	}

	// A destination whose policies drop the ids in every state never
	// has them; with ble.output: aggregates no sighting reaches any.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	yaml := "pseudonym: {mode: derived, secret_env: BEACONGATE_PSEUDONYM_SECRET}\n" +
		"ble: {output: aggregates}\n" +
		"destinations:\n" +
		"  - {name: full, type: file, tcf: {without_vendor: true}, file: {dir: " + filepath.Join(dir, "full") + "}}\n" +
		"  - name: counts\n    type: file\n    tcf: {without_vendor: true}\n    file: {dir: " + filepath.Join(dir, "counts") + "}\n" +
		"    policies:\n" +
		"      none: {user_id: drop, client_id: drop, device_id: drop}\n" +
		"      analytics: {user_id: drop, client_id: drop, device_id: drop}\n" +
		"      ads: {user_id: drop, client_id: drop, device_id: drop}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	rep = lookup(cfg, "-site", "shop", "-id", "user-4711")
	f(rep, "user", []string{"full"}, []string{"counts"})
	f(rep, "client", []string{"full"}, []string{"counts"})
	f(rep, "device", []string{}, []string{"full", "counts"})
	f(rep, "visitor", []string{}, []string{"full", "counts"})

	code, out = cli(t, "subject", "-config", shop, "-data", data, "-kind", "external_id", "-id", "cust-42")
	if code != 0 || !strings.Contains(out, "ga4 (google) external_id: (never sent") || !strings.Contains(out, "meta (meta) external_id: 8") {
		t.Errorf("external id lookup (exit %d):\n%s", code, out)
	}
}
