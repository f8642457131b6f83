package ropa

import (
	"strings"
	"testing"
)

// TestReportLeavesOutAnHTTPURLsQuery: an http destination's url may carry
// a credential in its query (config check takes it, as some collectors
// want `?api_key=`), and the record of processing, handed to an auditor,
// printed the url whole. It names the recipient by scheme, host and path,
// and says a query was left out.
func TestReportLeavesOutAnHTTPURLsQuery(t *testing.T) {
	r := build(t, parse(t, `
destinations:
  - name: collector
    type: http
    http: {url: "https://collector.example/ingest/v1?api_key=s3cr3t-k3y&x=1#zz9frag"}
`))
	md, _, text := render(t, r)
	for name, out := range map[string]string{"markdown": md, "html": text} {
		if strings.Contains(out, "s3cr3t-k3y") || strings.Contains(out, "zz9frag") {
			t.Errorf("%s report holds the url's query or fragment", name)
		}
		if !strings.Contains(out, "https://collector.example/ingest/v1") || !strings.Contains(out, "query not shown") {
			t.Errorf("%s report does not name the recipient's address without its query", name)
		}
	}
}
