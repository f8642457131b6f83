package compare

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/beacongate/beacongate/bench/loadgen"
)

// workload is one kind of traffic of the workloads phase: a closed-loop
// maximum against the reference gateway and against the fasthttp ceiling,
// so CPU per request can be compared endpoint by endpoint.
type workload struct {
	Key  string // in -workloads
	Name string // in the report
	// Only is the loadgen only= key: the endpoint alone, without malformed
	// requests or bots. Empty for the whole traffic mix.
	Only     string
	Full     bool // loadgen full=1: every pixel with all its parts
	Distinct int  // loadgen -distinct; 0 leaves loadgen's default
	// Event names what CPU per event divides by, for the report.
	Event string
}

// workloads are the known workloads, in the order they run and report.
// "pixel (one request)" is the single realistic pixel repeated (page URL
// with a query, referrer, uid, TC string, desktop Chrome): the best case of
// every cache and branch predictor. The varied ones cycle loadgen's 4096
// distinct requests of that endpoint.
var workloads = []workload{
	{Key: "pixel-one", Name: "pixel (one request)", Only: "pixel", Full: true, Distinct: 1, Event: "event"},
	{Key: "pixel", Name: "pixel (varied)", Only: "pixel", Event: "event"},
	{Key: "beacon", Name: "beacon (varied)", Only: "beacon", Event: "event"},
	{Key: "ble", Name: "ble (varied)", Only: "ble", Event: "sighting"},
	{Key: mixKey, Name: "realistic mix", Event: "event"},
}

// mixKey is the workload of the whole traffic mix. Its first round is the
// maximum-throughput runs of the reference gateway and the fasthttp
// ceiling, which run that traffic already; further rounds (Options.Rounds)
// run it again with the same windows.
const mixKey = "mix"

func workloadKeys() []string {
	keys := make([]string, len(workloads))
	for i, w := range workloads {
		keys[i] = w.Key
	}
	return keys
}

func workloadByKey(key string) (workload, bool) {
	for _, w := range workloads {
		if w.Key == key {
			return w, true
		}
	}
	return workload{}, false
}

// parseWorkloads reads -workloads: "all", "none" (or empty), or keys
// separated by commas. The result is in the canonical order, without
// repeats.
func parseWorkloads(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "all":
		return workloadKeys(), nil
	case "", "none":
		return nil, nil
	}
	want := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if _, ok := workloadByKey(f); !ok {
			return nil, fmt.Errorf("unknown workload %q; known: all, none, %s", f, strings.Join(workloadKeys(), ", "))
		}
		want[f] = true
	}
	var out []string
	for _, k := range workloadKeys() {
		if want[k] {
			out = append(out, k)
		}
	}
	return out, nil
}

// mix returns the loadgen -mix value for w on top of the run's base mix:
// the base's seed and forwarded share stay.
func (w workload) mix(base string) string {
	m := base
	if w.Only != "" {
		m += ",only=" + w.Only
	}
	if w.Full {
		m += ",full=1"
	}
	return m
}

// WorkloadResult is one workload's figures on the reference gateway and the
// fasthttp ceiling.
type WorkloadResult struct {
	Key, Name, Event string
	Mix              string // loadgen -mix
	Distinct         int    // loadgen -distinct; 0 for its default
	// FromMax: the first round is the maximum-throughput runs.
	FromMax bool
	// Gateway and Ceiling are the round with the median ratio (the lower
	// of the middle two for an even count) among those where both sides
	// were measured without an error, else the last round.
	Gateway, Ceiling WorkloadRun
	// Rounds are every round, in the order run.
	Rounds []WorkloadRound
}

// WorkloadRound is one round of a workload: the gateway, then the ceiling.
type WorkloadRound struct{ Gateway, Ceiling WorkloadRun }

// ratio is the round's CPURatio.
func (w WorkloadRound) ratio() float64 { return cpuRatio(w.Gateway, w.Ceiling) }

// pickMedian sets Gateway and Ceiling from the rounds.
func (w *WorkloadResult) pickMedian() {
	if len(w.Rounds) == 0 {
		return
	}
	var ok []WorkloadRound
	for _, r := range w.Rounds {
		if r.Gateway.Err == "" && r.Ceiling.Err == "" && r.ratio() > 0 {
			ok = append(ok, r)
		}
	}
	pick := w.Rounds[len(w.Rounds)-1]
	if len(ok) > 0 {
		slices.SortStableFunc(ok, func(a, b WorkloadRound) int { return cmp.Compare(a.ratio(), b.ratio()) })
		pick = ok[(len(ok)-1)/2]
	}
	w.Gateway, w.Ceiling = pick.Gateway, pick.Ceiling
}

// WorkloadRun is one closed-loop run of a workload.
type WorkloadRun struct {
	Result *loadgen.Result // nil when not measured
	Wait   float64         // as TargetResult.MaxWait
	Err    string
}

// cpuPerRequest returns the server CPU µs per request, or 0 if unknown.
func (w WorkloadRun) cpuPerRequest() float64 {
	if w.Result == nil || w.Result.Server == nil {
		return 0
	}
	return w.Result.Server.CPUMicrosPerRequest
}

// CPURatio is the ceiling's CPU per request divided by the gateway's: the
// share of the ceiling's efficiency the gateway reaches (1 = as cheap as
// bare fasthttp). 0 when either is unknown.
func (w *WorkloadResult) CPURatio() float64 { return cpuRatio(w.Gateway, w.Ceiling) }

// cpuRatio is the ceiling's CPU per request divided by the gateway's, 0
// when either is unknown.
func cpuRatio(gateway, ceiling WorkloadRun) float64 {
	g, c := gateway.cpuPerRequest(), ceiling.cpuPerRequest()
	if g <= 0 || c <= 0 {
		return 0
	}
	return c / g
}

// workloadPhase runs the selected workloads in Options.Rounds rounds: in
// each, every workload on the gateway and then on the ceiling (a fresh
// process per run, the gateway with a spool of its own). The mix's first
// round is the maximum-throughput runs. gateway is nil when the gateway
// was not built. Failures are recorded in the results.
func (r *runner) workloadPhase(ctx context.Context, gateway *target, ceiling target, rep *Report) []*WorkloadResult {
	var out []*WorkloadResult
	for _, key := range r.o.Workloads {
		w, ok := workloadByKey(key)
		if !ok {
			continue // Options are checked by the command; a library caller gets what is known
		}
		wr := &WorkloadResult{Key: w.Key, Name: w.Name, Event: w.Event, Mix: w.mix(r.o.Mix), Distinct: w.Distinct}
		out = append(out, wr)
		if w.Key == mixKey {
			wr.FromMax = true
			first := WorkloadRound{Gateway: WorkloadRun{Err: "no gateway durability"}, Ceiling: fromMax(rep, nameCeiling)}
			if len(r.o.Durabilities) > 0 {
				first.Gateway = fromMax(rep, gatewayName(r.o.Durabilities[0]))
			}
			wr.Rounds = append(wr.Rounds, first)
		}
	}
	for round := 1; round <= max(r.o.Rounds, 1); round++ {
		for _, wr := range out {
			if wr.FromMax && round == 1 {
				continue
			}
			wr.Rounds = append(wr.Rounds, r.workloadRound(ctx, gateway, ceiling, wr, round))
		}
	}
	for _, wr := range out {
		wr.pickMedian()
	}
	return out
}

// workloadRound measures one round of wr: on the gateway (when built),
// then on the ceiling.
func (r *runner) workloadRound(ctx context.Context, gateway *target, ceiling target, wr *WorkloadResult, round int) WorkloadRound {
	l := load{mode: "closed", warmup: r.o.WorkWarmup, duration: r.o.WorkDuration, mix: wr.Mix, distinct: wr.Distinct}
	if wr.FromMax {
		// The same windows as the maximum-throughput runs, its first round.
		l.warmup, l.duration = r.o.MaxWarmup, r.o.MaxDuration
	}
	var rd WorkloadRound
	if gateway != nil {
		rd.Gateway = r.workloadRun(ctx, *gateway, wr, l, round)
	} else {
		rd.Gateway.Err = "gateway not built"
	}
	rd.Ceiling = r.workloadRun(ctx, ceiling, wr, l, round)
	return rd
}

// workloadRun measures wr on a fresh process of t. A fresh process per
// run: a gateway's spool and shipper would otherwise still be working off
// the previous workload's backlog while the next one is measured.
func (r *runner) workloadRun(ctx context.Context, t target, wr *WorkloadResult, l load, round int) WorkloadRun {
	var run WorkloadRun
	if ctx.Err() != nil {
		run.Err = "not run: the run was interrupted"
		return run
	}
	if t.dataDir != "" {
		// An empty spool: the previous workload's backlog is not
		// shipped during this one.
		if err := os.RemoveAll(t.dataDir); err != nil {
			run.Err = err.Error()
			return run
		}
	}
	srv, err := r.start(ctx, t)
	if err != nil {
		run.Err = err.Error()
		return run
	}
	res, wait, err := r.run(ctx, srv, l)
	run.Result, run.Wait = res, wait
	if stopErr := srv.stop(); err == nil && stopErr != nil {
		err = stopErr
	}
	if err != nil {
		run.Err = err.Error()
		fmt.Fprintf(r.log, "compare:   round %d, %s on %s: %v\n", round, wr.Name, t.name, firstLine(err.Error()))
		return run
	}
	fmt.Fprintf(r.log, "compare:   round %d, %-20s on %-18s %s req/s, %.2f CPU µs/request, %.2f CPU µs/%s\n", round, wr.Name, t.name,
		loadgen.Group(res.Throughput, 0), run.cpuPerRequest(), serverPerEvent(res), wr.Event)
	return run
}

// fromMax returns the closed-loop run of the named target of the main phase.
func fromMax(rep *Report, name string) WorkloadRun {
	t := rep.target(name)
	switch {
	case t == nil:
		return WorkloadRun{Err: name + " not measured"}
	case t.Max == nil:
		return WorkloadRun{Err: firstLine(t.Err)}
	}
	return WorkloadRun{Result: t.Max, Wait: t.MaxWait}
}

func serverPerEvent(r *loadgen.Result) float64 {
	if r == nil || r.Server == nil {
		return 0
	}
	return r.Server.CPUMicrosPerEvent
}

// Goal is one target of issue 21 with what this run measured.
type Goal struct {
	Name     string
	Value    float64 // measured, valid when Measured
	Measured bool
	Target   float64
	AtMost   bool   // the target is an upper bound; otherwise a lower bound
	Unit     string // "" for a ratio, "µs"
	// Uncertainty, when known, is how far Value may be off from what it
	// measures (the allocation figure: its scrapes' spread); the verdict
	// still reads Value.
	Uncertainty float64
}

// Met reports whether the measured value reaches the target.
func (g Goal) Met() bool {
	if !g.Measured {
		return false
	}
	if g.AtMost {
		return g.Value <= g.Target
	}
	return g.Value >= g.Target
}

// unitAllocs is the unit of the allocation goal, shown with three
// decimals: its target is 0.01.
const unitAllocs = "allocs"

func (g Goal) format(v float64) string {
	switch {
	case g.Unit == "":
		return fmt.Sprintf("%.2f", v)
	case g.Unit == unitAllocs:
		return fmt.Sprintf("%.3f", v)
	case v >= 100:
		return num(v) + " " + g.Unit
	}
	return fmt.Sprintf("%.2f %s", v, g.Unit)
}

func (g Goal) measured() string {
	if !g.Measured {
		return "not measured"
	}
	if g.Uncertainty > 0 {
		return g.format(g.Value) + " ± " + g.format(g.Uncertainty)
	}
	return g.format(g.Value)
}

func (g Goal) target() string {
	if g.AtMost {
		return "≤ " + g.format(g.Target)
	}
	return "≥ " + g.format(g.Target)
}

func (g Goal) verdict() string {
	switch {
	case !g.Measured:
		return ""
	case g.Met():
		return "met"
	}
	return "not met"
}

// Goals returns the targets of issue 21 with this run's figures: CPU per
// request against the ceiling on the single pixel, beacons and the
// realistic mix; gateway CPU per BLE sighting; the gateway's allocations per
// request on the mix (the whole process); the reference gateway's p99
// and longest request at 50 % of its maximum. Nil when neither the
// workloads phase nor a 50 % level ran.
func (r *Report) Goals() []Goal {
	var goals []Goal
	ratio := func(key, name string, target float64) {
		g := Goal{Name: name, Target: target}
		if w := r.workload(key); w != nil {
			g.Value = w.CPURatio()
			g.Measured = g.Value > 0
		}
		goals = append(goals, g)
	}
	if len(r.Workloads) > 0 {
		ratio("pixel-one", "single pixel: ceiling / gateway CPU per request", 0.75)
		ratio("beacon", "beacon (varied): ceiling / gateway CPU per request", 0.75)
		ratio(mixKey, "realistic mix: ceiling / gateway CPU per request", 0.50)
		g := Goal{Name: "BLE: gateway CPU per sighting", Target: 1.5, AtMost: true, Unit: "µs"}
		if w := r.workload("ble"); w != nil {
			g.Value = serverPerEvent(w.Gateway.Result)
			g.Measured = g.Value > 0
		}
		goals = append(goals, g)
		a := Goal{Name: "realistic mix: gateway allocations per request (whole process)", Target: 0.01, AtMost: true, Unit: unitAllocs}
		// 0 allocations is a figure, not a missing one: the scrape's own
		// allocations show that the server exports the count.
		if w := r.workload(mixKey); w != nil && w.Gateway.Result != nil && w.Gateway.Result.Server != nil {
			s := w.Gateway.Result.Server
			a.Value, a.Measured = s.AllocsPerRequest, s.CPUMicrosPerRequest > 0 && s.ScrapeMallocs > 0
			a.Uncertainty = s.AllocsUncertainty
		}
		goals = append(goals, a)
	}
	var at50 *loadgen.Result
	if len(r.Options.Durabilities) > 0 {
		at50 = r.target(gatewayName(r.Options.Durabilities[0])).level(50)
	}
	if at50 == nil && !slices.Contains(r.Options.Levels, 50) {
		return goals
	}
	p99 := Goal{Name: "gateway p99 at 50 % of its max", Target: 1000, AtMost: true, Unit: "µs"}
	longest := Goal{Name: "gateway longest request at 50 % of its max", Target: 2000, AtMost: true, Unit: "µs"}
	if at50 != nil && at50.Latency.Count > 0 {
		p99.Value, p99.Measured = at50.Latency.P99, true
		longest.Value, longest.Measured = at50.Latency.Max, true
	}
	goals = append(goals, p99, longest)
	if r.Stalls != nil {
		g := Goal{Name: "longest request stall by spool, shipper or sink work at 50 % (execution trace)", Target: 2000, AtMost: true, Unit: "µs"}
		if s := r.Stalls.Stalls; s != nil && s.Waits > 0 {
			g.Value, g.Measured = float64(s.StallMax)/1e3, true
		}
		goals = append(goals, g)
	}
	return goals
}

func (r *Report) workload(key string) *WorkloadResult {
	for _, w := range r.Workloads {
		if w.Key == key {
			return w
		}
	}
	return nil
}

// appendWorkloads writes the "Per workload" section.
func (r *Report) appendWorkloads(b *bytes.Buffer) {
	if len(r.Workloads) == 0 {
		return
	}
	o := r.Options
	ref := "the reference gateway"
	if len(o.Durabilities) > 0 {
		ref = gatewayName(o.Durabilities[0])
	}
	rounds := 0
	for _, w := range r.Workloads {
		rounds = max(rounds, len(w.Rounds))
	}
	b.WriteString("## Per workload\n\n")
	fmt.Fprintf(b, "Closed loop, %d connections, %v after %v warm-up, against %s and %s, each endpoint alone (no malformed requests, no bots; the realistic mix is the whole traffic). "+
		"*ratio* is the ceiling's server CPU per request divided by the gateway's. CPU µs per event divides by the events of requests answered 2xx (BLE: sightings). "+
		"Allocations are the gateway's; *CPU wait* (gateway / ceiling) as in the maximum-throughput table.\n\n",
		o.Conns, o.WorkDuration, o.WorkWarmup, ref, nameCeiling)
	if rounds > 1 {
		fmt.Fprintf(b, "Each workload ran in %d rounds, the gateway and then the ceiling in each, on fresh processes; a row shows the round with the median ratio "+
			"(the lower of the middle two for an even count) among those without an error, and *ratio, each round* all of them in the order run; "+
			"the notes say what went wrong in the others.", rounds)
		if r.workload(mixKey) != nil {
			fmt.Fprintf(b, " The realistic mix's first round is the maximum-throughput runs; its later rounds use their windows (%v after %v warm-up).", o.MaxDuration, o.MaxWarmup)
		}
		b.WriteString("\n\n")
	}
	b.WriteString("| workload | gateway req/s | ceiling req/s | gateway CPU µs/request | ceiling CPU µs/request | ratio ceiling / gateway | ")
	if rounds > 1 {
		b.WriteString("ratio, each round | ")
	}
	b.WriteString("gateway CPU µs/event | allocs/request | CPU wait | note |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|")
	if rounds > 1 {
		b.WriteString("---|")
	}
	b.WriteString("---:|---:|---:|---|\n")
	for _, w := range r.Workloads {
		g, c := w.Gateway.Result, w.Ceiling.Result
		perEvent, allocs := "—", "—"
		if g != nil && g.Server != nil {
			perEvent = fmt.Sprintf("%.2f", g.Server.CPUMicrosPerEvent)
			if w.Event != "event" {
				perEvent += " per " + w.Event
			}
			allocs = fmt.Sprintf("%.3f", g.Server.AllocsPerRequest)
		}
		ratio := "—"
		if v := w.CPURatio(); v > 0 {
			ratio = fmt.Sprintf("%.2f", v)
		}
		var notes []string
		if w.FromMax && (len(w.Rounds) == 0 || g != nil && g == w.Rounds[0].Gateway.Result) {
			// Statuses and saturation are in that table.
			notes = append(notes, "the maximum-throughput runs above")
		} else {
			notes = append(notes, runNotes("gateway", w.Gateway, !w.FromMax)...)
			notes = append(notes, runNotes("ceiling", w.Ceiling, !w.FromMax)...)
		}
		// What went wrong in the rounds not shown (the mix's first round
		// has its own table).
		for i, rd := range w.Rounds {
			if rd.Gateway.Result == g && rd.Ceiling.Result == c || i == 0 && w.FromMax {
				continue
			}
			prefix := fmt.Sprintf("round %d, ", i+1)
			notes = append(notes, runNotes(prefix+"gateway", rd.Gateway, !w.FromMax)...)
			notes = append(notes, runNotes(prefix+"ceiling", rd.Ceiling, !w.FromMax)...)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | ", w.Name,
			throughput(g), throughput(c), cpuCell(w.Gateway), cpuCell(w.Ceiling), ratio)
		if rounds > 1 {
			b.WriteString(roundRatios(w) + " | ")
		}
		fmt.Fprintf(b, "%s | %s | %s / %s | %s |\n", perEvent, allocs,
			runWait(w.Gateway), runWait(w.Ceiling), mdCell(strings.Join(notes, "; ")))
	}
	b.WriteString("\nTraffic (`loadgen` flags):\n\n")
	for _, w := range r.Workloads {
		d := ""
		if w.Distinct > 0 {
			d = fmt.Sprintf(" -distinct %d", w.Distinct)
		}
		fmt.Fprintf(b, "- %s: `-mix %s%s`\n", w.Name, w.Mix, d)
	}
	b.WriteString("\n")
	r.appendCacheHits(b)
}

// cacheOrder is the order of the engine's caches in the hit-rate table.
var cacheOrder = [...]string{"consent", "user_agent", "url", "text"}

// appendCacheHits writes the share of hits among the lookups in the
// gateway engine's caches for each workload's row (its round shown), when
// the gateway reported them.
func (r *Report) appendCacheHits(b *bytes.Buffer) {
	var rows []string
	for _, w := range r.Workloads {
		g := w.Gateway.Result
		if g == nil || g.Server == nil || len(g.Server.CacheHitRates) == 0 {
			continue
		}
		row := "| " + w.Name + " |"
		for _, c := range cacheOrder {
			if v, ok := g.Server.CacheHitRates[c]; ok {
				row += fmt.Sprintf(" %.1f %% |", 100*v)
			} else {
				row += " — |"
			}
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("Cache hits of the gateway's privacy engine in each row's run (`beacongate_anonymize_cache_lookups_total`): the share of lookups that hit, " +
		"among those a worker's memo of its last results did not answer first; — where the run made no lookup in that cache.\n\n")
	b.WriteString("| workload | consent | user agent | URL | text |\n|---|---:|---:|---:|---:|\n")
	for _, row := range rows {
		b.WriteString(row + "\n")
	}
	b.WriteString("\n")
}

// roundRatios lists the ratio of every round of w, in the order run ("—"
// for a round without one).
func roundRatios(w *WorkloadResult) string {
	var parts []string
	for _, r := range w.Rounds {
		if v := r.ratio(); v > 0 {
			parts = append(parts, fmt.Sprintf("%.2f", v))
		} else {
			parts = append(parts, "—")
		}
	}
	return strings.Join(parts, ", ")
}

// runNotes says what is wrong with one side of a workload: a failure,
// answers other than 2xx (when statuses is set: the realistic mix has
// them by design, and its statuses are in the maximum-throughput table),
// transport errors, a saturated load generator.
func runNotes(side string, w WorkloadRun, statuses bool) []string {
	if w.Result == nil {
		if w.Err == "" {
			return nil
		}
		return []string{side + " failed: " + firstLine(w.Err)}
	}
	var notes []string
	if w.Err != "" {
		notes = append(notes, side+": "+firstLine(w.Err))
	}
	var ok int64
	for code, n := range w.Result.Status {
		if strings.HasPrefix(code, "2") {
			ok += n
		}
	}
	if statuses && ok < w.Result.Completed {
		notes = append(notes, side+" answered "+statusShares(w.Result))
	}
	if len(w.Result.Errors) > 0 {
		notes = append(notes, side+" errors "+errorsCell(w.Result))
	}
	if clientBound(w.Result) {
		notes = append(notes, side+": load generator saturated, req/s a lower bound")
	}
	return notes
}

func throughput(r *loadgen.Result) string {
	if r == nil {
		return "—"
	}
	return loadgen.Group(r.Throughput, 0)
}

func cpuCell(w WorkloadRun) string {
	if v := w.cpuPerRequest(); v > 0 {
		return fmt.Sprintf("%.2f", v)
	}
	return "—"
}

func runWait(w WorkloadRun) string {
	if w.Result == nil {
		return "—"
	}
	return wait(w.Wait)
}

// firstLine returns the first line of s.
func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
