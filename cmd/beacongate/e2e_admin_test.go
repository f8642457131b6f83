package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestE2ELogsAreJSON: every line the server logs is JSON, including a
// reload through POST /-/reload (slog text before), and the startup line
// names the data directory actually used (the config's, with no -data flag).
func TestE2ELogsAreJSON(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "from-config")
	cfgPath := writeE2EConfig(t, dir, "c.yaml", "server:\n  data_dir: "+data+"\n")
	p := startGatewayAt(t, clocktest.Golden, "", cfgPath)
	if st := postAdmin(t, "http://"+p.admin+"/-/reload", ""); st != 200 {
		t.Fatalf("POST /-/reload: %d", st)
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.logText())
	}
	var listening, reloaded bool
	for _, line := range strings.Split(p.logText(), "\n") {
		var rec struct{ Msg, Data string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q\n%s", line, p.logText())
		}
		switch rec.Msg {
		case "listening":
			listening = true
			if rec.Data != data {
				t.Fatalf("startup line says data %q; the directory used is %q", rec.Data, data)
			}
		case "config reloaded":
			reloaded = true
		}
	}
	if !listening || !reloaded {
		t.Fatalf("missing lines (listening %v, reloaded %v):\n%s", listening, reloaded, p.logText())
	}
	if _, err := os.Stat(filepath.Join(data, "spool")); err != nil {
		t.Fatalf("the config's data directory is not used: %v", err)
	}
}

// nonLoopbackAddr returns one of this machine's addresses that is not
// loopback, or skips the test.
func nonLoopbackAddr(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skip(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Skip("no non-loopback IPv4 address to reach the admin listener from")
	return ""
}

func postAdmin(t *testing.T, url, token string) int {
	t.Helper()
	return adminReq(t, "POST", url, token)
}

func adminReq(t *testing.T, method, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestE2EAdminGuard: on an admin listener bound to all interfaces (as in the
// container), read-only endpoints answer anyone; POST /-/reload and pprof
// answer loopback peers only, or with a token configured, only requests
// that carry it.
func TestE2EAdminGuard(t *testing.T) {
	ext := nonLoopbackAddr(t)
	f := func(p *gatewayProc, method, host, path, token string, want int) {
		t.Helper()
		_, port, _ := net.SplitHostPort(p.admin)
		if got := adminReq(t, method, "http://"+net.JoinHostPort(host, port)+path, token); got != want {
			t.Fatalf("%s %s from %s (token %q): %d; want %d", method, path, host, token, got, want)
		}
	}
	// With a config file: a gateway started without one refuses every
	// reload (409), whoever asks.
	const cfgText = "destinations:\n  - {name: local, type: file, tcf: {without_vendor: true}}\n"
	t.Run("loopback_only", func(t *testing.T) {
		dir := t.TempDir()
		p := startGatewayAt(t, clocktest.Golden, filepath.Join(dir, "data"), writeE2EConfig(t, dir, "c.yaml", cfgText), "-admin", "0.0.0.0:0", "-pprof")
		for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
			f(p, "GET", ext, path, "", 200)
		}
		f(p, "POST", ext, "/-/reload", "", 403)
		f(p, "GET", ext, "/debug/pprof/", "", 403)
		f(p, "GET", ext, "/tap", "", 403)
		f(p, "POST", "127.0.0.1", "/-/reload", "", 200)
		f(p, "GET", "127.0.0.1", "/debug/pprof/", "", 200)
	})
	t.Run("token", func(t *testing.T) {
		dir := t.TempDir()
		const token = "s3cr3t-admin-token-0123456789"
		tokenPath := filepath.Join(dir, "token")
		if err := os.WriteFile(tokenPath, []byte(token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		p := startGatewayAt(t, clocktest.Golden, filepath.Join(dir, "data"), writeE2EConfig(t, dir, "c.yaml", cfgText), "-admin", "0.0.0.0:0", "-admin-token-file", tokenPath)
		f(p, "GET", ext, "/metrics", "", 200)
		f(p, "POST", ext, "/-/reload", "", 401)
		f(p, "POST", ext, "/-/reload", "wrong-token-wrong-token", 401)
		f(p, "GET", ext, "/tap", "", 401)
		f(p, "GET", "127.0.0.1", "/tap", "", 401)
		f(p, "POST", "127.0.0.1", "/-/reload", "", 401)
		f(p, "POST", ext, "/-/reload", token, 200)
		if strings.Contains(p.logText(), token) {
			t.Fatal("the admin token is in the log")
		}
	})
	t.Run("open_token_file", func(t *testing.T) {
		// A token file readable by every user: config check refuses it as
		// server.admin_token_file; serve refuses it as -admin-token-file
		// too (it started with it).
		dir := t.TempDir()
		tokenPath := filepath.Join(dir, "token")
		if err := os.WriteFile(tokenPath, []byte("s3cr3t-admin-token-0123456789\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(tokenPath, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(binPath, "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-data", filepath.Join(dir, "data"), "-admin-token-file", tokenPath)
		cmd.Env = append(os.Environ(), startEnv(clocktest.Golden))
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), `"msg":"listening"`) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("serve started with an admin token file readable by every user:\n%s", out.String())
			}
		}
		cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(out.String(), "-admin-token-file: "+tokenPath+" is readable by every user (mode 0644); run chmod o-rwx "+tokenPath) {
			t.Fatalf("exit %d; want 1 and the file named as readable by every user:\n%s", code, out.String())
		}
		if strings.Contains(out.String(), "s3cr3t") {
			t.Fatalf("the error quotes the token:\n%s", out.String())
		}
	})
	t.Run("short_token", func(t *testing.T) {
		dir := t.TempDir()
		tokenPath := filepath.Join(dir, "token")
		os.WriteFile(tokenPath, []byte("short"), 0o600)
		cmd := exec.Command(binPath, "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-data", dir, "-admin-token-file", tokenPath)
		cmd.Env = append(os.Environ(), startEnv(clocktest.Golden))
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "-admin-token-file: the admin token is shorter than 16 characters") {
			t.Fatalf("%v\n%s", err, out)
		}
	})
}

// TestE2EDrain: on SIGTERM /readyz turns 503 while the listener still
// serves for the drain delay; then the gateway exits 0.
func TestE2EDrain(t *testing.T) {
	p := startGatewayAt(t, clocktest.Golden, t.TempDir(), "", "-drain-delay", "3s")
	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	// Fresh connections only: a keep-alive connection pooled before the
	// signal may be closed by the stopping process, which says nothing
	// about readiness.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	status := func(url string) int {
		resp, err := client.Get(url)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(2 * time.Second)
	for status("http://"+p.admin+"/readyz") != 503 {
		if time.Now().After(deadline) {
			t.Fatal("/readyz did not turn 503 after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := status(p.url("/p.gif?site=drain")); st != 200 {
		t.Fatalf("pixel during the drain: %d", st)
	}
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("no exit after the drain")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.logText())
	}
	if el := time.Since(start); el < 3*time.Second {
		t.Fatalf("exited %v after SIGTERM, before the 3s drain delay", el)
	}
}

// TestE2EShutdownTimeout: the shutdown deadline is configurable. With a
// destination that never answers, the gateway gives up after
// server.shutdown_timeout (1s here; 10s fixed before), keeping the rest in
// the spool.
func TestE2EShutdownTimeout(t *testing.T) {
	hang := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang })}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer func() { close(hang); srv.Close() }()
	dir := t.TempDir()
	cfg := strings.Replace(httpDestConfig("http://"+ln.Addr().String()+"/ingest", "zstd", "server:\n  shutdown_timeout: 1s\n"), "timeout: 2s", "timeout: 30s", 1)
	cfgPath := writeE2EConfig(t, dir, "c.yaml", cfg)
	p := startGatewayAt(t, clocktest.Golden, filepath.Join(dir, "data"), cfgPath)
	if st, _ := httpGet(t, p.url("/p.gif?site=s&consent=analytics")); st != 200 {
		t.Fatalf("pixel: %d", st)
	}
	time.Sleep(500 * time.Millisecond) // the batch is in flight to the hanging destination
	start := time.Now()
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.logText())
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("stopped %v after SIGTERM; shutdown_timeout is 1s\n%s", el, p.logText())
	}
}

// TestE2EHealthcheck: the healthcheck command probes a running gateway
// (also through an unspecified listen address) and fails on a dead one.
func TestE2EHealthcheck(t *testing.T) {
	p := startGatewayAt(t, clocktest.Golden, t.TempDir(), "", "-admin", "0.0.0.0:0")
	_, port, _ := net.SplitHostPort(p.admin)
	f := func(wantCode int, wantOut string, args ...string) {
		t.Helper()
		cmd := exec.Command(binPath, append([]string{"healthcheck"}, args...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code != wantCode || !strings.Contains(out.String(), wantOut) {
			t.Fatalf("healthcheck %q: exit %d %q; want %d %q", args, code, out.String(), wantCode, wantOut)
		}
	}
	f(0, "ok: GET http://127.0.0.1:"+port+"/healthz: 200 OK", "-admin", "0.0.0.0:"+port)
	f(0, "ok: GET http://127.0.0.1:"+port+"/readyz: 200 OK", "-admin", "127.0.0.1:"+port, "-path", "/readyz")
	f(2, "-path must be", "-admin", "127.0.0.1:"+port, "-path", "/metrics")
	p.stop()
	f(1, "unhealthy: GET http://127.0.0.1:"+port+"/healthz", "-admin", "127.0.0.1:"+port, "-timeout", "2s")
}
