package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/beacongate/beacongate/audit"
)

// storyGateway is an in-process gateway on a real loopback listener,
// reading the pinned clock.
type storyGateway struct {
	a   *app
	url string
	srv interface{ Shutdown() error }
	reg *prometheus.Registry // the app's metrics
}

func startStoryGateway(t *testing.T, cfgPath, data string) *storyGateway {
	t.Helper()
	reg := prometheus.NewRegistry()
	a, err := startApp(serveFlags{config: cfgPath, data: data}, map[string]bool{"data": true}, reg,
		slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := a.gateway.NewServer(a.serverOptions)
	go srv.Serve(a.gateway.Listener(ln))
	return &storyGateway{a: a, url: "http://" + ln.Addr().String(), srv: srv, reg: reg}
}

// pixel sends one pageview of user uid with analytics consent.
func (g *storyGateway) pixel(t *testing.T, uid string) {
	t.Helper()
	getPixel(t, g.url+"/p.gif?site=shop&event=pageview&consent=analytics&uid="+uid)
}

func (g *storyGateway) stop(t *testing.T) {
	t.Helper()
	g.srv.Shutdown()
	if err := g.a.close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// cli runs a command in-process and returns its exit code and output.
func cli(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errb)
	return code, out.String() + errb.String()
}

// TestStorySubjectRequest walks a data-subject request end to end with a
// pinned clock: user 4711 visits on two days (the first keyed from the
// secret as before the key store existed, the second with a stored random
// key); "subject" finds exactly the pseudonyms that are in the output;
// "subject suppress" makes a running gateway drop 4711's new events (and
// only those) without a restart; "keys forget" leaves both days'
// pseudonyms uncomputable; "audit verify" shows each step, and a tampered
// line is detected. The identifiers have letters: a bare "4711" turned up
// by chance in the audit log's hex hashes (1 run in ~80), which the check
// that no output holds the identifier took for a leak.
func TestStorySubjectRequest(t *testing.T) {
	day1 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	clk := pinClocks(t, day1)

	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef-story\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeE2EConfig(t, dir, "c.yaml", `pseudonym:
  mode: derived
  secret_file: `+secret+`
privacy:
  key_store: true
`)
	base := []string{"-config", cfgPath, "-data", data, "-site", "shop"}
	lookup := func(id string) subjectReport {
		t.Helper()
		code, out := cli(t, append([]string{"subject", "-id", id, "-from", "2026-03-10", "-to", "2026-03-12", "-format", "json"}, base...)...)
		if code != 0 {
			t.Fatalf("subject: exit %d\n%s", code, out)
		}
		var rep subjectReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("subject -format json: %v\n%s", err, out)
		}
		if strings.Contains(out, id) {
			t.Errorf("subject output repeats the identifier:\n%s", out)
		}
		return rep
	}

	// 1. Events on two days.
	g := startStoryGateway(t, cfgPath, data)
	g.pixel(t, "visitor-4711")
	g.pixel(t, "visitor-4712")
	clk.Advance(24 * time.Hour)
	g.pixel(t, "visitor-4711")
	g.stop(t)
	_, recs := readOut(t, filepath.Join(data, "out"))
	for _, r := range recs {
		if r.User == "" {
			t.Fatalf("record without a user pseudonym: %s", r.raw)
		}
	}
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	user4711 := []string{recs[0].User, recs[2].User} // day 1, day 2

	// 2. subject finds them.
	rep := lookup("visitor-4711")
	if len(rep.Periods) != 2 || rep.Periods[0].Key != "derived" || rep.Periods[1].Key != "stored" {
		t.Fatalf("subject periods: %+v", rep.Periods)
	}
	for i, p := range rep.Periods {
		if p.Pseudonym != user4711[i] {
			t.Errorf("day %d: subject says %q, the output holds %q", i+1, p.Pseudonym, user4711[i])
		}
	}
	if code, out := cli(t, append([]string{"subject", "-id", "visitor-4711", "-from", "2026-03-10", "-to", "2026-03-12"}, base...)...); code != 0 ||
		!strings.Contains(out, user4711[0]) || !strings.Contains(out, "stored") {
		t.Errorf("subject text: exit %d\n%s", code, out)
	}

	// 3. Suppression stops new events, without a restart.
	g = startStoryGateway(t, cfgPath, data)
	if code, out := cli(t, append([]string{"subject", "suppress", "-id", "visitor-4711"}, base...)...); code != 0 {
		t.Fatalf("subject suppress: exit %d\n%s", code, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for g.a.privacy.suppress.Len() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the running gateway did not pick up the suppression list")
		}
		time.Sleep(20 * time.Millisecond)
	}
	g.pixel(t, "visitor-4711")
	g.pixel(t, "visitor-4712")
	suppressed := testutil.ToFloat64(g.a.privacy.suppress.Collector())
	g.stop(t)
	_, recs = readOut(t, filepath.Join(data, "out"))
	if len(recs) != 4 || recs[3].User == user4711[1] || suppressed != 1 {
		t.Fatalf("after suppression: %d records (want 4, the new one 4712's), suppressed counter %v", len(recs), suppressed)
	}
	if b, _ := os.ReadFile(filepath.Join(data, "suppressed.txt")); bytes.Contains(b, []byte("visitor-4711")) {
		t.Fatal("the suppression list holds the identifier")
	}

	// 4. keys forget makes both days unrecoverable.
	clk.Advance(48 * time.Hour)
	if code, out := cli(t, "keys", "forget", "-config", cfgPath, "-data", data, "-before", "2026-03-12"); code != 0 ||
		!strings.Contains(out, "destroyed 2 stored key(s)") || !strings.Contains(out, "keyed from the secret") {
		t.Fatalf("keys forget: exit %d\n%s", code, out)
	}
	rep = lookup("visitor-4711")
	for _, p := range rep.Periods {
		if p.Key != "destroyed" || p.Pseudonym != "" {
			t.Errorf("after keys forget: %+v", p)
		}
	}

	// 5. The audit log shows each step.
	code, out := cli(t, "audit", "verify", "-data", data)
	if code != 0 {
		t.Fatalf("audit verify: exit %d\n%s", code, out)
	}
	raw, _ := os.ReadFile(filepath.Join(data, audit.FileName))
	if bytes.Contains(raw, []byte("visitor-4711")) {
		t.Fatal("the audit log holds the identifier")
	}
	var steps []string
	for _, line := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
		var e audit.Entry
		json.Unmarshal(line, &e)
		if len(steps) == 0 || steps[len(steps)-1] != e.Action {
			steps = append(steps, e.Action)
		}
	}
	want := "config.load key.create subject.lookup config.load suppression.suppress suppression.reload key.destroy subject.lookup"
	if strings.Join(steps, " ") != want {
		t.Errorf("audit steps:\n got %s\nwant %s", strings.Join(steps, " "), want)
	}
	lines := bytes.SplitAfter(raw, []byte("\n"))
	lines[2] = bytes.Replace(lines[2], []byte(`"action":"`), []byte(`"action":"x`), 1)
	os.WriteFile(filepath.Join(data, audit.FileName), bytes.Join(lines, nil), 0o600)
	if code, out := cli(t, "audit", "verify", "-data", data); code != 1 || !strings.Contains(out, "line 3") {
		t.Errorf("audit verify of a tampered log: exit %d\n%s", code, out)
	}
}

// TestKeyRetentionDestroysExpiredKeys: with privacy.key_retention the
// hourly sweep destroys the keys of periods that ended longer ago than the
// limit, and records it; a key still inside the limit stays.
func TestKeyRetentionDestroysExpiredKeys(t *testing.T) {
	day1 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	clk := pinClocks(t, day1)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef-retention\n"), 0o600)
	cfgPath := writeE2EConfig(t, dir, "c.yaml", "pseudonym:\n  mode: derived\n  secret_file: "+secret+
		"\nprivacy:\n  key_store: true\n  key_retention: 48h\n")
	g := startStoryGateway(t, cfgPath, data)
	defer g.stop(t)
	keyFiles := func() []string {
		m, _ := filepath.Glob(filepath.Join(data, "keys", "pseudonym-*.key"))
		return m
	}
	clk.Advance(24 * time.Hour) // day 2: a stored key
	g.pixel(t, "visitor-4711")
	day2 := clk.Now()
	clk.Advance(24 * time.Hour) // day 3
	g.pixel(t, "visitor-4711")
	if n := len(keyFiles()); n != 2 {
		t.Fatalf("%d pseudonym keys stored, want 2", n)
	}
	clk.Advance(24 * time.Hour) // day 4, 12:00: day 2 ended 36h ago, within 48h
	g.a.sweep()
	if n := len(keyFiles()); n != 2 {
		t.Fatalf("a key within key_retention was destroyed: %d left", n)
	}
	clk.Advance(13 * time.Hour) // day 5, 01:00: day 2 ended 49h ago
	g.a.sweep()
	if left := keyFiles(); len(left) != 1 || !strings.HasSuffix(left[0], "-20524.key") {
		t.Fatalf("after key_retention: %v, want only day 3's key (index 20524)", left)
	}
	// The running keyring had day 2's key cached as "the previous period".
	if got := g.a.keys.AppendPseudonym(nil, []byte("shop"), []byte("visitor-4711"), day2); len(got) != 0 {
		t.Errorf("the running gateway still computes day 2's pseudonym %q", got)
	}
	raw, _ := os.ReadFile(filepath.Join(data, audit.FileName))
	if !bytes.Contains(raw, []byte(`"reason":"key_retention"`)) || !bytes.Contains(raw, []byte("pseudonym-86400s-20523.key")) {
		t.Errorf("no key.destroy entry for day 2:\n%s", raw)
	}
}
