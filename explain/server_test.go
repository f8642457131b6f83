package explain

import (
	"bufio"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/gateway"
)

// serveGateway starts the real server (gateway.NewServer, through the
// gateway's Listener) on a free port of 127.0.0.1 with the limits
// newExplainer gives explain, for its events to go nowhere, and returns its
// address.
func serveGateway(t *testing.T) string {
	t.Helper()
	clk := clock.Fixed(clocktest.Golden)
	gw := gateway.New(gateway.Settings{Clock: clk, Handler: discardEvents{}}, nil)
	srv := gw.NewServer(gateway.ServerOptions{MaxHeaderBytes: 8 << 10, MaxBodyBytes: 64 << 10})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(gw.Listener(ln)) //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() { _ = srv.Shutdown() })
	return ln.Addr().String()
}

type discardEvents struct{}

func (discardEvents) HandleEvent(*event.Event) error { return nil }

// TestLongPixelURLRefusedAsTheServerDoes: a URL alone is a pixel GET, whose
// query counts with the headers against server.max_header_bytes. The server
// answers a longer one 431 before the gateway sees it; explain showed it
// accepted, with an event recorded.
func TestLongPixelURLRefusedAsTheServerDoes(t *testing.T) {
	var q strings.Builder
	q.WriteString("/p.gif?site=shop&url=https%3A%2F%2Fshop.example.com%2F")
	for i := range 9 {
		q.WriteString("&p.k" + strconv.Itoa(i) + "=" + strings.Repeat("a", 1000))
	}
	addr := serveGateway(t)
	status, _, err := fasthttp.Get(nil, "http://"+addr+q.String())
	if err != nil {
		t.Fatal(err)
	}
	x := newExplainer(t, "")
	for _, sample := range []string{q.String(), "https://collect.example" + q.String()} {
		out := x.Explain([]byte(sample), netip.MustParseAddr("203.0.113.7"))
		if out.Response.Status != status || out.Rejected == nil || out.Rejected.Reason != "header_too_large" || len(out.Events) != 0 {
			t.Errorf("%.40s...: explain: status %d, rejected %+v, %d event(s); the server answers %d",
				sample, out.Response.Status, out.Rejected, len(out.Events), status)
		}
	}
}

// serverAnswer sends raw to the server at addr and returns its status and
// body, as the client reads them.
func serverAnswer(t *testing.T, addr, raw string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	var resp fasthttp.Response
	if err := resp.Read(bufio.NewReader(c)); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode(), strings.TrimSpace(string(resp.Body()))
}

// TestRefusalsAnswerAsTheServer: a request fasthttp's server cannot read
// (a body or head over the limits, a malformed head) is answered by the
// server's own error handler, whose body says what is wrong. explain showed
// the status with a Content-Type but no body (and made the refusals up
// itself rather than run the server's error handler).
func TestRefusalsAnswerAsTheServer(t *testing.T) {
	big := `{"site":"shop","event":"view","props":{"a":"` + strings.Repeat("a", 70000) + `"}}`
	long := "/p.gif?site=shop&p.k=" + strings.Repeat("a", 9000)
	samples := map[string]string{
		"json body too large":  "POST /b HTTP/1.1\r\nHost: collect.example\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(big)) + "\r\n\r\n" + big,
		"pixel head too large": "GET " + long + " HTTP/1.1\r\nHost: collect.example\r\n\r\n",
		"malformed head":       "GET /p.gif?site=shop HTTP/1.1\r\nHost: collect.example\r\nUser-Agent\r\n\r\n",
	}
	addr := serveGateway(t)
	x := newExplainer(t, "")
	for name, raw := range samples {
		status, answer := serverAnswer(t, addr, raw)
		out := x.Explain([]byte(raw), netip.MustParseAddr("203.0.113.7"))
		if out.Response.Status != status || out.Response.Body != answer || out.Rejected == nil || strings.Contains(out.Rejected.Detail, "GIF") {
			t.Errorf("%s: explain: %d %q, rejected %+v; the server answers %d %q",
				name, out.Response.Status, out.Response.Body, out.Rejected, status, answer)
		}
	}
	out := x.Explain([]byte(big), netip.MustParseAddr("203.0.113.7")) // a JSON body alone
	if out.Response.Status != 413 || out.Response.Body != "body too large" {
		t.Errorf("JSON sample too large: explain: %d %q", out.Response.Status, out.Response.Body)
	}
}

// TestTransferEncodingAsTheServer: the server decodes a chunked body, and
// answers 400 to any other transfer coding (its body framing unknown).
// explain dropped the header and took the body as it stood: a chunked
// sample was invalid JSON, and "Transfer-Encoding: identity" was shown
// accepted, with its event recorded.
func TestTransferEncodingAsTheServer(t *testing.T) {
	const body = `{"site":"shop","event":"view"}`
	samples := map[string]string{
		"chunked":  "POST /b HTTP/1.1\r\nHost: collect.example\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + strconv.FormatInt(int64(len(body)), 16) + "\r\n" + body + "\r\n0\r\n\r\n",
		"identity": "POST /b HTTP/1.1\r\nHost: collect.example\r\nContent-Type: application/json\r\nTransfer-Encoding: identity\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body,
		"gzip":     "POST /b HTTP/1.1\r\nHost: collect.example\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + strconv.FormatInt(int64(len(body)), 16) + "\r\n" + body + "\r\n0\r\n\r\n",
	}
	addr := serveGateway(t)
	x := newExplainer(t, "")
	for name, raw := range samples {
		status, answer := serverAnswer(t, addr, raw)
		for _, sample := range []string{raw, strings.ReplaceAll(raw, "\r\n", "\n")} { // as captured, as typed
			out := x.Explain([]byte(sample), netip.MustParseAddr("203.0.113.7"))
			accepted := status/100 == 2
			if out.Response.Status != status || out.Response.Body != answer || (out.Rejected == nil) != accepted || len(out.Events) != map[bool]int{true: 1}[accepted] {
				t.Errorf("%s: explain: %d %q, rejected %+v, %d event(s); the server answers %d %q",
					name, out.Response.Status, out.Response.Body, out.Rejected, len(out.Events), status, answer)
			}
		}
	}
}

// TestURLSampleTakenAsTyped: a URL sample is taken as typed, as before
// 5a30455 read it through the HTTP parser, which refused a space a browser
// would have escaped: explain showed a hand-typed URL as a malformed
// request.
func TestURLSampleTakenAsTyped(t *testing.T) {
	x := newExplainer(t, "")
	out := x.Explain([]byte("/p.gif?site=shop&p.q=red shoes"), netip.MustParseAddr("203.0.113.7"))
	if out.Rejected != nil || len(out.Events) != 1 {
		t.Fatalf("rejected %+v, %d event(s)", out.Rejected, len(out.Events))
	}
}
