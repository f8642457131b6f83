package gateway

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize/consent/tctest"
	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestSignalsExamples sends each request of SIGNALS.md's fail-closed
// examples table through the gateway and the real engine, and checks that
// the record allows exactly the purposes the table says, decided by the
// signal it names. A sentence there that stops matching behaviour fails.
func TestSignalsExamples(t *testing.T) {
	doc, err := os.ReadFile("../anonymize/consent/SIGNALS.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(doc), "<!-- fail-closed examples: checked by gateway TestSignalsExamples -->")
	table, _, ok2 := strings.Cut(table, "<!-- end -->")
	if !ok || !ok2 {
		t.Fatal("SIGNALS.md has no fail-closed examples table")
	}
	now := clocktest.Golden
	tc := func(change func(*tctest.Spec)) string {
		s := tctest.Valid(now.Add(-24 * time.Hour))
		change(&s)
		return s.Encode()
	}
	tcs := map[string]string{
		"TC_OLD":       tc(func(s *tctest.Spec) { s.Created = now.AddDate(0, -14, 0) }),
		"TC_FUTURE":    tc(func(s *tctest.Spec) { s.Created = now.Add(time.Hour) }),
		"TC_BACKWARDS": tc(func(s *tctest.Spec) { s.LastUpdated = s.Created.Add(-time.Hour) }),
		"TC":           tc(func(*tctest.Spec) {}),
		"TC_OTHER":     tc(func(s *tctest.Spec) { s.CMPID = 31 }),
		"TC_NO_DV":     tc(func(s *tctest.Spec) { s.Disclosed = nil }),
	}
	names := []string{"TC_OLD", "TC_FUTURE", "TC_BACKWARDS", "TC_OTHER", "TC_NO_DV", "TC"} // longer names first
	p := newPipelineGateway(t, goldenConfig, "", now)
	dr := newDriver(p.g, "81.2.69.142")
	rows := 0
	for _, line := range strings.Split(table, "\n") {
		cells := splitRow(line)
		if len(cells) != 3 || !strings.HasPrefix(cells[0], "`") {
			continue
		}
		rows++
		parts := strings.Split(cells[0], " + ")
		query := trimTicks(parts[0])
		for _, name := range names {
			query = strings.ReplaceAll(query, name, tcs[name])
		}
		var headers []string
		for _, h := range parts[1:] {
			k, v, _ := strings.Cut(trimTicks(h), ": ")
			for _, name := range names {
				v = strings.ReplaceAll(v, name, tcs[name])
			}
			headers = append(headers, k, v)
		}
		p.sp.records = p.sp.records[:0]
		dr.do(rawRequest("GET", "/p.gif?site=s&"+query, nil, headers...))
		if len(p.sp.records) != 1 {
			t.Errorf("%s: %d records; want the event kept", cells[0], len(p.sp.records))
			continue
		}
		var rec struct {
			Consent struct {
				Purposes []string
				Signal   string
			}
		}
		if err := json.Unmarshal([]byte(p.sp.records[0]), &rec); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(rec.Consent.Purposes, ", ")
		if got == "" {
			got = "nothing"
		}
		if got != cells[1] || rec.Consent.Signal != cells[2] {
			t.Errorf("%s: allowed %q decided by %s; SIGNALS.md says %q decided by %s", cells[0], got, rec.Consent.Signal, cells[1], cells[2])
		}
	}
	if rows < 10 {
		t.Fatalf("%d example rows; want the whole table", rows)
	}
}

// splitRow returns the cells of a Markdown table row, or nil.
func splitRow(line string) []string {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "|") {
		return nil
	}
	var cells []string
	for _, c := range strings.Split(strings.Trim(line, "|"), "|") {
		cells = append(cells, strings.TrimSpace(c))
	}
	return cells
}

// trimTicks removes the backticks around a code cell.
func trimTicks(s string) string { return strings.Trim(strings.TrimSpace(s), "`") }
