package ropa

import (
	"strings"
	"testing"

	"github.com/beacongate/beacongate/config"
)

// TestReportStatesRetention: the report states the configured retention
// of each file destination and of dead letters, and says plainly when
// there is none.
func TestReportStatesRetention(t *testing.T) {
	_, _, text := render(t, build(t, parse(t, "")))
	for _, s := range []string{"beacongate never deletes finished files", "Dead letters (batches a destination refused for good) are kept until deleted by hand",
		"and kept there until deleted by hand; set privacy.quarantine_retention to limit it."} {
		if !strings.Contains(text, s) {
			t.Errorf("default report lacks %q", s)
		}
	}
	_, _, text = render(t, build(t, parse(t, "privacy:\n  retention: {local: 395d}\n  dead_letter_retention: 30d\n  quarantine_retention: 14d\n")))
	for _, s := range []string{"a finished file is deleted 9480h (395 days) after its last write (privacy.retention)", "Dead letters (batches a destination refused for good) are deleted 720h (30 days) after",
		"and deleted 336h (14 days) after it was moved there (privacy.quarantine_retention)"} {
		if !strings.Contains(text, s) {
			t.Errorf("report lacks %q:\n%s", s, text)
		}
	}
	if strings.Contains(text, "never deletes finished files") {
		t.Error("report still says files are never deleted")
	}
}

// TestReportStatesKeyStoreAndAuditLog: with privacy.key_store the report
// says who can re-identify as the key store makes it (keys of periods after
// its creation are random and can be destroyed; the secret alone no longer
// recomputes them) and how long keys are kept; it names the audit log and
// the suppression list among the stores the gateway keeps, with how long.
func TestReportStatesKeyStoreAndAuditLog(t *testing.T) {
	const derived = "pseudonym: {mode: derived, secret_env: BG_TEST_SECRET}\n"
	f := func(text, s string, want bool) {
		t.Helper()
		if strings.Contains(text, s) != want {
			t.Errorf("contains %q = %v; want %v", s, !want, want)
		}
	}

	_, _, text := render(t, build(t, parse(t, derived)))
	f(text, "whoever holds the secret can recompute the key of every past and future period", true)
	f(text, "Pseudonym key store", false)
	f(text, "Audit log: beacongate-data/audit.log", true)
	f(text, "Suppression list: beacongate-data/suppressed.txt", true)

	_, _, text = render(t, build(t, parse(t, derived+"server: {data_dir: /var/lib/bg}\nprivacy: {key_store: true, key_retention: 30d, audit_log: true}\n")))
	f(text, "whoever holds the secret can recompute the key of every past and future period", false)
	f(text, "can recompute every period's key", false)
	f(text, "can recompute it;", false)
	f(text, "a random key for each period that began after the key store was created", true)
	f(text, "Once a period's key is destroyed, nobody can recompute its pseudonyms", true)
	f(text, "Pseudonym key store: /var/lib/bg/keys", true)
	f(text, "destroyed 720h (30 days) after its period ends (privacy.key_retention)", true)
	f(text, "Audit log: /var/lib/bg/audit.log", true)
	f(text, "Suppression list: /var/lib/bg/suppressed.txt", true)

	_, _, text = render(t, build(t, parse(t, derived+"privacy: {key_store: true, audit_log: false, suppression_file: /etc/bg/suppressed.txt}\n")))
	f(text, "kept until destroyed with beacongate keys forget; set privacy.key_retention", true)
	f(text, "Suppression list: /etc/bg/suppressed.txt", true)
	f(text, "Audit log: off (privacy.audit_log: false).", true)

	// Every kind of destination whose retention beacongate does not set is named.
	_, _, text = render(t, build(t, parse(t, "")))
	f(text, "Retention at HTTP, Kafka, NATS and ad platform destinations is set by their operators", true)
}

// TestReportNamesTheBLESpool: with ble.output: aggregates every sighting's
// record (with its daily visitor hash) is kept in the gateway's own BLE
// spool, <data_dir>/ble-spool, until its day's aggregates are sent; section
// 7, which names every store the gateway keeps, left it out (section 8
// named neither its path nor its quarantine).
func TestReportNamesTheBLESpool(t *testing.T) {
	md, _, _ := render(t, build(t, parse(t, "server: {data_dir: /var/lib/bg}\nble: {output: aggregates}\n")))
	_, storage, _ := strings.Cut(md, "## 7. Storage and retention")
	storage, _, _ = strings.Cut(storage, "## 8. ")
	for _, s := range []string{"BLE spool (`ble.output: aggregates`): `/var/lib/bg/ble-spool`", "`/var/lib/bg/ble-spool/quarantine`"} {
		if !strings.Contains(storage, s) {
			t.Errorf("section 7 lacks %q:\n%s", s, storage)
		}
	}
	md, _, _ = render(t, build(t, parse(t, "server: {data_dir: /var/lib/bg}\n")))
	if strings.Contains(md, "BLE spool (") {
		t.Error("with ble.output: sightings the report names a BLE spool the gateway does not keep")
	}
}

// TestReportRetentionAuditClaimFollowsTheAuditLog: with privacy.audit_log
// false nothing is recorded in an audit log, yet the report told the
// auditor that each deletion of a file destination's expired files was.
func TestReportRetentionAuditClaimFollowsTheAuditLog(t *testing.T) {
	const keep = "privacy:\n  retention: {local: 395d}\n"
	md, _, _ := render(t, build(t, parse(t, keep+"  audit_log: false\n")))
	if strings.Contains(md, "recorded in the audit log") {
		t.Errorf("with privacy.audit_log: false the report says deletions are recorded in the audit log")
	}
	md, _, _ = render(t, build(t, parse(t, keep+"  audit_log: true\n")))
	if !strings.Contains(md, "logged, counted and recorded in the audit log") {
		t.Errorf("with privacy.audit_log: true the report no longer says deletions are audited")
	}
}

// TestReportHasNoEmptyItem: the storage section of a gateway without a BLE
// spool (ble.output: sightings, the default) had an empty item, "- " in
// the Markdown and an empty <li> in the HTML, where the BLE spool's
// statement would be: a blank bullet in the record of processing reads as
// a statement left out.
func TestReportHasNoEmptyItem(t *testing.T) {
	for _, yaml := range []string{"", "ble: {output: aggregates}\n"} {
		md, html, _ := render(t, build(t, parse(t, yaml)))
		for i, l := range strings.Split(md, "\n") {
			if strings.TrimSpace(l) == "-" {
				t.Errorf("config %q: Markdown line %d is an empty item", yaml, i+1)
			}
		}
		if strings.Contains(html, "<li></li>") {
			t.Errorf("config %q: the HTML has an empty <li>", yaml)
		}
	}
}

// TestReportOfTheDefaultConfigNamesNoFile: beacongate report without
// -config (the embedded default, as the gateway runs without -config)
// said it was "Generated from `default.yaml`", a file the operator and the
// auditor do not have; it says the embedded default config.
func TestReportOfTheDefaultConfigNamesNoFile(t *testing.T) {
	md, _, _ := render(t, build(t, config.Default()))
	if !strings.Contains(md, "Generated from `the embedded default config`") || strings.Contains(md, "default.yaml") {
		_, head, _ := strings.Cut(md, "Generated from")
		head, _, _ = strings.Cut(head, "\n")
		t.Errorf("the report of the default config says: Generated from%s", head)
	}
}
