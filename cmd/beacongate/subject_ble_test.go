package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// bleRecord is what a data-subject lookup needs of a BLE record.
type bleRecord struct {
	Kind     string    `json:"kind"`
	Received time.Time `json:"received"`
	Visitor  string    `json:"visitor"`
	BLE      struct {
		Device     string `json:"device"`
		DeviceKind string `json:"device_kind"`
	} `json:"ble"`
}

// The devices of the BLE data-subject tests, as their sensors and apps
// send them: a MAC (sent upper-case), an advertising id (an IDFA, sent
// upper-case as iOS writes it) and a bystander's MAC.
const (
	dsrMACSent   = "A4:5E:60:E8:1B:2C"
	dsrAdIDSent  = "38400000-8CF0-11BD-B23E-10B96E40000D"
	dsrOtherMAC  = "00:1a:2b:00:00:01"
	dsrAdIDLower = "38400000-8cf0-11bd-b23e-10b96e40000d"
)

// bleDSRFixture drives real BLE sightings through a gateway on 127.0.0.1
// with a pinned clock, on two days (the first keyed from the secret, the
// second with a stored random key), and returns the BLE records written
// and a lookup that runs "beacongate subject" as a privacy officer would.
func bleDSRFixture(t *testing.T) ([]bleRecord, func(args ...string) (dsrReport, bool), func(args ...string) (int, string)) {
	t.Helper()
	day1 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	clk := pinClocks(t, day1)

	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef-ble-dsr\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeE2EConfig(t, dir, "c.yaml", `pseudonym:
  mode: derived
  secret_file: `+secret+`
privacy:
  key_store: true
`)
	body := `{"site":"shop","store":"berlin-01","sensor":"gate-3","consent":"analytics","sightings":[
 {"uuid":"f7826da6-4fa2-4e98-8024-bc5b71e0893e","major":100,"minor":7,"rssi":-67,"mac":"` + dsrMACSent + `"},
 {"uuid":"f7826da6-4fa2-4e98-8024-bc5b71e0893e","major":100,"minor":7,"rssi":-70,"adid":"` + dsrAdIDSent + `"},
 {"uuid":"f7826da6-4fa2-4e98-8024-bc5b71e0893e","major":100,"minor":7,"rssi":-60,"mac":"` + dsrOtherMAC + `"}]}`
	g := startStoryGateway(t, cfgPath, data)
	post := func() {
		t.Helper()
		resp, err := http.Post(g.url+"/ble", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("POST /ble: %d", resp.StatusCode)
		}
	}
	post()
	clk.Advance(24 * time.Hour)
	post()
	g.stop(t)

	raw, _ := readOut(t, filepath.Join(data, "out"))
	var recs []bleRecord
	for _, line := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
		var r bleRecord
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if r.Kind != "ble" || r.BLE.Device == "" || r.Visitor == "" {
			t.Fatalf("a BLE record without its device pseudonym or visitor hash: %s", line)
		}
		recs = append(recs, r)
	}
	if len(recs) != 6 {
		t.Fatalf("%d BLE records, want 6 (3 sightings on each of 2 days)", len(recs))
	}

	run := func(args ...string) (int, string) {
		t.Helper()
		return cli(t, append([]string{"subject", "-config", cfgPath, "-data", data, "-site", "shop",
			"-from", "2026-03-10", "-to", "2026-03-12"}, args...)...)
	}
	lookup := func(args ...string) (dsrReport, bool) {
		t.Helper()
		var rep dsrReport
		code, out := run(append([]string{"-format", "json"}, args...)...)
		if code != 0 {
			t.Errorf("subject %v: exit %d\n%s", args, code, out)
			return rep, false
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("subject %v -format json: %v\n%s", args, err, out)
		}
		for _, id := range []string{"a4:5e", "A4:5E", "a4-5e", "a45e", "38400000"} {
			if strings.Contains(out, id) {
				t.Errorf("subject %v: the output repeats the device id:\n%s", args, out)
			}
		}
		return rep, true
	}
	return recs, lookup, run
}

// dsrReport is what the tests read of "subject -format json".
type dsrReport struct {
	Fields  []string
	Periods []struct {
		Start     time.Time
		Key       string
		Pseudonym string
		Device    []string
	}
	VisitorDays []struct {
		Start   time.Time
		Key     string
		Visitor []string
	} `json:"visitor_days"`
	Notes []string
}

// dsrDay returns which of the fixture's days (0 or 1) t falls on.
func dsrDay(t time.Time) int {
	if t.Before(time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)) {
		return 0
	}
	return 1
}

// TestSubjectFindsBLEDevices: a privacy officer gives a shopper's MAC in
// whatever notation the shopper or a sensor's label uses (upper case,
// dashes, Cisco dots) with -kind mac, or the IDFA as iOS shows it (upper
// case) with -kind adid;
// "subject" finds, on each day, the pseudonym the records carry in
// ble.device, and never the bystander's. Until the fix it hashed the id
// as typed (a pseudonym no record holds) and refused -kind mac|adid.
func TestSubjectFindsBLEDevices(t *testing.T) {
	recs, lookup, run := bleDSRFixture(t)
	// The device pseudonyms the records carry, by device kind and day: each
	// post lists the shopper's MAC first, then the ad id, then the
	// bystander's MAC.
	want := map[string]*[2]string{"mac": {}, "adid": {}}
	var other [2]string
	for d := range 2 {
		var macs []string
		for _, r := range recs {
			switch {
			case dsrDay(r.Received) != d:
			case r.BLE.DeviceKind == "mac":
				macs = append(macs, r.BLE.Device)
			case r.BLE.DeviceKind == "adid":
				want["adid"][d] = r.BLE.Device
			}
		}
		if len(macs) != 2 || macs[0] == macs[1] || want["adid"][d] == "" {
			t.Fatalf("day %d: MAC pseudonyms %v, ad id %q; want two distinct and one", d+1, macs, want["adid"][d])
		}
		want["mac"][d], other[d] = macs[0], macs[1]
	}
	cases := []struct {
		kind string
		args []string
	}{
		{"mac", []string{"-kind", "mac", "-id", "A4:5E:60:E8:1B:2C"}},
		{"mac", []string{"-kind", "mac", "-id", "a4-5e-60-e8-1b-2c"}},
		{"mac", []string{"-kind", "mac", "-id", "A45E.60E8.1B2C"}},
		{"mac", []string{"-kind", "mac", "-id", "a45e60e81b2c"}},
		{"mac", []string{"-kind", "mac", "-id", "a45e.60e8.1b2c"}},
		{"adid", []string{"-kind", "adid", "-id", dsrAdIDSent}},
		{"adid", []string{"-kind", "adid", "-id", dsrAdIDLower}},
	}
	for _, c := range cases {
		rep, ok := lookup(c.args...)
		if !ok {
			continue
		}
		if len(rep.Periods) != 2 {
			t.Fatalf("subject %v: %d periods, want 2", c.args, len(rep.Periods))
		}
		for d, p := range rep.Periods {
			found := append([]string{p.Pseudonym}, p.Device...)
			has := func(ps string) bool {
				for _, f := range found {
					if f == ps {
						return true
					}
				}
				return false
			}
			if !has(want[c.kind][d]) {
				t.Errorf("subject %v, day %d: pseudonyms %v; the records carry %s in ble.device", c.args, d+1, found, want[c.kind][d])
			}
			if has(other[d]) {
				t.Errorf("subject %v, day %d: finds the bystander's MAC", c.args, d+1)
			}
		}
		if !strings.Contains(strings.Join(rep.Fields, " "), "device") {
			t.Errorf("subject %v: fields %v; want device among them", c.args, rep.Fields)
		}
	}
	// A MAC kind whose id is not a MAC is refused, naming the flag only.
	code, out := run("-kind", "mac", "-id", "not-a-mac-x1")
	if code != 2 || !strings.Contains(out, "-id") || strings.Contains(out, "not-a-mac-x1") {
		t.Errorf("-kind mac with another id: exit %d\n%s", code, out)
	}
}

// TestSubjectFindsBLEVisitorHashes: a BLE sighting's visitor hash is keyed
// by the site and the device id per UTC day, so "subject" computes it from
// the device id, in any notation, for each day of the range; it finds the
// visitor field of every record of the shopper's devices, and not the
// bystander's. A randomized MAC gets none. Until the fix the lookup said
// the visitor hash "cannot be looked up from this identifier".
func TestSubjectFindsBLEVisitorHashes(t *testing.T) {
	recs, lookup, run := bleDSRFixture(t)
	// The visitor hashes the records carry, by device and day (each post
	// lists the shopper's MAC, the ad id, the bystander's MAC).
	var mac, adid, other [2]string
	for d := range 2 {
		var vs []string
		for _, r := range recs {
			if dsrDay(r.Received) == d {
				vs = append(vs, r.Visitor)
			}
		}
		if len(vs) != 3 || vs[0] == vs[1] || vs[0] == vs[2] || vs[1] == vs[2] {
			t.Fatalf("day %d: visitor hashes %v; want three distinct", d+1, vs)
		}
		mac[d], adid[d], other[d] = vs[0], vs[1], vs[2]
	}
	cases := []struct {
		want [2]string
		args []string
	}{
		{mac, []string{"-kind", "mac", "-id", "A4:5E:60:E8:1B:2C"}},
		{mac, []string{"-kind", "mac", "-id", "a4-5e-60-e8-1b-2c"}},
		{mac, []string{"-kind", "mac", "-id", "A45E.60E8.1B2C"}},
		{adid, []string{"-kind", "adid", "-id", dsrAdIDSent}},
	}
	for _, c := range cases {
		rep, ok := lookup(c.args...)
		if !ok {
			continue
		}
		if len(rep.VisitorDays) != 2 {
			t.Errorf("subject %v: %d visitor days, want 2 (2026-03-10 and 11)", c.args, len(rep.VisitorDays))
			continue
		}
		for d, day := range rep.VisitorDays {
			if !slices.Contains(day.Visitor, c.want[d]) || slices.Contains(day.Visitor, other[d]) {
				t.Errorf("subject %v, day %d (key %s): visitor hashes %v; the records carry %s", c.args, d+1, day.Key, day.Visitor, c.want[d])
			}
		}
		if notes := strings.Join(rep.Notes, "\n"); strings.Contains(notes, "cannot be looked up from it") && !strings.Contains(notes, "web event") {
			t.Errorf("subject %v: the notes still say the visitor hash cannot be looked up:\n%s", c.args, notes)
		}
	}
	if code, out := run("-kind", "mac", "-id", "a4:5e:60:e8:1b:2c"); code != 0 || !strings.Contains(out, mac[0]) || !strings.Contains(out, mac[1]) {
		t.Errorf("subject text output (exit %d) lacks the visitor hashes %v:\n%s", code, mac, out)
	}
	// A phone's randomized address is never a visitor: no hash to give.
	if rep, ok := lookup("-kind", "mac", "-id", "DA:1A:2B:00:00:01"); ok {
		for _, day := range rep.VisitorDays {
			if len(day.Visitor) > 0 {
				t.Errorf("randomized MAC: visitor hashes %v on %s; want none", day.Visitor, day.Start)
			}
		}
	}
}
