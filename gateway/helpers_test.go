package gateway

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/upstream"
)

// realTC is a real CMP's TC string (from the public vectors).
const realTC = "CQd924AQd924AASACCENCNFsAP_gAEIAACiQL6QBAAGAAOANmAcAF9IAIADgAA"

// recorder is an EventHandler that keeps copies of the events it was given.
type recorder struct {
	mu     sync.Mutex
	events []event.Event
	err    error
}

func (r *recorder) HandleEvent(e *event.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	var c event.Event
	c.Reset()
	c.CopyShared(e)
	c.Name = append(c.Name, e.Name...)
	c.URL = append(c.URL, e.URL...)
	c.Referrer = append(c.Referrer, e.Referrer...)
	c.UserID = append(c.UserID, e.UserID...)
	c.ClientID = append(c.ClientID, e.ClientID...)
	c.Sighting = e.Sighting
	c.Sighting.UUID = append([]byte(nil), e.Sighting.UUID...)
	c.Sighting.DeviceID = append([]byte(nil), e.Sighting.DeviceID...)
	c.Sighting.Namespace = append([]byte(nil), e.Sighting.Namespace...)
	c.Sighting.Instance = append([]byte(nil), e.Sighting.Instance...)
	r.events = append(r.events, c)
	return nil
}

// countingHandler counts events without copying them (for allocation tests).
type countingHandler struct{ n int }

func (c *countingHandler) HandleEvent(*event.Event) error { c.n++; return nil }

// refusingHandler refuses every event as a full spool does.
type refusingHandler struct{}

func (refusingHandler) HandleEvent(*event.Event) error { return upstream.ErrFull }

// nullSpool accepts records without keeping them.
type nullSpool struct{ n int }

func (s *nullSpool) Append([]byte, upstream.Route) error { s.n++; return nil }

// rawRequest builds the bytes of an HTTP/1.1 request.
func rawRequest(method, uri string, body []byte, headers ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: collect.example\r\n", method, uri)
	for i := 0; i+1 < len(headers); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", headers[i], headers[i+1])
	}
	if body != nil {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// driver feeds raw requests through Gateway.Handle the way the server does:
// reading the request from bytes into a reused RequestCtx.
type driver struct {
	g   *Gateway
	ctx fasthttp.RequestCtx
	rd  bytes.Reader
	br  *bufio.Reader
}

func newDriver(g *Gateway, peer string) *driver {
	d := &driver{g: g}
	d.br = bufio.NewReaderSize(&d.rd, 128<<10)
	addr := &net.TCPAddr{IP: net.ParseIP(peer), Port: 40000}
	d.ctx.Init(&fasthttp.Request{}, addr, nil)
	return d
}

func (d *driver) do(raw []byte) *fasthttp.Response {
	d.ctx.Request.Reset()
	d.ctx.Response.Reset()
	d.rd.Reset(raw)
	d.br.Reset(&d.rd)
	// Header, then body without fasthttp's multipart pre-parse, as the
	// server does with DisablePreParseMultipartForm.
	if err := d.ctx.Request.Header.Read(d.br); err != nil {
		panic(err)
	}
	if err := d.ctx.Request.ContinueReadBody(d.br, 0, false); err != nil {
		panic(err)
	}
	d.g.Handle(&d.ctx)
	return &d.ctx.Response
}

// longURL is a realistic ~400-byte page URL.
func longURL() string {
	u := "https://shop.example.com/collections/summer-2026/products/linen-shirt-relaxed-fit-white?variant=4412&utm_source=newsletter&utm_medium=email&utm_campaign=summer_sale_2026&gclid=EAIaIQobChMI8b3k4Y2X-QIVh4FQBh0xZgAAEAAYASAAEgKJkPD_BwE&ref=homepage-banner-carousel-slot-3&section=new-arrivals&sort=price-ascending&page=2&filter=size%3AL%2Ccolor%3Awhite"
	for len(u) < 400 {
		u += "&x=1"
	}
	return u
}

// pixelURI is a realistic pixel hit: a 400-byte page URL, a real TC string,
// Consent Mode parameters and 20 custom properties.
func pixelURI() string {
	var b strings.Builder
	b.WriteString("/p.gif?site=shop.example&event=pageview&url=")
	b.Write(fasthttp.AppendQuotedArg(nil, []byte(longURL())))
	b.WriteString("&ref=https%3A%2F%2Fwww.google.com%2F&uid=user-8812&cid=1234567890.1700000000")
	b.WriteString("&gdpr=1&gdpr_consent=" + realTC + "&gcs=G111&gcd=13r3r3r3r5&us_privacy=1YNN")
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&b, "&p.prop%02d=value-%d", i, i)
	}
	return b.String()
}

// beaconBody is one sendBeacon event with 20 custom properties.
func beaconBody() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"site":"shop.example","event":"add_to_cart","url":%q,"ref":"https://www.google.com/","uid":"user-8812","cid":"c-77","gdpr":1,"gdpr_consent":%q,"gcs":"G111","consent":["analytics","ads"],"props":{`, longURL(), realTC)
	for i := 0; i < 20; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		if i%3 == 0 {
			fmt.Fprintf(&b, `"prop%02d":%d.5`, i, i)
		} else {
			fmt.Fprintf(&b, `"prop%02d":"value-%d"`, i, i)
		}
	}
	b.WriteString("}}")
	return []byte(b.String())
}

// bleNow is the receive time the fixed-clock tests pin: bleBody's sighting
// times lie just before it.
var bleNow = clocktest.Golden

// bleClient is the client address the parsers' differential tests give
// both request states (the server finds it once per request, in Handle).
var bleClient = netip.MustParseAddr("203.0.113.7")

// bleBody is bleBodyAt(n, bleNow).
func bleBody(n int) []byte { return bleBodyAt(n, bleNow) }

// bleBodyAt is a store's ping received at now with n sightings, alternating
// iBeacon and Eddystone, MAC and advertising id, Unix milliseconds and RFC
// 3339, seen in the minutes before now.
func bleBodyAt(n int, now time.Time) []byte {
	var b strings.Builder
	b.WriteString(`{"site":"retail.example","store":"berlin-01","sensor":"gate-3","consent":"analytics","sightings":[`)
	base := now.Add(-5 * time.Minute).Truncate(time.Minute)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		if i%2 == 0 {
			fmt.Fprintf(&b, `{"uuid":"F7826DA6-4FA2-4E98-8024-BC5B71E0893E","major":100,"minor":%d,"rssi":-%d,"ts":%d,"mac":"A4:5E:60:E8:1B:%02X"}`, i, 40+i, base.UnixMilli()+int64(i), i)
		} else {
			fmt.Fprintf(&b, `{"namespace":"edd1ebeac04e5defa017","instance":"0123456789ab","rssi":-%d,"ts":"%s","adid":"38400000-8cf0-11bd-b23e-10b96e4000%02d"}`, 40+i, base.Add(time.Duration(i%60)*time.Second).UTC().Format(time.RFC3339), i)
		}
	}
	b.WriteString("]}")
	return []byte(b.String())
}
