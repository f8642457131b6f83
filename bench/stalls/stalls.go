// Package stalls reads a Go execution trace of the gateway under load and
// tells how long its background work (the spool's writes and upkeep, the
// shippers, the sinks) held the core and how long it kept requests
// waiting: issue 21's "no request stalled > 2 ms by spool, shipper or sink
// work", measured apart from what the host does (on a shared VM the
// longest request also waits for the hypervisor, which no trace of the
// process shows).
//
// Goroutines are told apart by the functions on their stacks (Classify):
// a request is served by a fasthttp worker; background work runs in the
// gateway's upstream packages. A request goroutine's stall is the time it
// was runnable (ready, waiting for the core) while background goroutines
// ran, plus the time it blocked in the spool waiting for its group write.
package stalls

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"golang.org/x/exp/trace"
)

// Role is what a goroutine does, as far as stalls go.
type Role uint8

// The roles Classify tells apart.
const (
	RoleOther      Role = iota // the runtime, the admin listener, timers
	RoleRequest                // serves requests (fasthttp worker)
	RoleBackground             // the spool's upkeep, shippers, sinks
	numRoles
)

// String returns "other", "request" or "background".
func (r Role) String() string {
	switch r {
	case RoleRequest:
		return "request"
	case RoleBackground:
		return "background"
	}
	return "other"
}

// Classifier tells a goroutine's role from the function names on one of its
// stacks, innermost first; RoleOther when the stack does not say.
type Classifier func(funcs []string) Role

// Classify is the gateway's Classifier: a stack holding fasthttp's worker
// serves requests (a request blocked in the spool's Wait is still a
// request); one holding the gateway's upstream packages (spool, shipper,
// sinks) is background work.
func Classify(funcs []string) Role {
	background := false
	for _, f := range funcs {
		if strings.HasPrefix(f, "github.com/valyala/fasthttp.(*workerPool)") || strings.HasPrefix(f, "github.com/valyala/fasthttp.(*Server).serveConn") {
			return RoleRequest
		}
		if strings.HasPrefix(f, "github.com/beacongate/beacongate/upstream") {
			background = true
		}
	}
	if background {
		return RoleBackground
	}
	return RoleOther
}

// Stretch is one interval of a goroutine's life and the innermost function
// of the gateway's own (else the innermost function) on its stack where it
// ended.
type Stretch struct {
	D    time.Duration
	Func string
}

// Report is what a trace says about stalls.
type Report struct {
	// Span is the time from the trace's first event to its last.
	Span time.Duration
	// Goroutines counts the goroutines seen, by role.
	Goroutines [numRoles]int
	// LongestRun is, per role, the longest time one goroutine ran without
	// leaving the core (blocking, yielding, being preempted or entering a
	// system call).
	LongestRun [numRoles]Stretch
	// LongestSyscall is, per role, the longest system call.
	LongestSyscall [numRoles]Stretch
	// LongestSpoolWrite is the longest system call made in the spool's
	// writes, by whichever goroutine made it (a request leading a group
	// write, or the spool's upkeep).
	LongestSpoolWrite Stretch
	// Waits counts the times a request goroutine was runnable before it
	// ran; WaitP99 and WaitMax are those waits' 99th percentile and
	// longest.
	Waits            int
	WaitP99, WaitMax time.Duration
	// SpoolWaits counts the times a request blocked in the spool (waiting
	// for the group write that holds its records); SpoolWaitP99 and
	// SpoolWaitMax are their 99th percentile and longest. Most of such a
	// wait is other requests' work: the group write waits until the
	// requests ready to run have added their records.
	SpoolWaits                 int
	SpoolWaitP99, SpoolWaitMax time.Duration
	// A request's stall by spool, shipper or sink work is the part of one
	// of its waits (runnable, or blocked in the spool) during which
	// background goroutines ran or were in a system call, or a goroutine
	// was in a system call of the spool's writes: work that is not
	// serving requests. StallP99 and StallMax are their 99th percentile
	// and longest, StallsOver1ms and StallsOver2ms how many exceeded 1 and
	// 2 ms. A system call counts until it returns or another goroutine
	// runs (the core was let go): right for one P, as compare runs the
	// gateway; with more, it errs long.
	StallP99, StallMax           time.Duration
	StallsOver1ms, StallsOver2ms int
	// StallBehind is the function where the work that held the core
	// longest during the longest stall ended (or entered its system call).
	StallBehind string
}

// interval is [from, to) in trace time.
type interval struct{ from, to trace.Time }

// gstate is what Analyze keeps per goroutine.
type gstate struct {
	role     Role
	state    trace.GoState
	since    trace.Time // when it entered state
	inSpool  bool       // blocked in the spool's Wait (state GoWaiting)
	sysFn    string     // in a system call (state GoSyscall): where it entered it
	sysSpool bool       // that system call is a spool write
	runnable []interval // its waits for the core
	spooled  []interval // its waits blocked in the spool
}

// spoolWait reports whether a blocking stack is a request waiting for its
// spool group write.
func spoolWait(funcs []string) bool {
	for _, f := range funcs {
		if strings.HasPrefix(f, "github.com/beacongate/beacongate/upstream/spool.(*Spool).Wait") ||
			strings.HasPrefix(f, "github.com/beacongate/beacongate/upstream.(*Pipeline).Wait") {
			return true
		}
	}
	return false
}

// spoolWrite reports whether a stack entering a system call is the spool
// writing a group or its files.
func spoolWrite(funcs []string) bool {
	for _, f := range funcs {
		if strings.HasPrefix(f, "github.com/beacongate/beacongate/upstream/spool.") {
			return true
		}
	}
	return false
}

// Transition is one goroutine state change read from a trace: its time,
// the goroutine, its states before and after, and the function names of
// the goroutine's own stack at that moment when the trace has it
// (innermost first).
type Transition struct {
	Time     trace.Time
	G        trace.GoID
	From, To trace.GoState
	Funcs    []string
}

// Analyze reads a trace (as runtime/trace or /debug/pprof/trace write it)
// and reports its stalls, telling roles apart with classify.
func Analyze(r io.Reader, classify Classifier) (*Report, error) {
	tr, err := trace.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("reading the trace: %w", err)
	}
	var ts []Transition
	var first, last trace.Time
	seen := false
	for {
		ev, err := tr.ReadEvent()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the trace: %w", err)
		}
		t := ev.Time()
		if !seen {
			first, seen = t, true
		}
		last = t
		if ev.Kind() != trace.EventStateTransition {
			continue
		}
		st := ev.StateTransition()
		if st.Resource.Kind != trace.ResourceGoroutine {
			continue
		}
		id := st.Resource.Goroutine()
		from, to := st.Goroutine()
		// The goroutine's own stack: the transition's, or the event's when
		// the goroutine itself made it (blocking, yielding, a system call).
		stk := st.Stack
		if stk == trace.NoStack && ev.Goroutine() == id {
			stk = ev.Stack()
		}
		ts = append(ts, Transition{Time: t, G: id, From: from, To: to, Funcs: stackFuncs(nil, stk)})
	}
	rep := AnalyzeTransitions(ts, classify)
	rep.Span = last.Sub(first)
	return rep, nil
}

// AnalyzeTransitions reports the stalls in ts, which are in time order;
// Span is left for the caller (the trace's first and last events need not
// be transitions).
func AnalyzeTransitions(ts []Transition, classify Classifier) *Report {
	gs := map[trace.GoID]*gstate{}
	get := func(id trace.GoID) *gstate {
		g := gs[id]
		if g == nil {
			g = &gstate{state: trace.GoUndetermined}
			gs[id] = g
		}
		return g
	}
	rep := &Report{}
	// Runs and system calls are kept until the roles are known (a
	// goroutine may show its stack only after some of them).
	type run struct {
		g     trace.GoID
		iv    interval
		fn    string
		call  bool // a system call, not a run on the core
		spool bool // a system call of the spool's writes
	}
	var runs []run
	// starts are the times goroutines began to run, in time order: a
	// system call held the core until another goroutine began to run (one
	// P, as compare runs the gateway) or it returned.
	type start struct {
		t trace.Time
		g trace.GoID
	}
	var starts []start
	for _, tn := range ts {
		t, id, from, to, funcs := tn.Time, tn.G, tn.From, tn.To, tn.Funcs
		g := get(id)
		if len(funcs) > 0 && g.role == RoleOther {
			g.role = classify(funcs)
		}
		if g.state != trace.GoUndetermined {
			iv := interval{g.since, t}
			switch from {
			case trace.GoRunning:
				runs = append(runs, run{g: id, iv: iv, fn: ownFunc(funcs)})
			case trace.GoSyscall:
				runs = append(runs, run{g: id, iv: iv, fn: g.sysFn, call: true, spool: g.sysSpool})
			case trace.GoRunnable:
				g.runnable = append(g.runnable, iv)
			case trace.GoWaiting:
				if g.inSpool {
					g.spooled = append(g.spooled, iv)
				}
			}
		}
		if to == trace.GoRunning {
			starts = append(starts, start{t, id})
		}
		g.inSpool = to == trace.GoWaiting && spoolWait(funcs)
		if to == trace.GoSyscall {
			g.sysFn, g.sysSpool = ownFunc(funcs), spoolWrite(funcs)
		}
		g.state, g.since = to, t
	}
	var busy []interval // the core held by work that is not serving requests
	var busyFn []string // busy's functions (before merging)
	for _, r := range runs {
		role := gs[r.g].role
		d := r.iv.to.Sub(r.iv.from)
		longest := &rep.LongestRun[role]
		if r.call {
			longest = &rep.LongestSyscall[role]
		}
		if d > longest.D {
			*longest = Stretch{D: d, Func: r.fn}
		}
		if r.spool && d > rep.LongestSpoolWrite.D {
			rep.LongestSpoolWrite = Stretch{D: d, Func: r.fn}
		}
		if role != RoleBackground && !r.spool {
			continue
		}
		iv := r.iv
		if r.call {
			// Held until another goroutine ran on the core (GOMAXPROCS=1).
			i, _ := slices.BinarySearchFunc(starts, iv.from, func(s start, t trace.Time) int { return cmp.Compare(s.t, t) })
			for ; i < len(starts) && starts[i].t < iv.to; i++ {
				if starts[i].g != r.g {
					iv.to = starts[i].t
					break
				}
			}
		}
		busy = append(busy, iv)
		busyFn = append(busyFn, r.fn)
	}
	each := slices.Clone(busy)
	busy = merge(busy)
	var waits, spooled, stalls []time.Duration
	var worst interval // the wait with the longest stall
	var worstD time.Duration
	stall := func(iv interval) {
		d := overlap(busy, iv)
		if d > worstD {
			worst, worstD = iv, d
		}
		stalls = append(stalls, d)
	}
	for _, g := range gs {
		rep.Goroutines[g.role]++
		if g.role != RoleRequest {
			continue
		}
		for _, iv := range g.runnable {
			waits = append(waits, iv.to.Sub(iv.from))
			stall(iv)
		}
		for _, iv := range g.spooled {
			spooled = append(spooled, iv.to.Sub(iv.from))
			stall(iv)
		}
	}
	// What held the core longest during the worst stall.
	var most time.Duration
	for i, iv := range each {
		if d := overlap([]interval{iv}, worst); d > most {
			most, rep.StallBehind = d, busyFn[i]
		}
	}
	rep.Waits, rep.SpoolWaits = len(waits), len(spooled)
	rep.WaitP99, rep.WaitMax = p99Max(waits)
	rep.SpoolWaitP99, rep.SpoolWaitMax = p99Max(spooled)
	rep.StallP99, rep.StallMax = p99Max(stalls)
	for _, s := range stalls {
		if s > time.Millisecond {
			rep.StallsOver1ms++
		}
		if s > 2*time.Millisecond {
			rep.StallsOver2ms++
		}
	}
	return rep
}

// stackFuncs appends the function names of stk, innermost first.
func stackFuncs(dst []string, stk trace.Stack) []string {
	for f := range stk.Frames() {
		dst = append(dst, f.Func)
	}
	return dst
}

// ownFunc returns the innermost of funcs in the gateway's own packages,
// else the innermost, else "".
func ownFunc(funcs []string) string {
	for _, f := range funcs {
		if strings.HasPrefix(f, "github.com/beacongate/beacongate/") {
			return strings.TrimPrefix(f, "github.com/beacongate/beacongate/")
		}
	}
	if len(funcs) > 0 {
		return funcs[0]
	}
	return ""
}

// merge sorts ivs and joins those that overlap.
func merge(ivs []interval) []interval {
	slices.SortFunc(ivs, func(a, b interval) int {
		if a.from != b.from {
			return int(a.from - b.from)
		}
		return int(a.to - b.to)
	})
	out := ivs[:0]
	for _, iv := range ivs {
		if n := len(out); n > 0 && iv.from <= out[n-1].to {
			out[n-1].to = max(out[n-1].to, iv.to)
			continue
		}
		out = append(out, iv)
	}
	return out
}

// overlap returns how much of w the sorted, disjoint ivs cover.
func overlap(ivs []interval, w interval) time.Duration {
	i, _ := slices.BinarySearchFunc(ivs, w.from, func(iv interval, t trace.Time) int {
		if iv.to <= t {
			return -1
		}
		return 1
	})
	var d time.Duration
	for ; i < len(ivs) && ivs[i].from < w.to; i++ {
		from, to := max(ivs[i].from, w.from), min(ivs[i].to, w.to)
		if to > from {
			d += to.Sub(from)
		}
	}
	return d
}

// p99Max returns the 99th percentile (nearest rank) and the largest of ds,
// which it sorts; zeros for none.
func p99Max(ds []time.Duration) (p99, most time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	slices.Sort(ds)
	rank := (99*len(ds) + 99) / 100 // ceil(0.99 n)
	return ds[rank-1], ds[len(ds)-1]
}

// Write prints r as a few lines of text.
func (r *Report) Write(w io.Writer) error {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/1e6) }
	var b strings.Builder
	fmt.Fprintf(&b, "trace span %s; goroutines: %d request, %d background, %d other\n",
		ms(r.Span), r.Goroutines[RoleRequest], r.Goroutines[RoleBackground], r.Goroutines[RoleOther])
	for _, role := range []Role{RoleBackground, RoleRequest, RoleOther} {
		fmt.Fprintf(&b, "longest run on the core, %-11s %s (ended in %s); longest system call %s (%s)\n", role.String()+":",
			ms(r.LongestRun[role].D), orNone(r.LongestRun[role].Func), ms(r.LongestSyscall[role].D), orNone(r.LongestSyscall[role].Func))
	}
	fmt.Fprintf(&b, "longest system call of the spool's writes: %s (%s)\n", ms(r.LongestSpoolWrite.D), orNone(r.LongestSpoolWrite.Func))
	fmt.Fprintf(&b, "request waits for the core: %d, p99 %s, longest %s\n", r.Waits, ms(r.WaitP99), ms(r.WaitMax))
	fmt.Fprintf(&b, "request waits in the spool for their group write: %d, p99 %s, longest %s\n", r.SpoolWaits, ms(r.SpoolWaitP99), ms(r.SpoolWaitMax))
	fmt.Fprintf(&b, "stalls by spool, shipper or sink work (the part of those waits): p99 %s, longest %s (behind %s), over 1 ms: %d, over 2 ms: %d\n",
		ms(r.StallP99), ms(r.StallMax), orNone(r.StallBehind), r.StallsOver1ms, r.StallsOver2ms)
	_, err := io.WriteString(w, b.String())
	return err
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
