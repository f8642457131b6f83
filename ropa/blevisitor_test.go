package ropa

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/plan"
)

// TestReportSaysBLEVisitorHashIsOfTheDevice: with ble.output: sightings, a
// policy that drops device ids but keeps the visitor hash sends each BLE
// sighting's daily keyed hash of its MAC (or ad id) to the destination.
// The real engine shows it (same address and agent, two MACs: two hashes;
// same MAC from two addresses: one). On the code before, the report said
// device ids were "not recorded" and the visitor hash came from "the site,
// the IP address and the reduced user agent", so a record of processing
// generated from retail-ble.yaml with sightings never named the device id
// among what the destination gets.
func TestReportSaysBLEVisitorHashIsOfTheDevice(t *testing.T) {
	cfg, err := config.Load("../examples/retail-ble.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.BLE.Output = config.BLEOutputSightings
	now := clocktest.Golden
	secret, _ := pseudonym.NewSecret([]byte("ble-visitor-secret-0123456789abcd"))
	keys, err := pseudonym.New(pseudonym.Options{Mode: pseudonym.Derived, Secret: secret, Period: 24 * time.Hour, Clock: clock.Fixed(now)})
	if err != nil {
		t.Fatal(err)
	}
	en, err := anonymize.New(compile(t, cfg), anonymize.Deps{Keys: keys, Clock: clock.Fixed(now)})
	if err != nil {
		t.Fatal(err)
	}
	site := cfg.Sites[0].ID
	visitor := func(mac, ip string) string {
		e := claimsEvent(cfg, site, "none", true, now)
		e.Sighting.DeviceID = []byte(mac)
		e.ClientIP = e.ClientIP.Next()
		if ip != "" {
			e.ClientIP = e.ClientIP.Prev().Prev()
		}
		recs, _ := en.Recipients(e)
		var rec struct {
			Visitor string          `json:"visitor"`
			BLE     json.RawMessage `json:"ble"`
		}
		if !recs[0].Gets {
			t.Fatalf("the destination gets nothing: %s", recs[0].Why)
		}
		if err := json.Unmarshal(recs[0].Record, &rec); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(rec.BLE), `"device"`) {
			t.Fatalf("device_id: drop, yet a device field: %s", recs[0].Record)
		}
		return rec.Visitor
	}
	a, b, a2 := visitor("a4:5e:60:e8:1b:2c", ""), visitor("a4:5e:60:e8:1b:2d", ""), visitor("a4:5e:60:e8:1b:2c", "other")
	if a == "" || a == b || a != a2 {
		t.Fatalf("visitor hashes %q %q %q: want one per device, whatever the address", a, b, a2)
	}

	r := build(t, cfg)
	var dev, vis *FieldRule
	for i, f := range r.Destinations[0].Rules[plan.StateNone] {
		switch f.Field {
		case "device_id":
			dev = &r.Destinations[0].Rules[plan.StateNone][i]
		case "visitor_hash":
			vis = &r.Destinations[0].Rules[plan.StateNone][i]
		}
	}
	if dev == nil || vis == nil || !vis.Kept {
		t.Fatalf("rules %+v", r.Destinations[0].Rules[plan.StateNone])
	}
	if !strings.Contains(vis.Source, "device id") || !strings.Contains(vis.Treatment, "device id") {
		t.Errorf("the visitor hash rule does not say a BLE sighting's is a hash of its device id:\n%s\n%s", vis.Source, vis.Treatment)
	}
	if !strings.Contains(dev.Treatment, "visitor hash") {
		t.Errorf("the device id rule says %q, not that the visitor hash is a hash of it", dev.Treatment)
	}
	var md strings.Builder
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "device id (MAC") {
		t.Errorf("the rendered report does not name the device id as the BLE visitor hash's source")
	}

	// With aggregates no sighting record reaches a destination: the rule
	// stays as it was.
	cfg.BLE.Output = config.BLEOutputAggregates
	r = build(t, cfg)
	for _, f := range r.Destinations[0].Rules[plan.StateNone] {
		if f.Field == "device_id" && f.Treatment != "not recorded" {
			t.Errorf("aggregates: device id rule %q", f.Treatment)
		}
	}
}

// TestPseudonymSectionSaysBLEVisitorHashIsOfTheDevice: section 4 said of
// the visitor hash "It counts unique visitors without any identifier",
// for every config, while a BLE sighting's visitor hash is a daily keyed
// hash of its device id (the field table of section 3 says so, and
// beacongate subject recomputes it from a MAC): the record of processing
// contradicted itself and understated what a destination gets.
func TestPseudonymSectionSaysBLEVisitorHashIsOfTheDevice(t *testing.T) {
	for _, c := range []struct{ yaml, where string }{
		{"", "it is in the visitor field of the BLE records the destinations get"},
		{"ble: {output: aggregates}\n", "it stays in the BLE spool's records, which no destination gets"},
	} {
		md, _, _ := render(t, build(t, parse(t, c.yaml)))
		sec := md[strings.Index(md, "## 4. Pseudonyms"):strings.Index(md, "## 5. ")]
		if strings.Contains(sec, "It counts unique visitors without any identifier") {
			t.Errorf("config %q: section 4 says every visitor hash is without an identifier:\n%s", c.yaml, sec)
		}
		for _, want := range []string{"For a web event it counts unique visitors without any identifier",
			"A BLE sighting's visitor hash is not of that kind: it is a keyed hash of the site and the sighting's device id", c.where} {
			if !strings.Contains(sec, want) {
				t.Errorf("config %q: section 4 lacks %q:\n%s", c.yaml, want, sec)
			}
		}
	}
}
