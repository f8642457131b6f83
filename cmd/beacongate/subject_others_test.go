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

// TestSubjectListsNoOtherPersonsPseudonyms: a lookup without -kind takes
// the id as a user or client id, exactly as sent. It must not also list
// the pseudonyms of what the id would be as a store device (lower-cased,
// or read as a MAC): those are other identifiers, which may be other
// people's. Here user "Kim-Alice" and user "kim-alice" are two people on
// a site whose user ids are case-sensitive, and user "100000000001" (a
// customer number) is not the owner of the phone with the MAC
// 10:00:00:00:00:01. Before the fix the lookup of "Kim-Alice" listed
// kim-alice's user pseudonym as a "device" pseudonym, to be looked for in
// the user, client and device fields, and the lookup of the customer
// number listed the phone's device pseudonym and visitor hashes: an access
// or erasure answer holding another person's data.
func TestSubjectListsNoOtherPersonsPseudonyms(t *testing.T) {
	pinClocks(t, time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef-others\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeE2EConfig(t, dir, "c.yaml", "pseudonym:\n  mode: derived\n  secret_file: "+secret+"\n")
	g := startStoryGateway(t, cfgPath, data)
	g.pixel(t, "Kim-Alice")
	g.pixel(t, "kim-alice")
	g.pixel(t, "100000000001")
	resp, err := http.Post(g.url+"/ble", "application/json", strings.NewReader(`{"site":"shop","store":"berlin-01","sensor":"gate-3","consent":"analytics","sightings":[
 {"uuid":"f7826da6-4fa2-4e98-8024-bc5b71e0893e","major":100,"minor":7,"rssi":-67,"mac":"10:00:00:00:00:01"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /ble: %d", resp.StatusCode)
	}
	g.stop(t)

	raw, _ := readOut(t, filepath.Join(data, "out"))
	type record struct {
		User    string `json:"user"`
		Visitor string `json:"visitor"`
		BLE     struct {
			Device string `json:"device"`
		} `json:"ble"`
	}
	var recs []record
	for _, line := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
		var r record
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		recs = append(recs, r)
	}
	if len(recs) != 4 || recs[0].User == "" || recs[1].User == "" || recs[2].User == "" || recs[3].BLE.Device == "" || recs[3].Visitor == "" {
		t.Fatalf("want 3 pixel records with a user pseudonym and a BLE record with device and visitor:\n%s", raw)
	}

	listed := func(id string) []string {
		t.Helper()
		code, out := cli(t, "subject", "-config", cfgPath, "-data", data, "-site", "shop", "-id", id,
			"-from", "2026-03-10", "-to", "2026-03-11", "-format", "json")
		if code != 0 {
			t.Fatalf("subject -id %s: exit %d\n%s", id, code, out)
		}
		var rep subjectReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("subject -format json: %v\n%s", err, out)
		}
		var all []string
		for _, p := range rep.Periods {
			all = append(append(all, p.Pseudonym), p.Device...)
		}
		for _, d := range rep.VisitorDays {
			all = append(all, d.Visitor...)
		}
		return all
	}
	if got := listed("Kim-Alice"); !slices.Contains(got, recs[0].User) || slices.Contains(got, recs[1].User) {
		t.Errorf("subject -id Kim-Alice lists %v: want Kim-Alice's user pseudonym %s, never kim-alice's %s", got, recs[0].User, recs[1].User)
	}
	if got := listed("100000000001"); !slices.Contains(got, recs[2].User) || slices.Contains(got, recs[3].BLE.Device) || slices.Contains(got, recs[3].Visitor) {
		t.Errorf("subject -id 100000000001 lists %v: want the customer's user pseudonym %s, never the phone's device pseudonym %s or visitor hash %s",
			got, recs[2].User, recs[3].BLE.Device, recs[3].Visitor)
	}
}
