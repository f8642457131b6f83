package upstream

import (
	"strings"
	"testing"
)

// TestHTTPSinkRefusesBadHeaders: a header the HTTP client refuses to send
// (a control byte in the value, a space in the name) fails NewHTTPSink with
// an error naming the header and not quoting its value, instead of every
// POST failing and being retried until the spool fills.
func TestHTTPSinkRefusesBadHeaders(t *testing.T) {
	for _, h := range []map[string]string{{"X-Key": "s3cret\x01"}, {"X-Key": "s3cret\x7f"}, {"X-Key": "s3cret\r\nX-Evil: 1"}, {"X Key": "s3cret"}} {
		s, err := NewHTTPSink(HTTPOptions{URL: "http://127.0.0.1:1/", Headers: h})
		if err == nil {
			s.Close()
			t.Fatalf("headers %q accepted", h)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("error quotes the value: %v", err)
		}
	}
	s, err := NewHTTPSink(HTTPOptions{URL: "http://127.0.0.1:1/", Headers: map[string]string{"X-Key": "a\tb é"}})
	if err != nil {
		t.Fatalf("a tab and non-ASCII text are valid in a header value: %v", err)
	}
	s.Close()
}

// TestHTTPSinkBadURLNotQuoted: a URL NewHTTPSink refuses may hold the
// collector's key (?token=..., a tenant in the path): the error says what
// is wrong with it without quoting it, as the send errors name the host
// only. Before the fix it quoted the whole URL.
func TestHTTPSinkBadURLNotQuoted(t *testing.T) {
	for _, u := range []string{"ftp://collector.example/ingest?token=s3cret", "https:///ingest?token=s3cret", "http://[::1/?token=s3cret"} {
		s, err := NewHTTPSink(HTTPOptions{URL: u})
		if err == nil {
			s.Close()
			t.Fatalf("URL %q accepted", u)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("error quotes the URL: %v", err)
		}
	}
}
