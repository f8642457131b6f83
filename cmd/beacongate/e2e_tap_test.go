package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestE2ETap: "beacongate tap" streams the anonymized records of the
// running gateway that match its filters, as they are appended, and never
// the request data (a raw client id sent in the requests is not in the
// stream, its pseudonym is). A tap client that never reads is cut while the
// load goes on, without refusals.
func TestE2ETap(t *testing.T) {
	dir := t.TempDir()
	cfg := writeE2EConfig(t, dir, "tap.yaml", `properties:
  allow: [seq]
destinations:
  - name: local
    type: file
`)
	p := startGateway(t, dir+"/data", cfg)

	tapCmd := exec.Command(binPath, "tap", "-admin", p.admin, "-site", "tapped", "-consent", "analytics")
	out, err := tapCmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := tapCmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { tapCmd.Process.Kill(); tapCmd.Wait() }()
	waitTaps := func(n float64) {
		deadline := time.Now().Add(10 * time.Second)
		for metricValue(t, p, "beacongate_upstream_taps") != n {
			if time.Now().After(deadline) {
				t.Fatalf("taps open: %v, want %v", metricValue(t, p, "beacongate_upstream_taps"), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitTaps(1)

	post := func(site, consent string, seq int) {
		body := fmt.Sprintf(`{"site":%q,"event":"e","consent":%q,"cid":"raw-client-id-%d","props":{"seq":%d}}`, site, consent, seq, seq)
		resp, err := http.Post(p.url("/b"), "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("POST /b: %d", resp.StatusCode)
		}
	}
	for i := range 30 {
		post("tapped", "analytics", i)
		post("other", "analytics", 100+i)
		post("tapped", "none", 200+i)
	}
	sc := bufio.NewScanner(out)
	var seqs []int
	var raw bytes.Buffer
	for len(seqs) < 30 && sc.Scan() {
		raw.Write(sc.Bytes())
		var r struct {
			Site    string `json:"site"`
			Client  string `json:"client"`
			Consent struct {
				State string `json:"state"`
			} `json:"consent"`
			Props struct {
				Seq int `json:"seq"`
			} `json:"props"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("tap line %q: %v", sc.Text(), err)
		}
		if r.Site != "tapped" || r.Consent.State != "analytics" || r.Client == "" {
			t.Fatalf("tap line outside the filter or without a pseudonym: %s", sc.Text())
		}
		seqs = append(seqs, r.Props.Seq)
	}
	for i, s := range seqs {
		if s != i {
			t.Fatalf("tap seqs %v, want 0..29 in order", seqs)
		}
	}
	if strings.Contains(raw.String(), "raw-client-id") {
		t.Fatal("the tap shows a raw client id")
	}

	// A tap client that never reads.
	conn, err := net.Dial("tcp", p.admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /tap HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	waitTaps(2)
	load := newLoadGen(t, "http://"+p.addr)
	load.start(4)
	deadline := time.Now().Add(30 * time.Second)
	for metricValue(t, p, "beacongate_upstream_taps_cut_total") < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the tap that never reads was not cut; %s", load.summary())
		}
		time.Sleep(50 * time.Millisecond)
	}
	load.stop()
	t.Logf("tap: 30 of 90 records matched the filter, in order; the stalled tap was cut after %s", load.summary())
	if len(load.statuses) != 0 || load.errs.Load() != 0 {
		t.Fatalf("the load saw refusals or errors while a tap stalled: %s", load.summary())
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit code after SIGTERM: %d", code)
	}
}

// TestE2ETapEndsWhenGatewayStops: when the gateway stops on SIGTERM, a
// running "beacongate tap" reads the end of the stream, says so and exits
// 0, as the README promises; it used to see the connection cut ("unexpected
// EOF") and exit 1.
func TestE2ETapEndsWhenGatewayStops(t *testing.T) {
	p := startGatewayAt(t, clocktest.Golden, t.TempDir(), "")
	tapCmd := exec.Command(binPath, "tap", "-admin", p.admin)
	var stdout, stderr bytes.Buffer
	tapCmd.Stdout, tapCmd.Stderr = &stdout, &stderr
	if err := tapCmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- tapCmd.Wait() }()
	defer func() {
		if tapCmd.ProcessState == nil {
			tapCmd.Process.Kill()
			<-exited
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for metricValue(t, p, "beacongate_upstream_taps") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the tap did not open")
		}
		time.Sleep(20 * time.Millisecond)
	}
	getPixel(t, p.url("/p.gif?site=tapped.example"))
	if code := p.stop(); code != 0 {
		t.Fatalf("gateway exit code after SIGTERM: %d\n%s", code, p.logText())
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("beacongate tap still runs 10s after the gateway stopped")
	}
	if code := tapCmd.ProcessState.ExitCode(); code != 0 || !strings.Contains(stderr.String(), "the gateway ended the stream") {
		t.Fatalf("tap after the gateway stopped: exit %d, stderr %q; want 0 and the end of the stream", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"site":"tapped.example"`) {
		t.Fatalf("tap stdout lacks the record: %q", stdout.String())
	}
}
