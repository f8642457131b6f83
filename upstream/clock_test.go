package upstream

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	var a appender
	a.run(t, p, "c", 1, 3, RouteTo(0)|RouteTo(1)|RouteTo(2))

	out := filepath.Join(data, "out")
	first := fmt.Sprintf("events-%s-000001.ndjson.zst", start.UTC().Format("20060102T150405Z"))
	waitFor(t, "the first output file", 10*time.Second, func() bool { return exists(filepath.Join(out, first+".part")) })
	dl := filepath.Join(data, "deadletter", "refused")
	waitFor(t, "the dead-letter batch", 10*time.Second, func() bool {
		m, _ := filepath.Glob(filepath.Join(dl, start.UTC().Format("20060102T150405.000Z")+"-*.ndjson.zst"))
		return len(m) == 1
	})

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
