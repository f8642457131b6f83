package main

import (
	"log/slog"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/audit"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/upstream"
)

// privacy is the privacy officer's machinery of a running gateway: the
// audit log and retention. Each part is nil when the config turns it off.
type privacy struct {
	audit     *audit.Log
	retention *upstream.Retention
	stop      chan struct{}
	done      chan struct{}
}

// retentionEvery is how often expired files are looked for: often enough
// that a file outlives its limit by at most an hour, cheap enough (one
// directory listing) to ignore.
const retentionEvery = time.Hour

// startPrivacy opens the audit log, records the config load and starts the
// retention sweeper.
func (a *app) startPrivacy(cfg *config.Config, reg prometheus.Registerer) error {
	p := &privacy{stop: make(chan struct{}), done: make(chan struct{})}
	a.privacy = p
	if cfg.Privacy.AuditLog {
		p.audit = audit.Open(filepath.Join(cfg.Server.DataDir, audit.FileName), a.clock)
		a.auditf("config.load", "source", "start", "config", a.configName, "policy", anonymize.PolicyVersion(cfg))
	}
	rules := retentionRules(cfg)
	if len(rules) == 0 {
		close(p.done)
		return nil
	}
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
	go func() {
		defer close(p.done)
		r.Sweep()
		t := time.NewTicker(retentionEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				r.Sweep()
			case <-p.stop:
				return
			}
		}
	}()
	return nil
}

// retentionRules maps privacy.retention and dead_letter_retention onto
// upstream rules, in a stable order.
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
	return rules
}

// stopPrivacy stops the sweeper.
func (a *app) stopPrivacy() {
	if a.privacy == nil {
		return
	}
	close(a.privacy.stop)
	<-a.privacy.done
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
// token used (never the token).
func (a *app) reloadFrom(log *slog.Logger, source, peer string, token []byte) error {
	err := a.reload(log)
	kv := []string{"source", source, "config", a.configName}
	if peer != "" {
		kv = append(kv, "peer", peer)
	}
	if token != nil {
		kv = append(kv, "token", audit.TokenHash(token))
	}
	if err != nil {
		a.auditf("config.reload_refused", append(kv, "error", err.Error())...)
		return err
	}
	a.auditf("config.reload", append(kv, "policy", anonymize.PolicyVersion(a.live.Load()))...)
	return nil
}
