package upstream

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/prometheus/client_golang/prometheus"
)

// RetentionRule says how long the finished files of one folder are kept.
type RetentionRule struct {
	// Name labels the metric and the log lines: a destination name, or
	// "deadletter" for the dead-letter folder.
	Name string
	// Dir is the folder swept. For dead letters it is the dead-letter root;
	// its per-destination subfolders are swept too.
	Dir string
	// MaxAge is how long a file is kept after it was last written. Zero
	// keeps files forever (the rule is skipped).
	MaxAge time.Duration
	// Files reports whether the rule may delete the file of that name.
	// Nil: finished output batches and dead letters (see expirable), as
	// for file destinations and the dead-letter folder; a spool's
	// quarantine folder uses spool.IsQuarantineFile.
	Files func(name string) bool
}

// RetentionDeletion is one sweep's result for one rule, passed to
// Retention's OnDelete hook (the audit log) when files were deleted.
type RetentionDeletion struct {
	Name    string
	Files   int
	Bytes   int64
	Cutoff  time.Time // files last written before this instant were deleted
	Skipped int       // files that could not be deleted (see the log)
}

// Retention deletes finished output, dead-letter and quarantined spool
// files older than their rule's MaxAge. Age is measured from a file's modification time to the
// injected clock's Now, never the wall clock, so that tests pin it. Files
// still being written (".part", ".tmp") are never touched.
type Retention struct {
	rules    []RetentionRule
	clock    clock.Clock
	log      *slog.Logger
	deleted  *prometheus.CounterVec
	bytes    *prometheus.CounterVec
	failures *prometheus.CounterVec
	OnDelete func(RetentionDeletion) // optional; called after each sweep of a rule that deleted files
}

// NewRetention returns a Retention for rules. Nil clk means clock.Real; nil
// log discards. Register its metrics with Collectors.
func NewRetention(rules []RetentionRule, clk clock.Clock, log *slog.Logger) (*Retention, error) {
	var errs []error
	for i, r := range rules {
		if r.Name == "" || r.Dir == "" {
			errs = append(errs, fmt.Errorf("upstream: retention rule %d needs a name and a dir", i))
		}
		if r.MaxAge < 0 {
			errs = append(errs, fmt.Errorf("upstream: retention of %s must not be negative", r.Name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	vec := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help},
			[]string{"destination"})
	}
	r := &Retention{
		rules: rules, clock: clock.Or(clk), log: log,
		deleted:  vec("retention_deleted_files_total", "Output, dead-letter and quarantined spool files deleted because they were older than their retention."),
		bytes:    vec("retention_deleted_bytes_total", "Bytes of the files deleted by retention."),
		failures: vec("retention_delete_failures_total", "Expired files that could not be deleted, and folders that could not be read, by retention: the files stay past their retention until a sweep deletes them (the log says why)."),
	}
	// Each rule's series is on /metrics at 0 from the start: a series
	// that first appears at its first deletion hides that deletion from
	// increase() and rate(), whose first sample already holds it.
	for _, rule := range rules {
		r.deleted.WithLabelValues(rule.Name)
		r.bytes.WithLabelValues(rule.Name)
		r.failures.WithLabelValues(rule.Name)
	}
	return r, nil
}

// Collectors returns the metrics to register.
func (r *Retention) Collectors() []prometheus.Collector {
	return []prometheus.Collector{r.deleted, r.bytes, r.failures}
}

// Rules returns the rules with a limit, for reports.
func (r *Retention) Rules() []RetentionRule { return r.rules }

// Sweep deletes every expired file once and returns how many it deleted.
// A file that cannot be deleted, or a folder that cannot be read, is
// logged, counted in beacongate_upstream_retention_delete_failures_total
// and left for the next sweep.
func (r *Retention) Sweep() int {
	now := r.clock.Now()
	total := 0
	for _, rule := range r.rules {
		if rule.MaxAge == 0 {
			continue
		}
		d := RetentionDeletion{Name: rule.Name, Cutoff: now.Add(-rule.MaxAge)}
		ours := rule.Files
		if ours == nil {
			ours = expirable
		}
		filepath.WalkDir(rule.Dir, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				if !errors.Is(err, fs.ErrNotExist) {
					r.failures.WithLabelValues(rule.Name).Inc()
					r.log.Warn("retention: cannot read folder", "rule", rule.Name, "err", err)
				}
				return nil
			}
			if e.IsDir() || !e.Type().IsRegular() {
				return nil
			}
			if !ours(e.Name()) {
				return nil // not a file of the rule's kind: still being written, or not ours
			}
			fi, err := e.Info()
			if err != nil || !fi.ModTime().Before(d.Cutoff) {
				return nil
			}
			if err := os.Remove(path); err != nil {
				d.Skipped++
				r.failures.WithLabelValues(rule.Name).Inc()
				r.log.Warn("retention: cannot delete expired file", "rule", rule.Name, "file", path, "err", err)
				return nil
			}
			d.Files++
			d.Bytes += fi.Size()
			return nil
		})
		if d.Files == 0 && d.Skipped == 0 {
			continue
		}
		r.deleted.WithLabelValues(rule.Name).Add(float64(d.Files))
		r.bytes.WithLabelValues(rule.Name).Add(float64(d.Bytes))
		r.log.Info("retention: deleted expired files", "rule", rule.Name, "files", d.Files,
			"bytes", d.Bytes, "older_than", d.Cutoff.UTC().Format(time.RFC3339), "retention", rule.MaxAge.String())
		if r.OnDelete != nil {
			r.OnDelete(d)
		}
		total += d.Files
	}
	return total
}

// expirable reports whether retention may delete the file named name: a
// finished batch file of a file destination or of the dead letters
// (isBatchFile), or a dead letter's .error beside it. Nothing else,
// whatever else a swept folder holds (a spool inside a misconfigured dir,
// keys, another program's files), and never a file still being written
// (.part, .tmp).
func expirable(name string) bool {
	return isBatchFile(name) || strings.HasSuffix(name, ".error")
}
