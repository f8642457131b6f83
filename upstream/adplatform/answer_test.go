package adplatform

import "testing"

// The answer classifications, by platform, from the codes their
// references document.
func TestAnswers(t *testing.T) {
	f := func(name string, got outcome, want outcomeKind, failed ...int) {
		t.Helper()
		if got.kind != want || len(got.failed) != len(failed) {
			t.Fatalf("%s: %+v; want kind %d, failed %v", name, got, want, failed)
		}
		for i := range failed {
			if got.failed[i] != failed[i] {
				t.Fatalf("%s: failed %v; want %v", name, got.failed, failed)
			}
		}
	}
	f("meta ok", metaAnswer(200, []byte(`{"events_received":2,"messages":[],"fbtrace_id":"AbC"}`), 2), outcomeOK)
	f("meta short", metaAnswer(200, []byte(`{"events_received":1,"messages":[],"fbtrace_id":"AbC"}`), 2), outcomeRetry)
	f("meta no count", metaAnswer(200, []byte(`{"messages":[],"fbtrace_id":"AbC"}`), 2), outcomeRetry)
	f("meta unreadable 200", metaAnswer(200, []byte(`<html>`), 2), outcomeRetry)
	f("meta token", metaAnswer(400, []byte(`{"error":{"code":190}}`), 2), outcomeAuth)
	f("meta permission", metaAnswer(400, []byte(`{"error":{"code":200}}`), 2), outcomeAuth)
	f("meta session", metaAnswer(400, []byte(`{"error":{"code":102}}`), 2), outcomeAuth)
	f("meta method", metaAnswer(400, []byte(`{"error":{"code":3}}`), 2), outcomeAuth)
	f("meta rate", metaAnswer(400, []byte(`{"error":{"code":17}}`), 2), outcomeRetry)
	f("meta app limit", metaAnswer(400, []byte(`{"error":{"code":341}}`), 2), outcomeRetry)
	f("meta temporarily blocked", metaAnswer(400, []byte(`{"error":{"code":368}}`), 2), outcomeRetry)
	f("meta transient", metaAnswer(400, []byte(`{"error":{"code":100,"is_transient":true}}`), 2), outcomeRetry)
	f("meta no pixel", metaAnswer(400, []byte(`{"error":{"code":100,"error_subcode":33}}`), 2), outcomePermanent)
	f("meta bad event", metaAnswer(400, []byte(`{"error":{"code":100,"error_subcode":2804008}}`), 2), outcomeInvalid)
	f("meta 503", metaAnswer(503, nil, 2), outcomeRetry)
	f("meta 429", metaAnswer(429, nil, 2), outcomeRetry)

	f("tiktok ok", tiktokAnswer(200, []byte(`{"code":0}`), 3), outcomeOK)
	f("tiktok partial", tiktokAnswer(200, []byte(`{"code":20001,"data":{"failed_events":[{"index":2,"code":40002,"message":"x"},{"index":0}]}}`), 3), outcomeOK, 2, 0)
	// A partial success that does not name each failed event once within
	// the request says nothing per event: the whole request is retried.
	f("tiktok partial index out of range", tiktokAnswer(200, []byte(`{"code":20001,"data":{"failed_events":[{"index":2},{"index":7}]}}`), 3), outcomeRetry)
	f("tiktok partial index missing", tiktokAnswer(200, []byte(`{"code":20001,"data":{"failed_events":[{"code":40002}]}}`), 3), outcomeRetry)
	f("tiktok partial index repeated", tiktokAnswer(200, []byte(`{"code":20001,"data":{"failed_events":[{"index":1},{"index":1}]}}`), 3), outcomeRetry)
	f("tiktok partial none listed", tiktokAnswer(200, []byte(`{"code":20001,"data":{"failed_events":[]}}`), 3), outcomeRetry)
	f("tiktok no code", tiktokAnswer(200, []byte(`{"message":"OK"}`), 3), outcomeRetry)
	f("tiktok rate", tiktokAnswer(200, []byte(`{"code":40100}`), 3), outcomeRetry)
	f("tiktok token", tiktokAnswer(200, []byte(`{"code":40105}`), 3), outcomeAuth)
	f("tiktok params", tiktokAnswer(200, []byte(`{"code":40002}`), 3), outcomeInvalid)
	f("tiktok internal", tiktokAnswer(200, []byte(`{"code":50002}`), 3), outcomeRetry)
	f("tiktok unreadable 200", tiktokAnswer(200, []byte(`<html>`), 3), outcomeRetry)

	f("ga4 live", ga4Answer(204, nil, 3, false), outcomeOK)
	f("ga4 debug clean", ga4Answer(200, []byte(`{"validationMessages":[]}`), 3, true), outcomeOK)
	f("ga4 debug one", ga4Answer(200, []byte(`{"validationMessages":[{"fieldPath":"events[1].params","validationCode":"VALUE_INVALID"}]}`), 3, true), outcomeOK, 1)
	f("ga4 debug request", ga4Answer(200, []byte(`{"validationMessages":[{"fieldPath":"client_id","validationCode":"VALUE_REQUIRED"}]}`), 3, true), outcomeOK, 0, 1, 2)
	f("ga4 429", ga4Answer(429, nil, 3, false), outcomeRetry)
	f("ga4 403", ga4Answer(403, nil, 3, false), outcomeAuth)
}

func TestValidNumber(t *testing.T) {
	f := func(s string, want bool) {
		t.Helper()
		if validNumber([]byte(s)) != want {
			t.Fatalf("validNumber(%q) = %v", s, !want)
		}
	}
	for _, s := range []string{"0", "-0", "12", "1.5", "-1.5e10", "1E+2", "0.0e-1"} {
		f(s, true)
	}
	for _, s := range []string{"", ".", "-", "01", "1.", ".5", "1e", "nan", "inf", "+1", "1e+", "0x1"} {
		f(s, false)
	}
}
