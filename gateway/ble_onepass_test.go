package gateway

import (
	"fmt"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/retail"
)

// blePair runs parseBLE and the reference (checkJSON, fastjson, then the
// fields) on one body, each with its own request state, and fails t unless
// both give the same answer (reason, field, place, detail) and, when they
// accept it, the same events.
type blePair struct {
	cfg      *compiled
	ctx      fasthttp.RequestCtx
	one, ref *request
}

func newBLEPair(t testing.TB, sites map[string][]string) *blePair {
	list, err := retail.NewOptOut([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	list.Add([]byte("a4:5e:60:c1:0d:2f"))
	list.Add([]byte("6d92078a-8246-4ba4-ae5b-76104861e7dc"))
	bp := &blePair{
		cfg: compile(Settings{Handler: &countingHandler{}, Clock: clock.Fixed(bleNow), Sites: sites, OptOut: list,
			Limits: Limits{MaxSightingsPerRequest: 6}}),
		one: new(request), ref: new(request),
	}
	bp.ctx.Request.Header.Set("User-Agent", "StoreSensor/2.1")
	bp.ctx.Request.Header.Set("Cookie", "euconsent-v2=CPx")
	return bp
}

func (bp *blePair) check(t *testing.T, body []byte) {
	t.Helper()
	bp.one.events, bp.ref.events = bp.one.events[:0], bp.ref.events[:0]
	bp.one.receivedAt, bp.ref.receivedAt = bleNow, bleNow
	bp.one.clientIP, bp.ref.clientIP = bleClient, bleClient
	got := parseBLE(&bp.ctx, bp.cfg, bp.one, body)
	want := refParseBLE(&bp.ctx, bp.cfg, bp.ref, body)
	if got != want {
		t.Fatalf("body %q:\n one pass  %+v\n reference %+v", body, got, want)
	}
	if got.bad() {
		return
	}
	if len(bp.one.events) != len(bp.ref.events) {
		t.Fatalf("body %q: %d events, reference %d", body, len(bp.one.events), len(bp.ref.events))
	}
	for i := range bp.one.events {
		// %+v prints a nil and an empty slice alike: buffers may differ
		// in capacity, never in content.
		if g, w := fmt.Sprintf("%+v", bp.one.events[i]), fmt.Sprintf("%+v", bp.ref.events[i]); g != w {
			t.Fatalf("body %q: event %d\n one pass  %s\n reference %s", body, i, g, w)
		}
	}
}

// bleOnePassSeeds are bodies that reach every branch: each field of the
// request and of a sighting, right and wrong, escapes in names and values,
// repeated members, shared fields after the list, value faults behind field
// problems and syntax errors behind both.
var bleOnePassSeeds = []string{
	`{"site":"r","store":"s","sightings":[{"uuid":"F7826DA6-4FA2-4E98-8024-BC5B71E0893E","major":1,"minor":2,"rssi":-3,"ts":1795520400,"mac":"aa-bb-cc-dd-ee-ff"}]}`,
	`{"sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50}],"site":"r","store":"s","event":"x","props":{"a":1}}`,
	`{"site":"r","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50}],"sightings":null}`,
	`{"site":"r","store":"s","sightings":[1],"sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"adid":"6D92078A-8246-4BA4-AE5B-76104861E7DC"}]}`,
	`{"s\u0069te":"r","st\u006fre":"s\u00e9","sightings":[{"n\u0061mespace":"edd1ebeac04e5defa017","instance":"0123456789AB","rssi":-5e1,"props":{"z\u00f6ne":"\ud83d\ude00","n":-0.5e-3,"b":true,"f":false,"x":null}}]}`,
	`{"site":"r","store":"s","consent":["analytics","ads"],"gdpr":1,"uid":12345,"cid":"c","eid":"abcdefgh","sightings":[{"uuid":"f7826da6-4fa2-4e98-8024-bc5b71e0893e","major":65535,"minor":0,"rssi":20,"ts":"2026-11-24T09:58:00Z","app_instance_id":"x"}]}`,
	`{"site":"r","store":"s","sightings":[{"uuid":5,"major":"x","rssi":1.5}]}`,
	`{"site":"r","store":"s","sightings":[{"rssi":-5,"ts":"x"}]}`,
	`{"site":"r","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"ts":"2026-11-24t09:58:00z"},{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"ts":"2026-11-24t10:58:00.5+01:00"}]}`,
	`{"site":"r","store":"s","sightings":[{"rssi":-5,"ts":1}],"event":{"a":[1,2,{"b":null}]}}`,
	`{"site":"r","store":"s","sightings":[{"rssi":-60,"mac":"\ud800"}]}`,
	`{"site":"r","store":"s","sightings":[{"rssi":1e999}]}`,
	`{"site":"r","store":"s","sightings":[{"rssi":1}],"x":[}`,
	`{"site":5,"store":"s","sightings":[]}`,
	`{"site":"r","sightings":[{}]}`,
	`{"site":"r","store":"s"}`,
	`{"site":"r","store":"s","sightings":[{},{},{},{},{},{},{}]}`,
	`{"site":"r","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"props":{"a":[1]}},{"rssi":"x"}]}`,
	`{"site":"r","store":"s","gdpr":"1","gdpr":[1],"gdpr":2,"gdpr":true,"gdpr":false,"consent":"ads","consent":{},"uid":[],"props":null,"props":3,"store":null,"sensor":1,"sightings":{}}`,
	`{"site":"r","store":"s","consent":["a",1],"sightings":[]}`,
	`{"site":"r","store":"s","consent":[],"sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50}]}`,
	`{"site":"r","store":"s","props":{"a":"b"},"sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"ts":1795520400.5,"mac":null,"adid":null}]}`,
	`{"site":"r","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"adid":null,"mac":"A45E.60C1.0D2F"}]}`,
	// A null is an absent field, whichever the field: ts (the receive
	// time), the other kind's identity, a required rssi (missing), a
	// repeated field's later null (the earlier copy stays), a null behind
	// a syntax error.
	`{"site":"r","store":"s","sightings":[{"uuid":"F7826DA6-4FA2-4E98-8024-BC5B71E0893E","major":1,"minor":2,"rssi":-3,"ts":null,"namespace":null,"instance":null,"mac":null}]}`,
	`{"site":"r","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","uuid":null,"major":null,"minor":null,"rssi":null}]}`,
	`{"site":"r","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"ts":1795520400,"ts":null,"mac":"DA:A1:19:00:00:01","mac":null}]}`,
	`{"site":"r","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"ts":nul}]}`,
	// At most one device id: a second of another kind is refused, a null
	// mac, adid or app_instance_id names none, a repeated one counts by its last.
	`{"site":"r","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"mac":"DA:A1:19:00:00:01","adid":"6D92078A"}]}`,
	`{"site":"r","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"app_instance_id":"a","mac":null,"rssi":"x"}]}`,
	`{"site":"r","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"adid":"x","app_instance_id":{"a":[}}]}`,
	`{"site":"r","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"mac":"DA:A1:19:00:00:01","app_instance_id":null,"adid":null}]}`,
	`{"site":"r","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"adid":"x","adid":"Y","app_instance_id":nul}]}`,
	`{"site":"r","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"mac":"DA:A1:19:00:00:01","mac":"A45E.60C1.0D2F"},{"rssi":-1,"app_instance_id":"a","adid":"b"}]}`,
	// Identifiers with a byte that is no hex digit, a dash out of place
	// or another separator, and integers in every notation.
	`{"site":"r","store":"s","sightings":[{"uuid":"g7826da6-4fa2-4e98-8024-bc5b71e0893e","major":1,"minor":2,"rssi":-3},{"rssi":1}]}`,
	`{"site":"r","store":"s","sightings":[{"uuid":"f7826da6_4fa2-4e98-8024-bc5b71e0893e","major":1,"minor":2,"rssi":-3}]}`,
	`{"site":"r","store":"s","sightings":[{"uuid":"f7826da6-4fa2-4e98-8024-bc5b71e0893-","major":1,"minor":2,"rssi":-3}]}`,
	`{"site":"r","store":"s","sightings":[{"uuid":"f7826da64-fa2-4e98-8024-bc5b71e0893e","major":1,"minor":2,"rssi":-3}]}`,
	`{"site":"r","store":"s","sightings":[{"uuid":"f7826da6-4fa2-4e98-8024-bc5b71e089é","major":1,"minor":2,"rssi":-3}]}`,
	`{"site":"r","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa0-7","instance":"0123456789ab","rssi":-50}]}`,
	`{"site":"r","store":"s","sightings":[{"namespace":"EDD1EBEAC04E5DEFA017","instance":"0123456789aG","rssi":-50}]}`,
	`{"site":"r","store":"s","sightings":[{"uuid":"f7826da6-4fa2-4e98-8024-bc5b71e0893e","major":-0,"minor":2.0,"rssi":-1e1},{"uuid":"f7826da6-4fa2-4e98-8024-bc5b71e0893e","major":65535.0,"minor":1E0,"rssi":20}]}`,
	`{"site":"r","store":"s","sightings":[{"uuid":"f7826da6-4fa2-4e98-8024-bc5b71e0893e","major":65536,"minor":1,"rssi":-3}]}`,
	`{"site":"r","store":"s","sightings":[{"uuid":"f7826da6-4fa2-4e98-8024-bc5b71e0893e","major":1,"minor":-1,"rssi":-3}]}`,
	`{"site":"r","store":"s","sightings":[{"uuid":"f7826da6-4fa2-4e98-8024-bc5b71e0893e","major":1234567890,"minor":1,"rssi":-128}]}`,
	`{"site":"r","store":"s","sightings":[{"uuid":"f7826da6-4fa2-4e98-8024-bc5b71e0893e","major":123456789,"minor":1,"rssi":-127}]}`,
	// Control characters in site, store and sensor; with a value too long
	// too; and in a store that comes after the list.
	`{"site":"r\u0000","store":"s","sightings":[{"rssi":-1}]}`,
	`{"site":"r","store":"s\u001f","sightings":[{"rssi":-1}]}`,
	`{"site":"r","store":"s","sensor":"\u007f","sightings":[{"rssi":-1}]}`,
	`{"site":"r","store":"s","sensor":"\u0085","sightings":[{"rssi":-1}]}`,
	`{"site":"r","store":"\u0000` + strings.Repeat("s", maxIDLen) + `","sightings":[{"rssi":-1}]}`,
	`{"site":"r","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50}],"store":"a\tb"}`,
	`[{"site":"r"}]`, `"x"`, ` `, `{`, `{"a":1}x`, `{"a" 1}`, `{"a":1,}`, `{,"a":1}`, `{"a":[1,]}`, `{"a":01}`,
	`{"a":"\x"}`, "{\"a\":\"\xff\"}", `{"site":"r","store":"s","sightings":[{"rssi":-1}]} `,
	`{"site":"r","store":"s","sightings":[{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-50,"props":{"` + strings.Repeat("k", 65) + `":1}}]}`,
	`{"a":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`,
	`{"a":` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `,"site":"r","store":"s","sightings":[{"rssi":1}]}`,
}

// TestBLEOnePassMatchesReference: the one pass answers every seed body as
// the reference does, with and without configured sites, and accepts the
// benchmark's 40-sighting body with equal events.
func TestBLEOnePassMatchesReference(t *testing.T) {
	for _, sites := range []map[string][]string{nil, {"r": {"https://r.example"}}} {
		bp := newBLEPair(t, sites)
		bp.cfg.limits.MaxSightingsPerRequest = 40
		bp.check(t, bleBody(40))
		bp.cfg.limits.MaxSightingsPerRequest = 6
		for _, s := range bleOnePassSeeds {
			bp.check(t, []byte(s))
		}
	}
}

// FuzzBLEOnePass: for every body, the one pass and the reference give the
// same answer, reason and field included, and the same events.
func FuzzBLEOnePass(f *testing.F) {
	for _, s := range bleOnePassSeeds {
		f.Add([]byte(s))
	}
	f.Add(bleBody(3))
	bp := newBLEPair(f, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		bp.check(t, body)
	})
}

// checkBeacon is check for POST /b's JSON bodies.
func (bp *blePair) checkBeacon(t *testing.T, body []byte) {
	t.Helper()
	bp.one.events, bp.ref.events = bp.one.events[:0], bp.ref.events[:0]
	bp.one.receivedAt, bp.ref.receivedAt = bleNow, bleNow
	bp.one.clientIP, bp.ref.clientIP = bleClient, bleClient
	got := parseBeaconJSON(&bp.ctx, bp.cfg, bp.one, body)
	want := refParseBeaconJSON(&bp.ctx, bp.cfg, bp.ref, body)
	if got != want {
		t.Fatalf("body %q:\n one pass  %+v\n reference %+v", body, got, want)
	}
	if got.bad() {
		return
	}
	if len(bp.one.events) != len(bp.ref.events) {
		t.Fatalf("body %q: %d events, reference %d", body, len(bp.one.events), len(bp.ref.events))
	}
	for i := range bp.one.events {
		if g, w := fmt.Sprintf("%+v", bp.one.events[i]), fmt.Sprintf("%+v", bp.ref.events[i]); g != w {
			t.Fatalf("body %q: event %d\n one pass  %s\n reference %s", body, i, g, w)
		}
	}
}

// beaconOnePassSeeds reach every branch of a beacon body: an object, an
// array (empty, too long, with a non-object), every vocabulary key with
// each JSON type, escapes, faults behind field problems.
var beaconOnePassSeeds = []string{
	`{"site":"r","event":"e","props":{"a":1,"b":"x","c":true,"d":false,"e":null}}`,
	`[{"site":"r"},{"site":"r","consent":["ads"]}]`,
	`[]`, `[1]`, `[{"site":"r"},2]`, `[{},{},{},{},{},{},{}]`, `[{"site":"r"},{"site":"r","uid":true}]`, `[{"site":"r"},{"site":"r","props":{"n":1e999}}]`,
	`{"site":"r","url":"https://r.example/a?b=c","ref":"x","uid":12345,"cid":-1.5e3,"eid":"abcdefgh","gdpr":"1","gdpr_consent":"CPx","gcs":"G111","gcd":"13","us_privacy":"1YNN","gpp":"DBA","gpp_sid":"2","consent":"ads"}`,
	`{"site":"r","gdpr":0,"gdpr":1,"gdpr":2,"gdpr":true,"gdpr":false,"gdpr":[1],"gdpr":{},"gdpr":null}`,
	`{"s\u0069te":"r\u00e9","ev\u0065nt":"\ud83d\ude00","props":{"k\u00f6":"\u2028<&>","n":-0.0e-999}}`,
	`{"site":"r","consent":["a","b"],"consent":[1],"consent":{}}`, `{"site":"r","consent":5}`, `{"site":"r","uid":[]}`, `{"site":"r","cid":{}}`,
	`{"site":"r","url":5}`, `{"site":"r","event":"x\u0000"}`, `{"site":"x\u0000"}`, `[{"site":"r"},{"site":"\u0090"}]`, `{"site":"\u007f\ud800"}`, `{"site":"r","eid":"x"}`, `{"site":"r","props":[]}`, `{"site":"r","props":{"a":{}}}`,
	`{"site":"r","props":{"":1}}`, `{"site":"r","x":[[{"a":[1e999]}]]}`, `{"site":"\ud800"}`, `"x"`, `1`, `null`, ` `, `{"site":"r"} x`, `[{"site":"r"},]`,
	`{"site":"r","uid":"` + strings.Repeat("u", 300) + `"}`, `{"site":"r","uid":1` + strings.Repeat("0", 300) + `}`,
	`{"site":"r","consent":["` + strings.Repeat("a", 300) + `"]}`,
	// A list that names no purpose is the refusal none.
	`{"site":"r","consent":[]}`, `{"site":"r","consent":[""]}`, `{"site":"r","consent":["",""]}`, `{"site":"r","consent":"none","consent":[]}`,
}

// TestBeaconOnePassMatchesReference: the one pass answers every seed body
// as the reference does, with and without configured sites.
func TestBeaconOnePassMatchesReference(t *testing.T) {
	for _, sites := range []map[string][]string{nil, {"r": {"https://r.example"}}} {
		bp := newBLEPair(t, sites)
		bp.cfg.limits.MaxEventsPerRequest = 6
		bp.checkBeacon(t, beaconBody())
		for _, s := range beaconOnePassSeeds {
			bp.checkBeacon(t, []byte(s))
		}
	}
}

// TestBeaconArraySharedFields: an array's events share the request's
// fields, read once; with headers at fault (too long, conflicting TC
// cookies, opt-out signals) the one pass still answers and fills every
// event as the reference, which reads them for each event.
func TestBeaconArraySharedFields(t *testing.T) {
	bodies := []string{`[{"site":"r"},{"site":"r","gdpr_consent":"CPy"},{"site":"r"}]`, `{"site":"r"}`, `[{"site":"r"},{"site":"r","uid":true}]`}
	for _, headers := range [][]string{
		{"User-Agent", strings.Repeat("a", 2000)},
		{"Accept-Language", strings.Repeat("de,", 400)},
		{"Cookie", "euconsent-v2=CPx; euconsent-v2=CPz"},
		{"Sec-GPC", "1", "DNT", "1", "Accept-Language", "fr-FR"},
	} {
		bp := newBLEPair(t, nil)
		for i := 0; i < len(headers); i += 2 {
			bp.ctx.Request.Header.Add(headers[i], headers[i+1])
		}
		for _, b := range bodies {
			bp.checkBeacon(t, []byte(b))
		}
	}
}

// FuzzBeaconOnePass: for every body, the one pass and the reference give
// the same answer, reason and field included, and the same events.
func FuzzBeaconOnePass(f *testing.F) {
	for _, s := range beaconOnePassSeeds {
		f.Add([]byte(s))
	}
	f.Add(beaconBody())
	bp := newBLEPair(f, nil)
	bp.cfg.limits.MaxEventsPerRequest = 6
	f.Fuzz(func(t *testing.T, body []byte) {
		bp.checkBeacon(t, body)
	})
}
