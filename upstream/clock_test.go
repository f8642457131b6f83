package upstream

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestFileNamesAtEveryInstant runs a pipeline on a clock pinned at each
// clock-shift instant: output files and dead-letter batches are named from
// that clock, a file rolls when the clock says it is RollAge old, and the
// age of the oldest unsent record is measured on it.
func TestFileNamesAtEveryInstant(t *testing.T) {
	for _, in := range clocktest.Instants {
		t.Run(in.Name, func(t *testing.T) {
			t.Parallel()
			testFileNamesAt(t, in.Time)
		})
	}
}

func testFileNamesAt(t *testing.T, start time.Time) {
	data := t.TempDir()
	clk := clock.NewManual(start)
	reg := prometheus.NewRegistry()
	refused := &memSink{ids: newIDSet(), t: t}
	permanent := Permanent(errors.New("refused for the test"))
	refused.fail.Store(&permanent)
	stuck := &memSink{ids: newIDSet(), t: t}
	retry := error(errors.New("down for the test"))
	stuck.fail.Store(&retry)
	fast := BatchOptions{MaxEvents: 10, MaxAge: time.Millisecond}
	p := openP(t, Options{DataDir: data, Clock: clk, Registerer: reg, Destinations: []DestinationOptions{
		{Name: "file", File: &FileOptions{RollAge: time.Minute}, Batch: fast},
		{Name: "refused", Sink: refused, Batch: fast},
		{Name: "stuck", Sink: stuck, Batch: fast, Retry: RetryOptions{Initial: time.Hour}},
	}})
	// Stop every shipper before the temporary directory is removed (this
	// cleanup runs first). The stuck destination sleeps through its
	// hour-long backoff, so Close is not waited out: a cancelled ctx
	// stops the shippers at once, and Close then reports the undrained
	// destinations with ctx's error, and nothing else.
	t.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := p.Close(ctx)
		errs := []error{err}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap()
		}
		for _, e := range errs {
			if e != nil && !errors.Is(e, context.Canceled) {
				t.Errorf("Close: %v", e)
			}
		}
	})
	var a appender
	a.run(t, p, "c", 1, 3, RouteTo(0)|RouteTo(1)|RouteTo(2))

	out := filepath.Join(data, "out")
	first := fmt.Sprintf("events-%s-000001.ndjson.zst", start.UTC().Format("20060102T150405Z"))
	waitFor(t, "the first output file", 10*time.Second, func() bool { return exists(filepath.Join(out, first+".part")) })
	// A batch goes out once its first record is MaxAge old on the
	// monotonic clock (the manual one does not move), so how the three
	// records split into batches, hence dead-letter files, depends on the
	// scheduler. Whatever the split, every file is named from the clock,
	// and together they hold the three records, each with its reason.
	dl := filepath.Join(data, "deadletter", "refused")
	var dls []DeadLetter
	waitFor(t, "the dead-letter batches", 10*time.Second, func() bool {
		var err error
		if dls, err = ListDeadLetters(dl); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, d := range dls {
			if d.Records < 0 || d.Reason == "" { // .error not written yet
				return false
			}
			n += d.Records
		}
		return n >= 3
	})
	n := 0
	for _, d := range dls {
		n += d.Records
		if name := filepath.Base(d.Path); !strings.HasPrefix(name, start.UTC().Format("20060102T150405.000Z")+"-") || !strings.HasSuffix(name, ".ndjson.zst") {
			t.Errorf("dead-letter batch %s; want it named from the clock, %s", name, start.UTC().Format("20060102T150405.000Z"))
		}
		if !strings.Contains(d.Reason, "refused for the test") {
			t.Errorf("%s: reason %q", filepath.Base(d.Path), d.Reason)
		}
	}
	if n != 3 {
		t.Errorf("%d dead-lettered records in %d batches; want 3", n, len(dls))
	}

	// The stuck destination holds records appended at start: their age is
	// the clock's distance from start, whatever the wall clock says.
	waitFor(t, "the stuck batch", 10*time.Second, func() bool { return p.shippers[2].oldestMS.Load() != 0 })
	clk.Advance(90 * time.Second)
	if age := gaugeValue(t, reg, "beacongate_upstream_oldest_unsent_record_age_seconds", "stuck"); age != 90 {
		t.Fatalf("oldest unsent record age %v s; want 90 (clock moved 90 s)", age)
	}

	// 90 s > RollAge: the roller finishes the file; the next batch opens a
	// file named from the clock's current reading.
	waitFor(t, "the rolled file", 10*time.Second, func() bool { return exists(filepath.Join(out, first)) })
	a.run(t, p, "d", 1, 3, RouteTo(0))
	second := fmt.Sprintf("events-%s-000002.ndjson.zst", start.Add(90*time.Second).UTC().Format("20060102T150405Z"))
	waitFor(t, "the second output file", 10*time.Second, func() bool { return exists(filepath.Join(out, second+".part")) })
	stuck.fail.Store(nil)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// gaugeValue returns the value of gauge name for destination dest.
func gaugeValue(t testing.TB, reg *prometheus.Registry, name, dest string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "destination" && l.GetValue() == dest {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{destination=%q}", name, dest)
	return 0
}
