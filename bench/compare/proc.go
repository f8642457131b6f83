package compare

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/beacongate/beacongate/bench/promtext"
)

// build compiles pkg (relative to root) into out with the go command.
func build(ctx context.Context, root, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	b, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, firstLines(string(b), 12))
	}
	return nil
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], fmt.Sprintf("... (%d more lines)", len(lines)-n))
	}
	return strings.Join(lines, "\n")
}

// pinner prefixes commands with taskset when it is available and this
// process may use at least two CPUs: servers go on the first allowed CPU,
// the load generator on the second.
type pinner struct {
	taskset        string
	server, client int
}

func newPinner(want bool) pinner {
	if !want {
		return pinner{}
	}
	p, err := exec.LookPath("taskset")
	cpus := cpuSet()
	if err != nil || len(cpus) < 2 {
		return pinner{}
	}
	return pinner{taskset: p, server: cpus[0], client: cpus[1]}
}

// role says which CPU a command is pinned to.
type role int

const (
	roleServer role = iota
	roleClient
)

// command returns argv, pinned to the role's CPU when pinning is on.
func (p pinner) command(r role, argv []string) []string {
	if p.taskset == "" {
		return argv
	}
	cpu := p.server
	if r == roleClient {
		cpu = p.client
	}
	return append([]string{p.taskset, "-c", strconv.Itoa(cpu)}, argv...)
}

func (p pinner) enabled() bool { return p.taskset != "" }

// PinServer returns argv pinned to the CPU Run pins its servers to, and
// PinClient to the load generator's; argv as it is when taskset or a second
// CPU is missing.
func PinServer(argv []string) []string { return newPinner(true).command(roleServer, argv) }

// PinClient returns argv pinned to the CPU Run pins its load generator to;
// argv as it is when taskset or a second CPU is missing.
func PinClient(argv []string) []string { return newPinner(true).command(roleClient, argv) }

// describe says how processes were placed, for the report.
func (p pinner) describe() string {
	if p.taskset == "" {
		if _, err := exec.LookPath("taskset"); err != nil {
			return "not pinned: taskset not found (Debian/Ubuntu package util-linux); servers and load generator share all CPUs"
		}
		return "not pinned: fewer than two CPUs available, or pinning disabled; servers and load generator share all CPUs"
	}
	return fmt.Sprintf("servers pinned to CPU %d, load generator to CPU %d (taskset)", p.server, p.client)
}

// FreeAddr returns a loopback address with a port that was free a moment
// ago. Another process could take it before the server binds it; the start
// then fails with a clear error rather than measuring something else.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
	max int
}

// Write keeps p, dropping the oldest bytes beyond max. It never fails.
func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

// String returns what is kept, trimmed of surrounding space.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}

// server is a running server process under test.
type server struct {
	name          string
	listen, admin string
	cmd           *exec.Cmd
	out           *tail
	done          chan struct{}
	waitErr       error
}

// startServer runs argv (already pinned) and waits until its admin
// /metrics answers and its listener accepts connections.
func startServer(ctx context.Context, name string, argv []string, listen, admin string, readyTimeout time.Duration) (*server, error) {
	s := &server{name: name, listen: listen, admin: admin, out: &tail{max: 8 << 10}, done: make(chan struct{})}
	s.cmd = exec.Command(argv[0], argv[1:]...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	go func() { s.waitErr = s.cmd.Wait(); close(s.done) }()

	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-s.done:
			return nil, fmt.Errorf("%s exited before it was ready (%v):\n%s", name, s.waitErr, firstLines(s.out.String(), 15))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if s.ready(ctx) {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s not ready after %v (no /metrics on %s or no listener on %s):\n%s",
				name, readyTimeout, admin, listen, firstLines(s.out.String(), 15))
		}
	}
}

func (s *server) ready(ctx context.Context) bool {
	c, err := net.DialTimeout("tcp", s.listen, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	rctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, err = promtext.Fetch(rctx, s.metricsURL())
	return err == nil
}

func (s *server) metricsURL() string { return "http://" + s.admin + "/metrics" }
func (s *server) targetURL() string  { return "http://" + s.listen }

// exited reports whether the process has ended.
func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// stop sends SIGINT, waits up to 15 s for a graceful exit (the gateway
// flushes its spool), then kills the process. It returns an error if the
// process had to be killed or had already died.
func (s *server) stop() error {
	if s.exited() {
		return fmt.Errorf("%s had exited: %v", s.name, s.waitErr)
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
		return nil
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return errors.New(s.name + " did not stop within 15 s of SIGINT and was killed")
	}
}

// cpuSet lists the CPUs this process may run on, from /proc/self/status, or
// 0..runtime.NumCPU-1 when unavailable.
func cpuSet() []int {
	b, err := os.ReadFile("/proc/self/status")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
				if cpus := parseCPUList(strings.TrimSpace(v)); len(cpus) > 0 {
					return cpus
				}
			}
		}
	}
	n := runtime.NumCPU()
	cpus := make([]int, n)
	for i := range cpus {
		cpus[i] = i
	}
	return cpus
}

// parseCPUList reads a Linux CPU list such as "0-3,6".
func parseCPUList(s string) []int {
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil
			}
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out
}

// runqueueWait sums, over the threads of process pid, the time spent ready
// to run but waiting for a CPU (the second field of
// /proc/PID/task/TID/schedstat). Threads that ended are not counted, which
// only makes the figure lower.
func runqueueWait(pid int) (time.Duration, bool) {
	dirs, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return 0, false
	}
	var sum time.Duration
	for _, d := range dirs {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + d.Name() + "/schedstat")
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) >= 2 {
			if ns, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				sum += time.Duration(ns)
			}
		}
	}
	return sum, true
}
