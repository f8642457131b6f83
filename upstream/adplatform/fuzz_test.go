package adplatform

import (
	"encoding/json"
	"testing"

	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/upstream/adplatform/contract"
)

// FuzzMap feeds arbitrary records to each platform's mapping: it never
// panics, every record is either mapped or rejected, and every request
// body it would send is valid JSON within the platform's event limit, and
// I-JSON (no member name twice in an object) when the record is (JSON
// without a name twice).
func FuzzMap(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"id":"x","received":"2026-12-04T10:00:00.123Z","kind":"pixel","site":"shop","event":"a b\u0000","url":"/p","user_agent":"UA","client":"c","eid":"e1","props":{"k":"v","n":1.5,"b":true},"consent":{"state":"ads","purposes":["ads"],"signal":"gpp"}}`,
		`{"received":"2026-12-04T10:00:00Z","kind":"ble","ble":{"seen":"2026-12-04T09:59:00Z"},"client":"c","contact":{"em":"86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d","ct":"paris","country":"fr"}}`,
		`{"received":"bad","url":"https://x/\xff","user_agent":"\"","click":{"fbc":"fb.1.1.x","ga_client_id":"1.2"}}`,
		`[]`, `{`, ``, `{"props":{"session_id":12,"engagement_time_msec":"x","1bad key":"v"}}`,
		`{"received":"2026-12-04T10:00:00Z","kind":"beacon","ua":{"class":"http_client"},"client":"c","user_agent":"okhttp/4.12.0","ip":"81.2.69.0"}`,
		`{"received":"2026-12-04T10:00:00Z","client":"c","url":"https://s/","props":{"plan-type":"a","plan_type":"b","ga_x":1,"e_ga_x":2,"page-location":"x","session-id":"s","session_id":3}}`,
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(1))
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, rec []byte, pi uint8) {
		for _, c := range rec {
			if c == '\n' {
				return // one record per line: the spool never holds a raw newline in a record
			}
		}
		s := &Sink{o: Options{Platform: Platform(pi % 3), ID: "1", OfflineEventSetID: "2", Origins: NewOrigins(map[string]string{"shop": "https://shop.example"})},
			reasons: map[string]int{}, index: map[string]int{}}
		s.m = newMetrics().forSink("fuzz", s.o.Platform)
		b := &upstream.Batch{}
		b.Add(rec)
		b.Add(rec)
		s.done = make([]bool, 2)
		queue := s.prepare(b)
		mapped := 0
		for _, c := range queue {
			if len(c) == 0 || len(c) > s.maxEvents() {
				t.Fatalf("request of %d events", len(c))
			}
			body := s.appendBody(nil, c)
			if !json.Valid(body) {
				t.Fatalf("%v: invalid JSON body %q from %q", s.o.Platform, body, rec)
			}
			// DuplicateName reads JSON only: a record that is not JSON
			// (never one the engine spools; fastjson reads some, such as
			// an unknown escape) says nothing about its names.
			if path, dup := contract.DuplicateName(body); dup && json.Valid(rec) {
				if _, recDup := contract.DuplicateName(rec); !recDup {
					t.Fatalf("%v: member name twice at %s in %q from %q", s.o.Platform, path, body, rec)
				}
			}
			mapped += len(c)
		}
		if mapped+len(s.rejected) != 2 {
			t.Fatalf("%d mapped, %d rejected of 2", mapped, len(s.rejected))
		}
	})
}

// FuzzAnswers: the answer parsers never panic and name only events of the
// request; TikTok's names each at most once (GA4 may give one event several
// validation messages).
func FuzzAnswers(f *testing.F) {
	for _, s := range []string{`{"code":20001,"data":{"failed_events":[{"index":1},{"index":99},{"index":-1}]}}`,
		`{"validationMessages":[{"fieldPath":"events[3].name","validationCode":"NAME_INVALID"},{"fieldPath":"events[x]"}]}`,
		`{"error":{"code":100,"error_subcode":33,"is_transient":true}}`, `{"events_received":2}`, ``, `[`} {
		f.Add([]byte(s), 200)
		f.Add([]byte(s), 400)
	}
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		const n = 4
		for k, o := range []outcome{metaAnswer(status, body, n), tiktokAnswer(status, body, n), ga4Answer(status, body, n, true)} {
			seen := [n]bool{}
			for _, i := range o.failed {
				if i < 0 || i >= n {
					t.Fatalf("failed index %d of %d", i, n)
				}
				if seen[i] && k == 1 {
					t.Fatalf("failed index %d named twice: %v", i, o.failed)
				}
				seen[i] = true
			}
		}
	})
}
