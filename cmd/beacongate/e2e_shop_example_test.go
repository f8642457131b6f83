package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/beacongate/beacongate/upstream/adplatform/contract"
)

// shopExampleFor rewrites examples/shop-retargeting.yaml for a test: the
// same sites, consent, policies and ad platform destinations, with the
// warehouse writing files instead of Kafka, the partner posting to a local
// server, the platforms' endpoints and credentials pointing at contract
// servers, and no GeoIP database. set maps a destination name to the
// mapping its transport block becomes.
func shopExampleFor(t *testing.T, dir string, set map[string]map[string]any) string {
	t.Helper()
	b, err := os.ReadFile(exampleConfig("shop-retargeting.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	value := func(m *yaml.Node, key string) (*yaml.Node, int) {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return m.Content[i+1], i
			}
		}
		return nil, -1
	}
	del := func(m *yaml.Node, key string) {
		if _, i := value(m, key); i >= 0 {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
		}
	}
	node := func(v any) *yaml.Node {
		var n yaml.Node
		if err := n.Encode(v); err != nil {
			t.Fatal(err)
		}
		return &n
	}
	del(root, "geoip")
	dests, _ := value(root, "destinations")
	for _, d := range dests.Content {
		name, _ := value(d, "name")
		block, ok := set[name.Value]
		if !ok {
			t.Fatalf("destination %s of the example has no replacement", name.Value)
		}
		typ, _ := value(d, "type")
		for _, k := range []string{"kafka", "http", "meta_capi", "ga4", "tiktok", "file", "batch"} {
			if k != typ.Value || block["type"] != nil {
				del(d, k)
			}
		}
		if nt, ok := block["type"].(string); ok {
			typ.Value = nt
			delete(block, "type")
		}
		del(d, typ.Value)
		d.Content = append(d.Content, node(typ.Value), node(block), node("batch"), node(map[string]any{"max_age": "50ms"}))
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "shop.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestE2EShopExampleAdPlatforms runs examples/shop-retargeting.yaml end to
// end against the three platforms' contract servers: ads-consented
// purchases with contact data, a click id and the _fbp cookie reach Meta,
// GA4 and TikTok, each with the contact data hashed by its own rules and
// the page's eid; the warehouse and the partner get neither contact data
// nor click ids; a visitor with GPC on reaches no platform.
func TestE2EShopExampleAdPlatforms(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	dir := t.TempDir()
	const tok = "e2e-token-0123456789"
	meta := contract.New(t, contract.Meta, "1234567890", tok)
	ga := contract.New(t, contract.GA4, "G-ABC123DEF4", tok)
	tt := contract.New(t, contract.TikTok, "CABCDEFGHIJKLMNOP", tok)
	certs, tokFile := writeContractFiles(t, dir, tok, meta, ga, tt)
	partner := newBLESink(t)
	out := filepath.Join(dir, "out")
	retry := map[string]any{"initial_backoff": "20ms", "max_backoff": "300ms"}
	cfg := shopExampleFor(t, dir, map[string]map[string]any{
		"warehouse":   {"type": "file", "dir": out},
		"retargeting": {"url": "http://" + partner.addr + "/v1/batches", "timeout": "5s", "retry": retry},
		"meta":        {"pixel_id": "1234567890", "access_token_file": tokFile, "endpoint": meta.URL(), "retry": retry},
		"ga4":         {"measurement_id": "G-ABC123DEF4", "api_secret_file": tokFile, "endpoint": ga.URL(), "retry": retry},
		"tiktok":      {"event_source_id": "CABCDEFGHIJKLMNOP", "access_token_file": tokFile, "endpoint": tt.URL(), "retry": retry},
	})
	if code, stdout, errOut := runCLI(t, "config", "check", cfg); code != 0 {
		t.Fatalf("config check: exit %d\n%s%s", code, stdout, errOut)
	}
	p := startGatewayVia(t, []string{"env", "SSL_CERT_FILE=" + certs, "BEACONGATE_PSEUDONYM_SECRET=e2e-secret-0123456789abcdef0123456789"}, filepath.Join(dir, "data"), cfg)

	const email, phone, fbclid = "Jane.Doe@Gmail.com", "+49 30 1234567", "IwAR3xYz-Q_9"
	// Properties of a pixel are p.<name> parameters (bg.js posts them as
	// props): contact data from the checkout form, the _fbp and _ga cookies.
	props := "p.em=" + url.QueryEscape(email) + "&p.ph=" + url.QueryEscape(phone) +
		"&p._fbp=fb.1.1700000000000.42&p._ga=GA1.1.987654321.1700000001&p.cart_value=12.5"
	ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
	get := func(q string, gpc bool) {
		header := []string{"User-Agent", ua}
		if gpc {
			header = append(header, "Sec-GPC", "1")
		}
		getPixel(t, p.url("/p.gif?"+q), header...)
	}
	page := url.QueryEscape("https://shop.example.com/checkout?fbclid=" + fbclid)
	const n = 5
	for i := range n {
		get(fmt.Sprintf("site=shop&event=Purchase&url=%s&eid=shopEid%04d&consent=analytics,ads&uid=cust4711&%s", page, i, props), false)
	}
	get(fmt.Sprintf("site=shop&event=Purchase&url=%s&eid=gpcEid0001&consent=analytics,ads&%s", page, props), true)

	deadline := time.Now().Add(20 * time.Second)
	for meta.Stats().Events < n || ga.Stats().Events < n || tt.Stats().Events < n {
		if time.Now().After(deadline) {
			t.Fatalf("delivered: meta %+v, ga4 %+v, tiktok %+v\n%s", meta.Stats(), ga.Stats(), tt.Stats(), p.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // the GPC event, if it went anywhere, would show now
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	for _, c := range []struct {
		s     *contract.Server
		wants []string
	}{
		{meta, []string{sum("jane.doe@gmail.com"), sum("4930" + "1234567"), `"fbc":"fb.1.`, fbclid, `"fbp":"fb.1.1700000000000.42"`}},
		{ga, nil}, // GA4's user_data is request-level: checked in its envelopes below
		{tt, []string{sum("jane.doe@gmail.com"), sum("+4930" + "1234567")}},
	} {
		st := c.s.Stats()
		if st.Events != n || len(st.Refused) > 0 {
			t.Errorf("%s: %d events (want %d; the GPC visitor's must not arrive), refused %q", c.s.Platform, st.Events, n, st.Refused)
		}
		for _, e := range c.s.Events() {
			raw := string(e.Raw)
			for _, w := range c.wants {
				if !strings.Contains(raw, w) {
					t.Errorf("%s: event lacks %q: %s", c.s.Platform, w, raw)
				}
			}
			if strings.Contains(raw, "gpcEid") || strings.Contains(raw, "Jane") || strings.Contains(raw, "1234567\"") {
				t.Errorf("%s: event holds the GPC visitor or raw contact data: %s", c.s.Platform, raw)
			}
		}
	}
	// GA4 joins the browser's data through the _ga cookie's client id, and
	// takes the contact data hashed by Google's rules in user_data (beside
	// the user_id, which GA4 requires with it: the checkout's uid).
	env := strings.Join(ga.Envelopes(), "\n")
	for _, w := range []string{`"client_id":"987654321.1700000001"`, sum("janedoe@gmail.com"), sum("+4930" + "1234567")} {
		if !strings.Contains(env, w) {
			t.Errorf("ga4 envelopes lack %q: %s", w, env)
		}
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	all, recs := readOut(t, out)
	if len(recs) != n+1 {
		t.Errorf("warehouse: %d records; want %d", len(recs), n+1)
	}
	for name, data := range map[string]string{"warehouse": string(all), "partner": strings.Join(partner.records(), "\n")} {
		for _, leak := range []string{"Jane", "jane", "1234567", `"contact"`, `"click"`, fbclid, "987654321", sum("jane.doe@gmail.com")} {
			if strings.Contains(data, leak) {
				t.Errorf("%s output holds %q", name, leak)
			}
		}
	}
}
