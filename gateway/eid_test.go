package gateway

import (
	"strings"
	"testing"

	"github.com/beacongate/beacongate/event"
)

// eidRecorder keeps the event id of each event it is handed.
type eidRecorder struct{ ids []string }

func (r *eidRecorder) HandleEvent(e *event.Event) error {
	r.ids = append(r.ids, string(e.EventID))
	return nil
}

// TestEventIDFromPage: "eid" is the page's own event id (bg.js makes one per
// event so other tags on the page can share it). Only 8-64 characters of
// A-Z a-z 0-9 - _ are accepted; anything else is a 400 naming no value.
func TestEventIDFromPage(t *testing.T) {
	rec := &eidRecorder{}
	g := New(Settings{Handler: rec}, nil)
	d := newDriver(g, "192.0.2.1")
	f := func(body string, wantStatus int, wantEIDs ...string) {
		t.Helper()
		rec.ids = rec.ids[:0]
		r := d.do(rawRequest("POST", "/b", []byte(body), "Content-Type", "text/plain;charset=UTF-8"))
		if r.StatusCode() != wantStatus {
			t.Fatalf("%s: status %d; want %d", body, r.StatusCode(), wantStatus)
		}
		if wantStatus == 204 && strings.Join(rec.ids, ",") != strings.Join(wantEIDs, ",") {
			t.Fatalf("%s: eids %q; want %q", body, rec.ids, wantEIDs)
		}
	}
	f(`{"site":"s","eid":"Qm9vbXNoYWthbGFrYTEyMw"}`, 204, "Qm9vbXNoYWthbGFrYTEyMw")
	f(`[{"site":"s","eid":"aaaaaaaa"},{"site":"s"}]`, 204, "aaaaaaaa", "")
	f(`{"site":"s"}`, 204, "")
	f(`{"site":"s","eid":"short"}`, 400)
	f(`{"site":"s","eid":"has space 12345"}`, 400)
	f(`{"site":"s","eid":"x1234567890123456789012345678901234567890123456789012345678901234"}`, 400)
	f(`{"site":"s","eid":12345678}`, 400)
	if st := d.do(rawRequest("GET", "/p.gif?site=s&eid=Abc_def-123", nil)).StatusCode(); st != 200 || rec.ids[0] != "Abc_def-123" {
		t.Fatalf("pixel eid: %d %q", st, rec.ids[0])
	}
	if len(rec.ids) != 1 {
		t.Fatalf("%d events", len(rec.ids))
	}
}

// FuzzEventID: setEventID never panics, and what it keeps is 8-64
// characters of the base64url alphabet.
func FuzzEventID(f *testing.F) {
	for _, s := range []string{"Qm9vbXNoYWthbGFrYTEyMw", "", "short", "has space 12345", strings.Repeat("a", 64), strings.Repeat("a", 65), "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		var e event.Event
		e.Reset()
		r := setEventID(&e, v)
		if r != reasonNone {
			if len(e.EventID) != 0 {
				t.Fatalf("rejected value kept: %q", e.EventID)
			}
			return
		}
		if len(v) == 0 {
			return
		}
		if len(e.EventID) < 8 || len(e.EventID) > 64 || strings.Trim(string(e.EventID), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("kept %q", e.EventID)
		}
	})
}
