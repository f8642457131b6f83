package gateway

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/clock"
)

// TestReadmeBLEFieldsRead: the README called the pixel's parameters and
// the beacon's keys one vocabulary and applied the request's fields to
// every sighting, while a BLE ping keeps no uid, cid, eid, url or ref on
// any sighting (it checks them, then drops them). Its BLE section now says
// which request fields a ping reads and which it drops; this test sends
// each key of the vocabulary table with a valid value on a BLE ping,
// sees whether the sighting's event changes, and compares both lists with
// the README's sentence.
func TestReadmeBLEFieldsRead(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n### BLE pings\n")
	if !ok {
		t.Fatal("README has no BLE pings section")
	}
	section, _, _ = strings.Cut(section, "\n### ")
	section = strings.Join(strings.Fields(section), " ")
	m := regexp.MustCompile("Of the request vocabulary a BLE ping reads (.*?), applied to every sighting.*?; (.*?) are checked as in a beacon").FindStringSubmatch(section)
	if m == nil {
		t.Fatal("the README's BLE section does not say which request fields a ping reads (\"Of the request vocabulary a BLE ping reads ..., applied to every sighting ...; ... are checked as in a beacon\")")
	}
	names := func(s string) []string {
		var out []string
		for _, n := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(s, -1) {
			out = append(out, n[1])
		}
		slices.Sort(out)
		return out
	}
	docRead, docDropped := names(m[1]), names(m[2])

	rec := &recorder{}
	d := newDriver(New(Settings{Handler: rec, Clock: clock.Fixed(bleNow)}, nil), "192.0.2.9")
	post := func(extra string) string {
		t.Helper()
		rec.events = rec.events[:0]
		body := `{"site":"r","store":"s1",` + extra + `"sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50}]}`
		resp := d.do(rawRequest("POST", "/ble", []byte(body), "Content-Type", "application/json"))
		if resp.StatusCode() != 204 || len(rec.events) != 1 {
			t.Fatalf("%s: %d %s, %d events", extra, resp.StatusCode(), resp.Body(), len(rec.events))
		}
		return fmt.Sprintf("%+v", rec.events[0])
	}
	base := post("")
	read, dropped := []string{"site"}, []string(nil) // site is required: read
	for _, f := range []struct{ key, value string }{
		{"event", `"x"`}, {"url", `"https://shop.example/a"`}, {"ref", `"https://www.example.com/"`},
		{"uid", `"u-1"`}, {"cid", `"c-1"`}, {"eid", `"abcdefgh1234"`}, {"props", `{"a":"b"}`},
		{"gdpr", `1`}, {"gdpr_consent", `"CPx"`}, {"gcs", `"G111"`}, {"gcd", `"13r3r3r3r5l1"`},
		{"us_privacy", `"1YNN"`}, {"gpp", `"DBABMA~CPx"`}, {"gpp_sid", `"2"`}, {"consent", `"analytics"`},
	} {
		if post(`"`+f.key+`":`+f.value+`,`) == base {
			dropped = append(dropped, f.key)
		} else {
			read = append(read, f.key)
		}
	}
	slices.Sort(read)
	slices.Sort(dropped)
	if !slices.Equal(read, docRead) {
		t.Errorf("the README says a BLE ping reads %v; it reads %v", docRead, read)
	}
	if !slices.Equal(dropped, docDropped) {
		t.Errorf("the README says a BLE ping drops %v; it drops %v", docDropped, dropped)
	}
}
