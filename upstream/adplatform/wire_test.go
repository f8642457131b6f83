package adplatform_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/adwire"
	"github.com/beacongate/beacongate/upstream/adplatform"
)

// fullRecord is a record of kind ("pixel" or "ble") with every member the
// record schema has set to a value of its own, contact in platform p's
// form (GA4: city, zip and country in clear), without the members in
// omit.
func fullRecord(t *testing.T, p adplatform.Platform, kind string, omit ...string) []byte {
	t.Helper()
	h := func(s string) string { x := sha256.Sum256([]byte(s)); return hex.EncodeToString(x[:]) }
	contact := map[string]any{"em": h("em"), "ph": h("ph"), "fn": h("fn"), "ln": h("ln"), "ct": h("ct"), "zp": h("zp"),
		"country": h("country"), "external_id": h("external_id")}
	if p == adplatform.GA4 {
		contact["ct"], contact["zp"], contact["country"] = "markercity", "zp9999", "zz"
	}
	r := map[string]any{"v": 1, "id": "recordid0000000000000a", "eid": "marker-eid", "received": "2026-12-04T10:00:00.123Z",
		"kind": kind, "site": "shop", "event": "marker_event",
		"consent": map[string]any{"state": "ads", "purposes": []string{"analytics", "ads", "personalization"}, "signal": "explicit"},
		"policy":  "33cd4c5a2017", "ip": "81.2.69.0",
		"geo":        map[string]any{"continent": "EU", "country": "GB", "region": "ENG", "city": "MarkerTown", "lat": 51.5, "lon": -0.1},
		"ua":         map[string]any{"browser": "MarkerBrowser", "browser_major": 131, "os": "MarkerOS", "device": "desktop", "bot": false},
		"user_agent": "Mozilla/5.0 (marker-user-agent)", "url": "/marker-path", "referrer": "https://news.example/marker-ref",
		"user": "markerUserPseudonym000", "client": "markerClientPseudonym0", "visitor": "markerVisitorHash00000",
		"lang": "xx", "props": map[string]any{"marker_prop": "marker-prop-value", "marker_num": 4242.5},
		"contact": contact,
		"click": map[string]any{"gclid": "marker-gclid", "gbraid": "marker-gbraid", "wbraid": "marker-wbraid", "ttclid": "marker-ttclid",
			"ttp": "marker-ttp", "fbp": "fb.1.1733306400123.11111", "fbc": "fb.1.1733306400123.marker", "ga_client_id": "222.333"},
		"scrubbed": []string{"email"},
	}
	if kind == "ble" {
		r["ble"] = map[string]any{"store": "marker-store", "sensor": "marker-sensor", "zone": "marker-zone", "uuid": "f7826da6-4fa2-4e98-8024-bc5b71e0893e",
			"major": 7, "minor": 9, "rssi": -60, "seen": "2026-12-04T10:00:01.456Z", "device": "markerDevicePseudonym0", "device_kind": "mac"}
	}
	for _, k := range omit {
		if m, sub, ok := strings.Cut(k, "."); ok {
			delete(r[m].(map[string]any), sub)
		} else {
			delete(r, k)
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// leaves flattens v into path → value for its strings and numbers
// ("[]" for an array element).
func leaves(prefix string, v any, out map[string][]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			leaves(p, e, out)
		}
	case []any:
		for _, e := range x {
			leaves(prefix+"[]", e, out)
		}
	case string:
		out[prefix] = append(out[prefix], x)
	case float64:
		out[prefix] = append(out[prefix], strconv.FormatFloat(x, 'f', -1, 64))
	}
}

// TestWireDescriptionIsWhatTheMappingSends sends records with every member
// set, web and BLE, through each platform's sink to its contract server,
// and checks that the record members the requests carry, where and in
// what form, are exactly those adwire.Fields describes: the record of
// processing and beacongate subject tell officers and auditors what each
// platform receives from that description.
func TestWireDescriptionIsWhatTheMappingSends(t *testing.T) {
	for _, p := range []adplatform.Platform{adplatform.Meta, adplatform.GA4, adplatform.TikTok} {
		t.Run(p.String(), func(t *testing.T) {
			desc := adwire.Fields(adwire.Platform(p))
			var unless []string
			for _, f := range desc {
				if f.Unless != "" {
					unless = append(unless, f.Unless)
				}
			}
			srv, s, _, _ := setup(t, p, func(o *adplatform.Options) { o.OfflineEventSetID = "7123456789012345678" })
			srv.SetSourceID("offline", "7123456789012345678")
			var recs [][]byte
			for _, kind := range []string{"pixel", "ble"} {
				recs = append(recs, fullRecord(t, p, kind), fullRecord(t, p, kind, unless...))
			}
			// The record's members by value: every value is its own.
			byValue := map[string]string{}
			shared := map[string]bool{} // values of several members (consent's "ads"): not told apart
			for _, rec := range recs {
				var m map[string]any
				if err := json.Unmarshal(rec, &m); err != nil {
					t.Fatal(err)
				}
				lv := map[string][]string{}
				leaves("", m, lv)
				for path, vs := range lv {
					for _, v := range vs {
						if o, ok := byValue[v]; ok && o != path || shared[v] {
							shared[v] = true
							delete(byValue, v)
							continue
						}
						byValue[v] = path
					}
				}
			}
			members := map[string]bool{}
			for _, m := range byValue {
				members[m] = true
			}
			for _, m := range []string{"ip", "user_agent", "url", "referrer", "user", "client", "visitor", "lang", "geo.city", "ble.device", "eid", "id", "event"} {
				if !members[m] {
					t.Fatalf("test record: %s has no value of its own", m)
				}
			}
			if err := send(s, batch(0, recs...)); err != nil {
				t.Fatalf("send: %v", err)
			}
			if got := srv.Stats().Events; got != len(recs) {
				t.Fatalf("the platform took %d events of %d", got, len(recs))
			}
			type pair struct{ record, wire string }
			found := map[pair]adwire.Form{}
			collect := func(prefix string, raw []byte) {
				var v any
				if err := json.Unmarshal(raw, &v); err != nil {
					t.Fatal(err)
				}
				lv := map[string][]string{}
				leaves(prefix, v, lv)
				for wire, vs := range lv {
					for _, v := range vs {
						form := adwire.Recorded
						member, ok := byValue[v]
						if !ok && strings.HasPrefix(v, "https://shop.example/") {
							member, ok = byValue[strings.TrimPrefix(v, "https://shop.example")]
							form = adwire.URL
						}
						if !ok {
							continue // not a record's value: the event's time, source, consent flags, ...
						}
						if strings.HasPrefix(member, "contact.") {
							form = adwire.Hashed
							if len(v) != 64 {
								form = adwire.Clear
							}
						}
						if k, ok := strings.CutPrefix(member, "props."); ok {
							member, wire = "props", strings.TrimSuffix(wire, "."+k)+".*"
						}
						found[pair{member, wire}] = form
					}
				}
			}
			events := "data[]"
			if p == adplatform.GA4 {
				events = "events[]"
				for _, env := range srv.Envelopes() {
					collect("", []byte(env))
				}
			}
			for _, e := range srv.Events() {
				collect(events, e.Raw)
			}
			want := map[pair]adwire.Form{}
			for _, f := range desc {
				want[pair{f.Record, f.Wire}] = f.Form
			}
			var diff []string
			for k, form := range found {
				if wf, ok := want[k]; !ok {
					diff = append(diff, "sent but not described: record "+k.record+" as "+k.wire+" ("+form.String()+")")
				} else if wf != form {
					diff = append(diff, "record "+k.record+" as "+k.wire+": sent "+form.String()+", described "+wf.String())
				}
			}
			for k := range want {
				if _, ok := found[k]; !ok {
					diff = append(diff, "described but not sent: record "+k.record+" as "+k.wire)
				}
			}
			sort.Strings(diff)
			if len(diff) > 0 {
				t.Errorf("adwire.Fields(%v) is not what the mapping sends:\n%s", p, strings.Join(diff, "\n"))
			}
			if !slices.ContainsFunc(desc, func(f adwire.Field) bool { return f.Record == "props" }) {
				t.Error("no props in the description")
			}
			// A field described With a member is not sent from a record
			// without that member (GA4: no user_data without a user_id).
			withs := map[string][]adwire.Field{}
			for _, f := range desc {
				if f.With != "" {
					withs[f.With] = append(withs[f.With], f)
				}
			}
			for with, fs := range withs {
				srv, s, _, _ := setup(t, p, nil)
				if err := send(s, batch(0, fullRecord(t, p, "pixel", with))); err != nil {
					t.Fatalf("send a record without %s: %v", with, err)
				}
				var raw []string
				for _, e := range srv.Events() {
					raw = append(raw, string(e.Raw))
				}
				raw = append(raw, srv.Envelopes()...)
				all := strings.Join(raw, "\n")
				if all == "" {
					t.Fatalf("a record without %s: nothing sent", with)
				}
				for _, f := range fs {
					if top, _, _ := strings.Cut(strings.TrimPrefix(f.Wire, "events[]."), "."); strings.Contains(all, `"`+strings.TrimSuffix(top, "[]")+`"`) {
						t.Errorf("a record without %s: %s sent as %s, described as sent only with %s", with, f.Record, f.Wire, with)
					}
				}
			}
		})
	}
}
