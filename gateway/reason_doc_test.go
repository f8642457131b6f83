package gateway

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestReadmeReasonTable: the README's Endpoints section has a table of
// every reason a request is rejected for (the reason label of
// beacongate_gateway_rejected_total) with the status it is answered with,
// and it agrees with reasons: each reason once, under its status. The
// README named only some of them, in prose (unknown_site, empty_body,
// missing_store, no_sightings, invalid_sighting and too_many_props under
// none).
func TestReadmeReasonTable(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Endpoints\n")
	if !ok {
		t.Fatal("README has no Endpoints section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, table, ok := strings.Cut(section, "\n| status | `reason` |\n| --- | --- |\n")
	if !ok {
		t.Fatal("the Endpoints section has no status | reason table")
	}
	row := regexp.MustCompile("^\\| `(\\d{3})` \\| (.*) \\|$")
	name := regexp.MustCompile("`([a-z_0-9]+)`")
	aside := regexp.MustCompile(`\([^)]*\)`) // "(a site not listed under `sites`)"
	doc := map[string]int{}
	for _, line := range strings.Split(table, "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			break
		}
		status, _ := strconv.Atoi(m[1])
		for _, n := range name.FindAllStringSubmatch(aside.ReplaceAllString(m[2], ""), -1) {
			if _, dup := doc[n[1]]; dup {
				t.Errorf("the README's table lists %s twice", n[1])
			}
			doc[n[1]] = status
		}
	}
	for r := reason(1); r < numReasons; r++ {
		info := reasons[r]
		got, ok := doc[info.name]
		switch {
		case !ok:
			t.Errorf("the README's table lacks %s (%d)", info.name, info.status)
		case got != info.status:
			t.Errorf("the README's table has %s under %d; it is answered %d", info.name, got, info.status)
		}
		delete(doc, info.name)
	}
	for n := range doc {
		t.Errorf("the README's table lists %s, which is no reason", n)
	}
}
