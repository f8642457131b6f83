package upstream

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
	"github.com/beacongate/beacongate/upstream/spool"
)

// TestRetentionDeletesOnlyOlderThanLimit pins the clock and the files'
// modification times: a file one second past the limit goes, one exactly
// at it and one inside it stay, .part files stay whatever their age.
func TestRetentionDeletesOnlyOlderThanLimit(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	out, dl := t.TempDir(), t.TempDir()
	put := func(dir, name string, age time.Duration) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		m := now.Add(-age)
		if err := os.Chtimes(p, m, m); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const limit = 395 * 24 * time.Hour // 13 months, as CNIL asks
	old := put(out, "events-old.ndjson.zst", limit+time.Second)
	edge := put(out, "events-edge.ndjson.zst", limit)
	young := put(out, "events-young.ndjson.zst", time.Hour)
	part := put(out, "events-open.ndjson.zst.part", 2*limit)
	dlOld := put(dl, "ga/x.ndjson", 8*24*time.Hour)
	dlErr := put(dl, "ga/x.error", 8*24*time.Hour)
	dlYoung := put(dl, "ga/y.ndjson", 6*24*time.Hour)
	// Files the gateway does not write as batches are never deleted, however
	// old: a spool a misconfigured dir holds, a cursor, a key, a temp file.
	var foreign []string
	for _, name := range []string{"spool/00000000000000000001.seg", "spool/local.cursor", "subject.key", "audit.log", "events-x.ndjson.zst.tmp"} {
		foreign = append(foreign, put(out, name, 2*limit))
	}

	// A spool's quarantine folder: damaged segments and torn tails go,
	// what else lies there stays (its rule takes quarantined files only).
	q := t.TempDir()
	qSeg := put(q, "00000000000000000001.seg", 31*24*time.Hour)
	qTail := put(q, "00000000000000000002.seg.tail-4096", 31*24*time.Hour)
	qYoung := put(q, "00000000000000000003.seg", 29*24*time.Hour)
	qOther := put(q, "events-old.ndjson.zst", 2*limit)

	clk := clock.NewManual(now)
	r, err := NewRetention([]RetentionRule{
		{Name: "archive", Dir: out, MaxAge: limit},
		{Name: "deadletter", Dir: dl, MaxAge: 7 * 24 * time.Hour},
		{Name: "forever", Dir: young, MaxAge: 0},
		{Name: "quarantine", Dir: q, MaxAge: 30 * 24 * time.Hour, Files: spool.IsQuarantineFile},
	}, clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	var seen []RetentionDeletion
	r.OnDelete = func(d RetentionDeletion) { seen = append(seen, d) }
	if n := r.Sweep(); n != 5 {
		t.Fatalf("Sweep deleted %d files, want 5", n)
	}
	foreign = append(foreign, qYoung, qOther)
	for _, p := range []string{old, dlOld, dlErr, qSeg, qTail} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s is older than its limit and still there", p)
		}
	}
	for _, p := range append([]string{edge, young, part, dlYoung}, foreign...) {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s must be kept: %v", p, err)
		}
	}
	if got := testutil.ToFloat64(r.deleted.WithLabelValues("archive")); got != 1 {
		t.Errorf("archive deleted counter = %v, want 1", got)
	}
	if got := testutil.ToFloat64(r.deleted.WithLabelValues("deadletter")); got != 2 {
		t.Errorf("deadletter deleted counter = %v, want 2", got)
	}
	if got := testutil.ToFloat64(r.deleted.WithLabelValues("quarantine")); got != 2 {
		t.Errorf("quarantine deleted counter = %v, want 2", got)
	}
	if len(seen) != 3 || seen[0].Name != "archive" || !seen[0].Cutoff.Equal(now.Add(-limit)) || seen[2].Name != "quarantine" {
		t.Errorf("OnDelete saw %+v", seen)
	}
	// One second later the edge file is past the limit too.
	clk.Advance(time.Second)
	if n := r.Sweep(); n != 1 {
		t.Fatalf("second Sweep deleted %d, want 1 (the edge file)", n)
	}
	if _, err := os.Stat(edge); !os.IsNotExist(err) {
		t.Error("edge file kept after it passed the limit")
	}
}

func TestRetentionRejectsBadRules(t *testing.T) {
	if _, err := NewRetention([]RetentionRule{{Name: "a", Dir: "x", MaxAge: -time.Second}}, nil, nil); err == nil {
		t.Error("negative MaxAge accepted")
	}
	if _, err := NewRetention([]RetentionRule{{Dir: "x"}}, nil, nil); err == nil {
		t.Error("rule without a name accepted")
	}
}

// TestRetentionMetricsFromTheStart: each rule's deletion counters are on
// /metrics at 0 from the start. They appeared only at a rule's first
// deletion, so Prometheus's first sample of them already held it, and
// increase() or rate() over that sweep (at a start, the sweep of all that
// expired while the gateway was down) showed no deletion.
func TestRetentionMetricsFromTheStart(t *testing.T) {
	dir := t.TempDir()
	r, err := NewRetention([]RetentionRule{
		{Name: "local", Dir: dir, MaxAge: time.Hour},
		{Name: "deadletter", Dir: dir, MaxAge: time.Hour},
	}, clock.Fixed(clocktest.Golden), nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(r.Collectors()...)
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				got[mf.GetName()+"/"+l.GetName()+"="+l.GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	for _, name := range []string{"beacongate_upstream_retention_deleted_files_total", "beacongate_upstream_retention_deleted_bytes_total"} {
		for _, rule := range []string{"local", "deadletter"} {
			if v, ok := got[name+"/destination="+rule]; !ok || v != 0 {
				t.Errorf("%s{destination=%q} before any deletion: %v, on /metrics %v; want 0, on /metrics", name, rule, v, ok)
			}
		}
	}
}

// TestRetentionCountsDeleteFailures: an expired file that cannot be
// deleted stays past its retention, a breach of the limit the operator
// promised, and was only logged. Each failure is now counted in
// beacongate_upstream_retention_delete_failures_total by rule, at 0 from
// the start. Two real failures: an expired batch replaced, between the
// listing and the deletion, by a non-empty folder of that name (fails
// for root too), and, unless the test runs as root (whom permissions do
// not stop), an expired file in a read-only folder.
func TestRetentionCountsDeleteFailures(t *testing.T) {
	now := clocktest.Golden
	old := now.Add(-48 * time.Hour)
	put := func(p string) {
		t.Helper()
		if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	swapped, ro, fine := t.TempDir(), t.TempDir(), t.TempDir()
	batch := filepath.Join(swapped, "events-1.ndjson.zst")
	put(batch)
	put(filepath.Join(ro, "events-2.ndjson.zst"))
	put(filepath.Join(fine, "events-3.ndjson.zst"))
	swap := func(name string) bool {
		if name == filepath.Base(batch) {
			if err := os.Remove(batch); err != nil {
				t.Error(err)
			}
			if err := os.Mkdir(batch, 0o755); err != nil {
				t.Error(err)
			}
			put(filepath.Join(batch, "inner"))
			if err := os.Chtimes(batch, old, old); err != nil {
				t.Error(err)
			}
		}
		return isBatchFile(name)
	}
	asRoot := os.Getuid() == 0
	if !asRoot {
		if err := os.Chmod(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(ro, 0o755) })
	}
	r, err := NewRetention([]RetentionRule{
		{Name: "swapped", Dir: swapped, MaxAge: time.Hour, Files: swap},
		{Name: "readonly", Dir: ro, MaxAge: time.Hour},
		{Name: "fine", Dir: fine, MaxAge: time.Hour},
	}, clock.Fixed(now), nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(r.Collectors()...)
	failures := func() map[string]float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, mf := range mfs {
			if mf.GetName() != "beacongate_upstream_retention_delete_failures_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					got[l.GetName()+"="+l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
		return got
	}
	before := failures()
	for _, rule := range []string{"swapped", "readonly", "fine"} {
		if v, ok := before["destination="+rule]; !ok || v != 0 {
			t.Errorf("beacongate_upstream_retention_delete_failures_total{destination=%q} before any sweep: %v, on /metrics %v; want 0, on /metrics", rule, v, ok)
		}
	}
	if n := r.Sweep(); asRoot && n != 2 || !asRoot && n != 1 {
		t.Errorf("Sweep deleted %d files", n)
	}
	after := failures()
	want := map[string]float64{"destination=swapped": 1, "destination=readonly": 1, "destination=fine": 0}
	if asRoot {
		want["destination=readonly"] = 0 // root deletes it; permissions do not bite
	}
	for k, v := range want {
		if after[k] != v {
			t.Errorf("beacongate_upstream_retention_delete_failures_total{%s} = %v after the sweep, want %v (all: %v)", k, after[k], v, after)
		}
	}
}
