package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/anonymize/suppress"
	"github.com/beacongate/beacongate/audit"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/delivery"
	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/upstream/spool"
	"github.com/beacongate/beacongate/wiring"
)

// privacy is the privacy officer's machinery of a running gateway: the
// audit log, the key store, retention and the suppression list. Each part
// is nil when the config turns it off.
type privacy struct {
	suppress     *suppress.List
	audit        *audit.Log
	keyStore     *pseudonym.KeyStore // derived mode with privacy.key_store only
	keyRetention time.Duration
	retention    *upstream.Retention
	stop         chan struct{}
	// running counts the goroutines startPrivacy started (the suppression
	// watcher, the key store watcher, the sweeper): stopPrivacy waits for
	// them, as each may write the audit log or the data directory.
	running sync.WaitGroup
}

// retentionEvery is how often expired files are looked for: often enough
// that a file outlives its limit by at most an hour, cheap enough (one
// directory listing) to ignore.
const retentionEvery = time.Hour

// openKeys opens the audit log and, with privacy.key_store, the key store,
// and builds the pseudonym keyring on it. It comes before everything else
// that may write to the audit log.
func (a *app) openKeys(cfg *config.Config, reg prometheus.Registerer) (*pseudonym.Keyring, error) {
	p := &privacy{stop: make(chan struct{}), keyRetention: cfg.Privacy.KeyRetention.D()}
	a.privacy = p
	if cfg.Privacy.AuditLog {
		if err := os.MkdirAll(cfg.Server.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("server.data_dir: %w", err)
		}
		p.audit = audit.Open(filepath.Join(cfg.Server.DataDir, audit.FileName), a.clock)
	}
	key, err := subjectKey(cfg)
	if err != nil {
		return nil, err
	}
	if p.suppress, err = suppress.Open(suppressionFile(cfg), key, reg); err != nil {
		return nil, fmt.Errorf("privacy.suppression_file: %w", err)
	}
	if !cfg.Privacy.KeyStore {
		return newKeyring(&cfg.Pseudonym, a.clock)
	}
	ks, err := openKeyStore(cfg, a.clock.Now(), false)
	if err != nil {
		return nil, err
	}
	// A key is made ahead of its period by the watcher below (Rotate), or
	// else by the first request of the period. Its fsynced audit line is
	// written by the store's own goroutine either way, never on a
	// request's path; stopPrivacy flushes it.
	ks.OnCreate = func(name string) { a.auditf("key.create", "key", name) }
	p.keyStore = ks
	secret, err := wiring.LoadSecret(&cfg.Pseudonym)
	if err != nil {
		return nil, err
	}
	return pseudonym.New(pseudonym.Options{Period: cfg.Pseudonym.Period.D(), Mode: pseudonym.Derived,
		Secret: secret, Keys: ks, Clock: a.clock})
}

// subjectKey is the key of the subject hashes in the suppression list and
// the audit log: derived from the secret in derived mode (so instances
// sharing a list agree), else a random key in <data_dir>/subject.key.
func subjectKey(cfg *config.Config) (*pseudonym.SubjectKey, error) {
	if cfg.Pseudonym.Mode == config.PseudonymDerived {
		s, err := wiring.LoadSecret(&cfg.Pseudonym)
		if err != nil {
			return nil, err
		}
		return pseudonym.SubjectKeyFromSecret(s)
	}
	if err := os.MkdirAll(cfg.Server.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("server.data_dir: %w", err)
	}
	return pseudonym.LoadOrCreateSubjectKeyFile(filepath.Join(cfg.Server.DataDir, "subject.key"))
}

// suppressionFile is privacy.suppression_file, or <data_dir>/suppressed.txt.
func suppressionFile(cfg *config.Config) string {
	if f := cfg.Privacy.SuppressionFile; f != "" {
		return f
	}
	return filepath.Join(cfg.Server.DataDir, "suppressed.txt")
}

// withSuppression puts the suppression list in front of the deliverer.
func (a *app) withSuppression(d *delivery.Deliverer) *delivery.Deliverer {
	if a.privacy == nil || a.privacy.suppress == nil {
		return d
	}
	return d.WithSuppression(a.privacy.suppress)
}

// suppressionEvery is how often the suppression file is checked for
// changes: a request is honoured within seconds, at the cost of reading
// and hashing the file (at most 4 MiB, mostly a few KiB). A variable for
// tests only.
var suppressionEvery = 2 * time.Second

// keyStoreDir is where the key store lives: <data_dir>/keys.
func keyStoreDir(cfg *config.Config) string { return filepath.Join(cfg.Server.DataDir, "keys") }

// openKeyStore opens the config's key store with its secret.
func openKeyStore(cfg *config.Config, now time.Time, readOnly bool) (*pseudonym.KeyStore, error) {
	if cfg.Pseudonym.Mode != config.PseudonymDerived {
		return nil, errors.New("pseudonym.mode is ephemeral: its keys are never stored, and end with their period")
	}
	secret, err := wiring.LoadSecret(&cfg.Pseudonym)
	if err != nil {
		return nil, err
	}
	ks, err := pseudonym.OpenKeyStore(keyStoreDir(cfg), secret, now, readOnly)
	if err != nil {
		return nil, fmt.Errorf("privacy.key_store: %w", err)
	}
	return ks, nil
}

// startPrivacy records the config load and starts the hourly sweep:
// retention, and the destruction of keys older than privacy.key_retention.
func (a *app) startPrivacy(cfg *config.Config, reg prometheus.Registerer) error {
	p := a.privacy
	a.auditf("config.load", "source", "start", "config", a.configName, "policy", a.plan.Load().Version())
	if p.suppress != nil {
		p.running.Go(func() {
			p.suppress.Watch(p.stop, suppressionEvery, func(n int, err error) {
				if err != nil {
					a.log.Error("suppression list not reloaded; the previous one stays", "err", err)
					return
				}
				a.log.Info("suppression list reloaded", "subjects", n)
				a.auditf("suppression.reload", "subjects", strconv.Itoa(n))
			})
		})
	}
	if rules := retentionRules(cfg); len(rules) > 0 {
		r, err := upstream.NewRetention(rules, a.clock, a.log)
		if err != nil {
			return err
		}
		reg.MustRegister(r.Collectors()...)
		r.OnDelete = func(d upstream.RetentionDeletion) {
			a.auditf("retention.delete", "rule", d.Name, "files", strconv.Itoa(d.Files),
				"bytes", strconv.FormatInt(d.Bytes, 10), "older_than", d.Cutoff.UTC().Format(time.RFC3339))
		}
		p.retention = r
	}
	if p.keyStore != nil {
		// keys forget runs in another process: look for its watermark, so
		// that cached keys of destroyed periods are dropped within seconds.
		// Rotate makes the next period's keys minutes before it begins, so
		// that no request reads or writes the key store.
		p.running.Go(func() {
			t := time.NewTicker(suppressionEvery)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					if f := p.keyStore.Forgotten(); !f.IsZero() {
						a.keys.DropBefore(f)
					}
					now := a.clock.Now()
					a.keys.Rotate(now)
					a.checkKeys(now)
				case <-p.stop:
					return
				}
			}
		})
	}
	if p.retention == nil && (p.keyStore == nil || p.keyRetention == 0) {
		return nil
	}
	a.sweep() // before serving: what expired while the gateway was down goes first
	p.running.Go(func() {
		t := time.NewTicker(retentionEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				a.sweep()
			case <-p.stop:
				return
			}
		}
	})
	return nil
}

// sweep deletes expired files and destroys expired keys once.
func (a *app) sweep() {
	p := a.privacy
	if p.retention != nil {
		p.retention.Sweep()
	}
	if p.keyStore != nil && p.keyRetention > 0 {
		before := a.clock.Now().Add(-p.keyRetention)
		gone, err := p.keyStore.Forget(before)
		if err != nil {
			a.log.Error("cannot destroy expired pseudonym keys", "err", err)
		}
		a.keys.DropBefore(before)
		if len(gone) > 0 {
			a.log.Info("destroyed expired pseudonym keys", "keys", len(gone), "ended_before", before.UTC().Format(time.RFC3339))
			a.auditf("key.destroy", "reason", "key_retention", "ended_before", before.UTC().Format(time.RFC3339),
				"keys", keyRanges(gone))
		}
	}
}

// retentionRules maps privacy.retention, dead_letter_retention and
// quarantine_retention onto upstream rules, in a stable order.
func retentionRules(cfg *config.Config) []upstream.RetentionRule {
	var rules []upstream.RetentionRule
	for _, d := range cfg.Destinations {
		if age, ok := cfg.Privacy.Retention[d.Name]; ok && d.Type == config.DestinationFile {
			rules = append(rules, upstream.RetentionRule{Name: d.Name, Dir: d.File.Dir, MaxAge: age.D()})
		}
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].Name < rules[j].Name })
	if dl := cfg.Privacy.DeadLetterRetention.D(); dl > 0 {
		rules = append(rules, upstream.RetentionRule{Name: "deadletter",
			Dir: filepath.Join(cfg.Server.DataDir, "deadletter"), MaxAge: dl})
	}
	if q := cfg.Privacy.QuarantineRetention.D(); q > 0 {
		// Both spools' folders, whatever ble.output is now: the BLE spool
		// of an earlier run may still hold a quarantine.
		rules = append(rules,
			upstream.RetentionRule{Name: "quarantine", Dir: spool.QuarantineDir(cfg.Spool.Dir), MaxAge: q, Files: spool.IsQuarantineFile},
			upstream.RetentionRule{Name: "ble-quarantine", Dir: spool.QuarantineDir(bleSpoolDir(cfg)), MaxAge: q, Files: spool.IsQuarantineFile})
	}
	return rules
}

// stopPrivacy stops the goroutines startPrivacy started (the suppression
// watcher, the key store watcher, the sweeper) and waits for them, then
// for the audit lines of the keys created so far: each may be writing the
// audit log or the data directory, which must be done before the data
// directory's lock is released. It also ends a start that failed before
// or during startPrivacy: what was not started is not waited for.
func (a *app) stopPrivacy() {
	if a.privacy == nil {
		return
	}
	close(a.privacy.stop)
	a.privacy.running.Wait() // the key store watcher may be making a key: its audit line is flushed below
	if a.privacy.keyStore != nil {
		a.privacy.keyStore.Flush()
	}
}

// auditf appends one entry to the audit log, if there is one, from
// key-value pairs. A failed write is logged: the gateway keeps serving.
func (a *app) auditf(action string, kv ...string) {
	if a.privacy == nil || a.privacy.audit == nil {
		return
	}
	fields := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		fields[kv[i]] = kv[i+1]
	}
	if _, err := a.privacy.audit.Append(action, fields); err != nil {
		a.log.Error("cannot write the audit log", "action", action, "err", err)
	}
}

// reloadFrom is reload with an audit entry naming where the request came
// from: "signal", or "http" with the peer address and the hash of the
// token used (never the token). The entry is written before the next
// reload runs: it names the policy this reload applied, and the entries
// of reloads at once (a SIGHUP and a POST /-/reload) are in the order
// they applied, so the last one names the policy live.
func (a *app) reloadFrom(log *slog.Logger, source, peer string, token []byte) (needsRestart []string, err error) {
	kv := []string{"source", source, "config", a.configName}
	if peer != "" {
		kv = append(kv, "peer", peer)
	}
	if token != nil {
		kv = append(kv, "token", audit.TokenHash(token))
	}
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	return a.reloadLocked(log, kv)
}
