package main

import (
	"strings"
	"testing"
)

// TestReportDiff: report -diff names, per section, the statements a policy
// change ends and starts, and nothing else.
func TestReportDiff(t *testing.T) {
	dir := t.TempDir()
	oldPath := writeE2EConfig(t, dir, "old.yaml", "policies:\n  analytics:\n    ip: {action: truncate, v4_prefix: 24}\n")
	newPath := writeE2EConfig(t, dir, "new.yaml", "policies:\n  analytics:\n    ip: {action: truncate, v4_prefix: 16}\nprivacy:\n  retention: {local: 395d}\n")
	code, out := cli(t, "report", "-config", newPath, "-diff", oldPath)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{
		"## 3. Data collected per consent state\n\n### State `analytics`\n\n- no longer: | IP address",
		"- now: | IP address | the client address",
		"truncated to /16 (IPv4)",
		"## 7. Storage and retention\n\n- no longer: - File destination `local`: files in",
		"beacongate never deletes finished files",
		"- now: - File destination `local`: files in `" + "",
		"deleted 9480h (395 days) after its last write",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "## To complete\n\n- no longer: - Retention of `local`") {
		t.Errorf("diff does not show the retention leaving the to-complete list:\n%s", out)
	}
	// Data per state, the recipients (each names what it keeps), storage,
	// and the to-complete list.
	if !strings.Contains(out, "## 6. Recipients\n\n### Recipient `local`\n\n- no longer: - `analytics`: kept IP address (truncate /24") {
		t.Errorf("diff does not show the recipients' new IP truncation:\n%s", out)
	}
	if n := strings.Count(out, "\n## "); n != 4 {
		t.Errorf("%d changed sections, want 4:\n%s", n, out)
	}
	if code, out := cli(t, "report", "-config", oldPath, "-diff", oldPath); code != 0 || !strings.Contains(out, "No change") {
		t.Errorf("diff of a config with itself: exit %d\n%s", code, out)
	}
}

// TestReportDiffNamesTheStateAndRecipient: a state's table rows and a
// recipient's lines read the same in every state and recipient, so the
// diff must say which one a change is about. It printed them under the
// section alone: "ip: drop" now, and for which of none, analytics and ads,
// or which recipient, the officer could not tell.
func TestReportDiffNamesTheStateAndRecipient(t *testing.T) {
	dir := t.TempDir()
	dests := "destinations:\n  - {name: local, type: file}\n  - {name: archive, type: file, file: {dir: " + dir + "/archive}}\n"
	oldPath := writeE2EConfig(t, dir, "old.yaml", dests)
	newPath := writeE2EConfig(t, dir, "new.yaml", dests+"policies:\n  analytics:\n    ip: {action: drop}\n")
	code, out := cli(t, "report", "-config", newPath, "-diff", oldPath)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{
		"## 3. Data collected per consent state\n\n### State `analytics`\n\n- no longer: | IP address",
		"- now: | IP address | the client address (the peer, or server.client\\_ip\\_header when the peer is in server.trusted\\_proxies) | `ip: drop` |",
		"## 6. Recipients\n\n### Recipient `local`\n\n- no longer: - `analytics`: kept IP address",
		"### Recipient `archive`\n\n- no longer: - `analytics`: kept IP address",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "### State `none`") || strings.Contains(out, "### State `ads`") {
		t.Errorf("diff names a state that did not change:\n%s", out)
	}
}

// TestReportDiffSkipsAnchors: the Markdown's anchors and table of contents
// are layout, not statements: a new destination shows as its statements,
// never as an anchor line.
func TestReportDiffSkipsAnchors(t *testing.T) {
	dir := t.TempDir()
	oldPath := writeE2EConfig(t, dir, "old.yaml", "")
	newPath := writeE2EConfig(t, dir, "new.yaml", "destinations:\n  - {name: local, type: file}\n  - {name: archive, type: file, file: {dir: "+dir+"/archive}}\n")
	code, out := cli(t, "report", "-config", newPath, "-diff", oldPath)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "- now: ### Recipient `archive`") {
		t.Errorf("diff lacks the new recipient:\n%s", out)
	}
	if strings.Contains(out, "<a id=") || strings.Contains(out, "](#") {
		t.Errorf("diff shows anchors or contents links:\n%s", out)
	}
}

// TestReportDiffRefusesHTML: -diff writes Markdown; with -format html the
// command used to write the whole report instead, silently.
func TestReportDiffRefusesHTML(t *testing.T) {
	dir := t.TempDir()
	oldPath := writeE2EConfig(t, dir, "old.yaml", "")
	code, out := cli(t, "report", "-config", oldPath, "-diff", oldPath, "-format", "html")
	if code != 2 || !strings.Contains(out, "-diff writes Markdown") {
		t.Errorf("exit %d\n%.300s", code, out)
	}
}

// TestReportDiffNamesEveryPlanChange: a change that alters what a recipient
// gets changes the plan version, and must show in report -diff as the
// statements it changes; the diff said "No change: both configs give the
// same record of processing" under two different policy versions.
func TestReportDiffNamesEveryPlanChange(t *testing.T) {
	for _, tc := range []struct{ name, old, new, want string }{
		{"scan.keep_uuids", "", "scan: {keep_uuids: true}\n", "- now: - UUIDs are kept (`scan.keep_uuids`)"},
		{"consent.tcf.max_age", "", "consent: {tcf: {max_age: 30d}}\n", "last updated more than 720h (30 days) before the event arrives (consent.tcf.max\\_age)"},
		{"destinations[].tcf.flexible_purposes", vendorDest(""), vendorDest(", flexible_purposes: [7]"), "(purpose 7 is flexible: where a publisher restriction requires legitimate interest for it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			oldPath := writeE2EConfig(t, dir, "old.yaml", tc.old)
			newPath := writeE2EConfig(t, dir, "new.yaml", tc.new)
			code, out := cli(t, "report", "-config", newPath, "-diff", oldPath)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, out)
			}
			head, _, _ := strings.Cut(out, "\n\n##")
			var versions []string
			for _, f := range strings.Fields(head) {
				if v := strings.TrimRight(f, ")"); len(v) == 12 && v != f {
					versions = append(versions, v)
				}
			}
			if len(versions) != 2 || versions[0] == versions[1] {
				t.Fatalf("policy versions %v: want the change to change the plan:\n%s", versions, out)
			}
			if strings.Contains(out, "No change") || !strings.Contains(out, tc.want) {
				t.Errorf("diff lacks %q:\n%s", tc.want, out)
			}
		})
	}
}

// vendorDest is a config whose one destination is IAB TCF vendor 755 with
// purposes 1 and 7, and more of its tcf settings.
func vendorDest(more string) string {
	return "destinations:\n  - {name: local, type: file, tcf: {vendor_id: 755, purposes: [1, 7]" + more + "}}\n"
}
