package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/prometheus/client_golang/prometheus"
)

// holdHandler is a log handler that holds the goroutine logging the
// message msg, the first time, until release is closed; entered is closed
// once it holds it. It lets a test stop a goroutine of the gateway at a
// known step without a sleep.
type holdHandler struct {
	slog.Handler
	h *hold
}

type hold struct {
	msg     string
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func newHoldLogger(msg string) (*slog.Logger, *hold) {
	h := &hold{msg: msg, entered: make(chan struct{}), release: make(chan struct{})}
	return slog.New(holdHandler{slog.DiscardHandler, h}), h
}

func (holdHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h holdHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.h.msg {
		h.h.once.Do(func() {
			close(h.h.entered)
			<-h.h.release
		})
	}
	return h.Handler.Handle(ctx, r)
}

func (h holdHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return holdHandler{h.Handler.WithAttrs(as), h.h}
}

func (h holdHandler) WithGroup(name string) slog.Handler {
	return holdHandler{h.Handler.WithGroup(name), h.h}
}

// calls reports whether some goroutine is in callee, called from caller:
// two adjacent frames of its stack, callee a function name as the runtime
// prints it ("sync.(*WaitGroup).Wait"), caller one of this package
// ("(*app).stopPrivacy"); an empty callee: caller is the top frame (a
// goroutine blocked in a channel operation of caller's).
func calls(callee, caller string) bool {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	for _, g := range strings.Split(string(buf), "\n\n") {
		var prev string
		for _, line := range strings.Split(g, "\n") {
			if line == "" || line[0] == '\t' || strings.HasPrefix(line, "goroutine ") {
				continue
			}
			fn := line
			if i := strings.LastIndexByte(fn, '('); i > 0 {
				fn = fn[:i]
			}
			if prev == callee && strings.HasSuffix(fn, "/cmd/beacongate."+caller) {
				return true
			}
			prev = fn
		}
	}
	return false
}

// waitCalls waits until some goroutine is in callee called from caller
// (true), or done is closed first (false).
func waitCalls(t *testing.T, callee, caller string, done <-chan struct{}) bool {
	t.Helper()
	for i := 0; ; i++ {
		select {
		case <-done:
			return false
		default:
		}
		if calls(callee, caller) {
			return true
		}
		if i == 100_000 {
			t.Fatalf("no goroutine in %s called from %s, and it did not end", callee, caller)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond) // a poll's pause; the outcome does not depend on it
	}
}

// TestCloseWaitsForTheSuppressionWatcher: the goroutine that reads the
// suppression file again every few seconds was told to stop at shutdown
// but not waited for, so that a close could return (and the process
// release the data directory's lock) while it still read the file and
// wrote its suppression.reload line to the audit log, where the instance
// replacing this one may already write. Close now waits for it.
func TestCloseWaitsForTheSuppressionWatcher(t *testing.T) {
	defer func(d time.Duration) { suppressionEvery = d }(suppressionEvery)
	suppressionEvery = time.Millisecond
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	log, h := newHoldLogger("suppression list reloaded")
	a, err := startApp(serveFlags{data: data}, map[string]bool{"data": true}, prometheus.NewRegistry(), log)
	if err != nil {
		t.Fatal(err)
	}
	// A change the watcher picks up: it reloads the list, logs it (and is
	// held there), then writes its audit line.
	if err := os.WriteFile(filepath.Join(data, "suppressed.txt"), []byte("# no subject yet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.entered:
	case <-time.After(time.Minute):
		t.Fatal("the suppression watcher did not reload the changed file")
	}
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		if err := a.close(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	if !waitCalls(t, "sync.(*WaitGroup).Wait", "(*app).stopPrivacy", closed) {
		close(h.release)
		t.Fatal("close returned while the suppression watcher was still running, before its audit line")
	}
	close(h.release)
	<-closed
	b, err := os.ReadFile(filepath.Join(data, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "suppression.reload") {
		t.Fatalf("the watcher's audit line is not in the audit log when close returns:\n%s", b)
	}
}

// TestCloseWaitsForAReloadsAuditLine: a reload that had passed its last
// "stopping?" check when the gateway began to stop went on to save its
// policy and write its audit line (config.reload, or config.reload_refused)
// while close ran, and could write them after close had released the data
// directory's lock, where the instance replacing this one may already be
// writing its own (two writers on one audit log's hash chain). Close now
// waits for a reload that is applying or refusing to write its audit line;
// one that gets there after the stop began writes nothing
// (TestReloadRefusedOnceStopping).
func TestCloseWaitsForAReloadsAuditLine(t *testing.T) {
	for _, c := range []struct {
		name, config, held, action string
	}{
		{"applied", "consent: {purposes: [analytics], default: []}\ndestinations:\n  - {name: local, type: file, tcf: {without_vendor: true}}\n",
			"config reloaded", `"config.reload"`},
		{"refused", "consent: {purposes: [analytics], default: [\n",
			"config reload refused; the previous config stays live", `"config.reload_refused"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cfgPath := filepath.Join(dir, "c.yaml")
			yaml := "consent: {purposes: [analytics], default: [analytics]}\ndestinations:\n  - {name: local, type: file, tcf: {without_vendor: true}}\n"
			if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			data := filepath.Join(dir, "data")
			log, h := newHoldLogger(c.held)
			a, err := startApp(serveFlags{config: cfgPath, data: data}, map[string]bool{"data": true}, prometheus.NewRegistry(), log)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(cfgPath, []byte(c.config), 0o600); err != nil {
				t.Fatal(err)
			}
			reloaded := make(chan struct{})
			go func() {
				defer close(reloaded)
				a.reloadFrom(log, "signal", "", nil)
			}()
			<-h.entered // the reload decided, and has not written its audit line
			closed := make(chan struct{})
			go func() {
				defer close(closed)
				if err := a.close(context.Background()); err != nil {
					t.Error(err)
				}
			}()
			if !waitCalls(t, "sync.(*Mutex).Lock", "(*app).close", closed) {
				close(h.release)
				<-reloaded
				t.Fatal("close returned (releasing the data directory's lock) while a reload had yet to write its audit line")
			}
			close(h.release)
			<-closed
			b, err := os.ReadFile(filepath.Join(data, "audit.log"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), c.action) {
				t.Fatalf("the reload's %s line is not in the audit log when close returns:\n%s", c.action, b)
			}
			<-reloaded
		})
	}
}

// rotationHoldClock is a manual clock whose Now holds the key rotation
// goroutine ((*app).rotateKeys), the first time it reads the clock after
// armed is closed, until release is closed; entered is closed once it
// holds it. Other callers read the manual clock as they are.
type rotationHoldClock struct {
	*clock.Manual
	armed, entered, release chan struct{}
	once                    sync.Once
}

func (c *rotationHoldClock) Now() time.Time {
	select {
	case <-c.armed:
		pc := make([]uintptr, 16)
		frames := runtime.CallersFrames(pc[:runtime.Callers(2, pc)])
		for {
			f, more := frames.Next()
			if strings.HasSuffix(f.Function, "/cmd/beacongate.(*app).rotateKeys") {
				c.once.Do(func() {
					close(c.entered)
					<-c.release
				})
				break
			}
			if !more {
				break
			}
		}
	default:
	}
	return c.Manual.Now()
}

// TestCloseWaitsForKeyRotation: the goroutine that rotates the pseudonym
// keys every second (and with a key store makes the next period's key,
// writing its file and an audit line) was told to stop at shutdown but not
// waited for: close could return, and the process release the data
// directory's lock, while it still rotated. Close now waits for it.
func TestCloseWaitsForKeyRotation(t *testing.T) {
	clk := &rotationHoldClock{Manual: clock.NewManual(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)),
		armed: make(chan struct{}), entered: make(chan struct{}), release: make(chan struct{})}
	serveClock = clk
	t.Cleanup(func() { serveClock = clock.Real })
	a, err := startApp(serveFlags{data: filepath.Join(t.TempDir(), "data")}, map[string]bool{"data": true}, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	close(clk.armed)
	select {
	case <-clk.entered: // the next tick's rotation, held in its clock read
	case <-time.After(time.Minute):
		t.Fatal("the key rotation did not run")
	}
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		if err := a.close(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	// A goroutine blocked on a channel shows its own function on top (the
	// runtime's frames are left out of the trace).
	if !waitCalls(t, "", "(*app).stopKeyRotation", closed) {
		close(clk.release)
		t.Fatal("close returned while the key rotation was still running")
	}
	close(clk.release)
	<-closed
}
