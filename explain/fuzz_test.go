package explain

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
)

// FuzzExplainSample feeds arbitrary samples (an HTTP request, a URL, a
// JSON body) to Explain, which had no fuzz target: nothing may panic, the
// output always encodes as JSON, and a rejection names the field at fault
// and what is wrong, never a value: a mark put anywhere in the sample
// appears in no rejection.
func FuzzExplainSample(f *testing.F) {
	for _, s := range []string{
		"GET /p.gif?site=shop&event=view HTTP/1.1\nHost: shop.example\nUser-Agent: Mozilla/5.0\n\n",
		"POST /b HTTP/1.1\nContent-Type: application/json\nOrigin: https://evil.example\n\n{\"site\":\"shop\"}\n",
		"GET /p.gif?site=shop HTTP/1.1\nUser-Agent: bad\x01value\n",
		"GET /p.gif?site=shop HTTP/1.1\nHost: a\nBad Header line\n\n",
		"GET not-a-uri\n\n",
		"https://collect.example/p.gif?site=shop&p.em=jane%40example.org",
		`{"site":"shop","event":"view","props":{"plan":"pro"}}`,
		`{"site":"shop","sightings":[{"rssi":-60}]}`,
		"\xef\xbb\xbfPOST /b\r\nTransfer-Encoding: identity\r\n\r\n{}",
	} {
		f.Add([]byte(s), uint16(len(s)/2))
	}
	x := newExplainer(f, "sites: [{id: shop, origins: [\"https://shop.example\"]}]\n")
	peer := netip.MustParseAddr("203.0.113.7")
	const mark = "zqmarkzq"
	f.Fuzz(func(t *testing.T, sample []byte, pos uint16) {
		if bytes.Contains(bytes.ToLower(sample), []byte("zqmark")) {
			return
		}
		out := x.Explain(sample, peer)
		if _, err := json.Marshal(out); err != nil {
			t.Fatalf("output does not encode: %v", err)
		}
		p := int(pos) % (len(sample) + 1)
		marked := append(append(append([]byte{}, sample[:p]...), mark...), sample[p:]...)
		out = x.Explain(marked, peer)
		if r := out.Rejected; r != nil && strings.Contains(r.Reason+r.Detail+r.Problem, mark) {
			t.Fatalf("the rejection shows a value of the sample: %+v\nsample %q", r, marked)
		}
	})
}
