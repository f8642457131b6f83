package compare

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/beacongate/beacongate/bench/loadgen"
	"github.com/beacongate/beacongate/bench/stalls"
)

// StallsResult is the stalls phase: the reference gateway at 50 % of its
// maximum on the mix, with an execution trace taken in the middle of the
// run and read by package stalls.
type StallsResult struct {
	Rate   float64         // offered requests/s
	Trace  time.Duration   // length of the trace asked for
	Load   *loadgen.Result // the load generator's run (traced: tracing costs CPU)
	Stalls *stalls.Report
	Err    string
}

// stallsLevel is the load of the stalls phase, % of the gateway's maximum:
// the level of issue 21's latency targets.
const stallsLevel = 50

// stallsPhase starts t with -pprof, offers it rate requests/s of the mix in
// an open loop and takes an execution trace of traceLen from the running
// gateway once the warm-up is over.
func (r *runner) stallsPhase(ctx context.Context, t target, rate float64, traceLen time.Duration) *StallsResult {
	res := &StallsResult{Rate: rate, Trace: traceLen}
	argv := t.argv
	t.argv = func(listen, admin string) []string { return append(argv(listen, admin), "-pprof") }
	srv, err := r.start(ctx, t)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	defer func() {
		if err := srv.stop(); err != nil && res.Err == "" {
			res.Err = err.Error()
		}
	}()
	warmup := time.Second
	l := load{mode: "open", rate: rate, warmup: warmup, duration: traceLen + 2*time.Second}
	type done struct {
		res *loadgen.Result
		err error
	}
	ran := make(chan done, 1)
	go func() {
		res, _, err := r.run(ctx, srv, l)
		ran <- done{res, err}
	}()
	var trace []byte
	select {
	case <-ctx.Done():
		err = ctx.Err()
	case d := <-ran:
		err = fmt.Errorf("the load generator ended before the trace: %v", d.err)
		ran <- d
	case <-time.After(warmup + 500*time.Millisecond):
		trace, err = Fetch(ctx, "http://"+srv.admin+"/debug/pprof/trace?seconds="+fmt.Sprint(traceLen.Seconds()), traceLen+30*time.Second)
	}
	d := <-ran
	res.Load = d.res
	if err == nil {
		err = d.err
	}
	if err != nil {
		res.Err = err.Error()
		return res
	}
	if res.Stalls, err = stalls.Analyze(bytes.NewReader(trace), stalls.Classify); err != nil {
		res.Err = err.Error()
	}
	return res
}

// Fetch GETs url (a profile or trace from a server's admin listener) within
// timeout and returns the body of a 200 answer.
func Fetch(ctx context.Context, url string, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s: %s", url, resp.Status, firstLines(string(b), 3))
	}
	return b, nil
}

// appendStalls writes the stalls section.
func (r *Report) appendStalls(b *bytes.Buffer) {
	s := r.Stalls
	if s == nil {
		return
	}
	b.WriteString("\n## Stalls by background work (execution trace)\n\n")
	fmt.Fprintf(b, "The reference gateway (started again, with `-pprof`) at %d %% of its maximum, %s req/s of the mix in an open loop; "+
		"an execution trace of %v taken from its admin listener after 1.5 s, read by [bench/stalls](../stalls/stalls.go). "+
		"A request's stall by background work is the time it was ready to run while the spool's upkeep, a shipper or a sink ran "+
		"(one core: they held it), or the time it blocked in the spool for its group write. "+
		"What the host does (the hypervisor taking the CPU) is not in the trace: the longest request at 50 %% above shows both.\n\n",
		stallsLevel, loadgen.Group(s.Rate, 0), s.Trace)
	if s.Err != "" {
		fmt.Fprintf(b, "Failed: %s\n", mdCell(firstLines(s.Err, 3)))
		return
	}
	b.WriteString("```\n")
	var sb strings.Builder
	s.Stalls.Write(&sb)
	b.WriteString(sb.String())
	if s.Load != nil {
		fmt.Fprintf(b, "load generator (traced run): %s req/s achieved, p99 %s µs, max %s µs\n",
			loadgen.Group(s.Load.Throughput, 0), num(s.Load.Latency.P99), num(s.Load.Latency.Max))
	}
	b.WriteString("```\n")
}
