package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
)

// binPath is the beacongate binary built once for the tests that run it as a
// child process, the way a user does. It is built with -tags e2eclock, so
// that startGatewayAt can pin the instant its clock starts at
// (e2eclock.go); without the variable it runs on the real clock. Under
// go test -race it is built with -race too: the end-to-end tests (reloads,
// taps, shutdown while delivery runs) then look for races in the gateway
// itself, not only in the test's own process (see raceReport).
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "beacongate-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "beacongate")
	build := []string{"build", "-tags", "e2eclock", "-o", binPath}
	if raceEnabled {
		build = append(build, "-race")
	}
	out, err := exec.Command("go", append(build, ".")...).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// gatewayProc is a running beacongate child process.
type gatewayProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	addr   string // collection listener, host:port
	admin  string // admin listener, host:port
	mu     sync.Mutex
	logs   []string
	exited chan error
}

// startGateway runs the binary on loopback ports chosen by the kernel and
// waits for its "listening" log line.
func startGateway(t *testing.T, dataDir, configPath string, extra ...string) *gatewayProc {
	t.Helper()
	return startGatewayVia(t, nil, dataDir, configPath, extra...)
}

// pinClocks sets the in-process gateway's and the commands' clocks to a
// manual clock at at, for the test, and puts the real clock back after it.
func pinClocks(t *testing.T, at time.Time) *clock.Manual {
	t.Helper()
	clk := clock.NewManual(at)
	serveClock, cliClock = clk, clk
	t.Cleanup(func() { serveClock, cliClock = clock.Real, clock.Real })
	return clk
}

// startGatewayAt is startGateway with the gateway's clock starting at
// start (then moving on with real time), whatever the day the test runs.
func startGatewayAt(t *testing.T, start time.Time, dataDir, configPath string, extra ...string) *gatewayProc {
	t.Helper()
	return startGatewayEnv(t, []string{startEnv(start)}, nil, dataDir, configPath, extra...)
}

// startEnv is the environment entry that starts the gateway binary's clock
// at start (see startGatewayAt), for startGatewayEnv.
func startEnv(start time.Time) string { return e2eStartEnv + "=" + start.Format(time.RFC3339) }

// startGatewayVia is startGateway (an empty dataDir: no -data flag) with the binary run by a wrapper command
// (e.g. prlimit --nofile=128:128).
func startGatewayVia(t *testing.T, wrapper []string, dataDir, configPath string, extra ...string) *gatewayProc {
	t.Helper()
	return startGatewayEnv(t, nil, wrapper, dataDir, configPath, extra...)
}

// startGatewayEnv is startGatewayVia with env added to the child's
// environment.
func startGatewayEnv(t *testing.T, env, wrapper []string, dataDir, configPath string, extra ...string) *gatewayProc {
	t.Helper()
	args := []string{"-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0"}
	if dataDir != "" {
		args = append(args, "-data", dataDir)
	}
	if configPath != "" {
		args = append(args, "-config", configPath)
	}
	args = append(args, extra...)
	argv := append(append(append([]string(nil), wrapper...), binPath), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &gatewayProc{t: t, cmd: cmd, exited: make(chan error, 1)}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs = append(p.logs, line)
			p.mu.Unlock()
			var rec struct{ Msg, Addr, Admin string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				p.mu.Lock()
				p.addr, p.admin = rec.Addr, rec.Admin
				p.mu.Unlock()
				once.Do(func() { close(ready) })
			}
		}
		p.exited <- cmd.Wait()
	}()
	select {
	case <-ready:
	case err := <-p.exited:
		t.Fatalf("beacongate exited before listening: %v\n%s", err, p.logText())
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("beacongate did not log \"listening\" within 20s\n%s", p.logText())
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.exited
		}
		if raceReport(p.logText()) {
			t.Errorf("the gateway process reported a data race:\n%s", p.logText())
		}
	})
	return p
}

// raceReport reports whether a child process built with -race (see
// binPath) wrote a race detector's report to the output out.
func raceReport(out string) bool { return strings.Contains(out, "WARNING: DATA RACE") }

func (p *gatewayProc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.logs, "\n")
}

// url returns the collection listener's URL for path.
func (p *gatewayProc) url(path string) string { return "http://" + p.addr + path }

// stop sends SIGTERM and waits for the exit code.
func (p *gatewayProc) stop() int {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		p.t.Fatalf("beacongate did not stop within 30s of SIGTERM\n%s", p.logText())
	}
	return p.cmd.ProcessState.ExitCode()
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *gatewayProc) kill() {
	p.cmd.Process.Kill()
	<-p.exited
}

// getPixel sends GET url with the request headers given as name, value
// pairs and fails t unless the answer is 200.
func getPixel(t *testing.T, url string, header ...string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("pixel: %d", resp.StatusCode)
	}
}

func httpGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestServeQuickStartAndSIGTERM(t *testing.T) {
	p := startGateway(t, t.TempDir(), "")
	st, body := httpGet(t, p.url("/p.gif?site=example.com"))
	if st != 200 || len(body) != 43 || string(body[:6]) != "GIF89a" {
		t.Fatalf("pixel: %d, %d bytes", st, len(body))
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if st, _ := httpGet(t, "http://"+p.admin+path); st != 200 {
			t.Fatalf("admin %s: %d", path, st)
		}
	}
	if _, m := httpGet(t, "http://"+p.admin+"/metrics"); !strings.Contains(string(m), `beacongate_gateway_events_total{endpoint="pixel"} 1`) {
		t.Fatalf("metrics do not count the pixel event:\n%.2000s", m)
	}
	if _, m := httpGet(t, "http://"+p.admin+"/metrics"); !regexp.MustCompile(`(?m)^beacongate_build_info\{goversion="` + regexp.QuoteMeta(runtime.Version()) + `",revision="[^"]+",version="[^"]+"\} 1$`).Match(m) {
		t.Fatalf("metrics lack beacongate_build_info:\n%.2000s", m)
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit code after SIGTERM: %d\n%s", code, p.logText())
	}
}
