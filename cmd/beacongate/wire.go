package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/anonymize/geo"
	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/delivery"
	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/gateway"
	"github.com/beacongate/beacongate/internal/flock"
	"github.com/beacongate/beacongate/plan"
	"github.com/beacongate/beacongate/retail"
	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/upstream/adplatform"
	"github.com/beacongate/beacongate/wiring"
	"strings"
)

// app is the wired gateway: config, privacy engine, delivery pipeline.
type app struct {
	configPath      string // "" for the embedded default
	configName      string
	listenAddr      string
	adminAddr       string
	overrides       config.Overrides
	gateway         *gateway.Gateway
	serverOptions   gateway.ServerOptions
	drainDelay      time.Duration
	shutdownTimeout time.Duration
	adminToken      []byte // nil: mutating admin endpoints answer loopback only
	// dataLock holds <data_dir>/LOCK locked while the gateway runs (see
	// lockDataDir); nil before it is taken.
	dataLock *os.File
	// flagKeys maps the config keys that a command-line flag given
	// overrides, now and at every restart with that flag, to the flag.
	flagKeys map[string]string

	pipeline *upstream.Pipeline
	openTaps atomic.Int32 // GET /tap streams open now, at most maxTaps
	// tapWriteTimeouts counts the tap streams ended because their reader
	// took nothing for tapWriteTimeout; registered by adminMux (nil
	// before: not counted).
	tapWriteTimeouts prometheus.Counter
	ble              *bleAggregation // ble.output: aggregates; nil otherwise
	// optOutSuppressed counts sightings dropped by the opt-out list.
	optOutSuppressed prometheus.Counter
	// optOut is the running opt-out list (ble.optout_file); nil: none.
	// Set at start and by reloads, under reloadMu.
	optOut   *retail.OptOut
	keys     *pseudonym.Keyring
	geo      *geo.Reloadable
	delivery *delivery.Metrics
	live     atomic.Pointer[config.Config]
	plan     atomic.Pointer[plan.Plan] // compiled from live: what the engine applies
	origins  *adplatform.Origins       // the sites' origins, for the ad platform sinks; updated on reload

	reloadMu sync.Mutex
	// commitMu is held by a reload from its last look at stopped until it
	// wrote its audit entry (see reloadLocked); close sets stopped under
	// it, so that it waits for such a reload before it releases the data
	// directory's lock.
	commitMu sync.Mutex
	// stopped is set as close begins: a reload that has not yet applied
	// changes nothing from then on (errStopping).
	stopped        atomic.Bool
	reloads        prometheus.Counter
	reloadFailures prometheus.Counter
	// reloadOK is beacongate_config_last_reload_successful: 0 from a
	// refused reload until one succeeds, 1 otherwise.
	reloadOK     prometheus.Gauge
	stopRotation chan struct{}
	// rotationDone is closed when rotateKeys returns; nil until it runs.
	rotationDone chan struct{}
	// keysMissing is beacongate_pseudonym_keys_unavailable: 1 while the
	// current period has no pseudonym or visitor key (checkKeys).
	keysMissing prometheus.Gauge
	keyErrMu    sync.Mutex
	keyErrMsg   string   // the error checkKeys last logged; "" when keys are there
	privacy     *privacy // audit log and retention (privacy.go)
	log         *slog.Logger
	clock       clock.Clock // the one clock every part reads; clock.Real when serving
}

// loadConfig reads the config file, or the embedded default when path is "".
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}

// optOutFileThere refuses a start whose ble.optout_file does not exist:
// nothing creates that older list any more (beacongate subject suppress
// writes the suppression list), so a missing file is a moved file, a
// volume not mounted or a mistyped path, and reading it as an empty list
// would track every device on it again (a reload refuses it likewise).
func optOutFileThere(b *config.BLE) error {
	if b.OptOutFile == "" {
		return nil
	}
	if _, err := os.Stat(b.OptOutFile); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("ble.optout_file: %s does not exist, so the devices on that opt-out list would be tracked again; "+
			"restore the file, or remove ble.optout_file and ble.optout_key_file if no device is on it "+
			"(beacongate subject suppress -kind mac|adid is how devices are suppressed now)", b.OptOutFile)
	}
	return nil
}

// startApp loads the config and builds everything the server needs. Flags
// given explicitly win over the file; without a file the flags' defaults
// apply. A start that fails closes what it opened (see closeFailedStart)
// and returns the error that made it fail.
func startApp(f serveFlags, set map[string]bool, reg prometheus.Registerer, log *slog.Logger) (_ *app, err error) {
	cfg, err := loadConfig(f.config)
	if err != nil {
		return nil, err
	}
	if err := optOutFileThere(&cfg.BLE); err != nil {
		return nil, err
	}
	a := &app{configPath: f.config, configName: f.config, log: log,
		stopRotation: make(chan struct{}), clock: serveClock}
	if f.config == "" {
		a.configName = "embedded default"
	}
	if set["data"] || f.config == "" {
		a.overrides.DataDir = f.data
	}
	if err := cfg.Apply(a.overrides); err != nil {
		return nil, err
	}
	a.listenAddr, a.adminAddr = cfg.Server.Listen, cfg.Server.Admin
	a.flagKeys = map[string]string{}
	for flag, key := range map[string]string{"listen": "server.listen", "admin": "server.admin", "drain-delay": "server.drain_delay",
		"shutdown-timeout": "server.shutdown_timeout", "admin-token-file": "server.admin_token_file", "data": "server.data_dir"} {
		if set[flag] {
			a.flagKeys[key] = "-" + flag
		}
	}
	if set["listen"] || f.config == "" {
		a.listenAddr = f.listen
	}
	if set["admin"] || f.config == "" {
		a.adminAddr = f.admin
	}
	if msg := config.ListenersClash(a.listenAddr, a.adminAddr); msg != "" && (set["listen"] || set["admin"] || f.config == "") {
		// The file's own addresses were checked when it was loaded.
		return nil, fmt.Errorf("the admin listener %q (-admin or server.admin) %s the public listener %q (-listen or server.listen); give the admin listener its own port", a.adminAddr, msg, a.listenAddr)
	}
	a.drainDelay, a.shutdownTimeout = cfg.Server.DrainDelay.D(), cfg.Server.ShutdownTimeout.D()
	if set["drain-delay"] {
		a.drainDelay = f.drainDelay
	}
	if set["shutdown-timeout"] {
		a.shutdownTimeout = f.shutdownTimeout
	}
	tokenFile, tokenKey := cfg.Server.AdminTokenFile, "server.admin_token_file"
	if set["admin-token-file"] {
		tokenFile, tokenKey = f.adminTokenFile, "-admin-token-file"
	}
	if a.adminToken, err = readAdminToken(tokenFile); err != nil {
		return nil, fmt.Errorf("%s: %w", tokenKey, err)
	}
	fdLimit := fileLimit()
	a.serverOptions = gateway.ServerOptions{
		ReadTimeout:    cfg.Server.ReadTimeout.D(),
		WriteTimeout:   cfg.Server.WriteTimeout.D(),
		IdleTimeout:    cfg.Server.IdleTimeout.D(),
		MaxHeaderBytes: int(cfg.Server.MaxHeaderBytes),
		MaxBodyBytes:   int(cfg.Server.MaxBodyBytes),
		MaxConnsPerIP:  cfg.Server.MaxConnsPerIP,
		MaxConns:       maxConns(cfg.Server.MaxConns, fdLimit),
	}
	if msg := maxConnsProblem(cfg.Server.MaxConns, fdLimit); msg != "" {
		// A warning, not a refusal: the cap stays as configured, as
		// before, and the gateway serves until the descriptors run out.
		log.Warn(msg, "key", "server.max_conns", "max_conns", cfg.Server.MaxConns, "open_file_limit", fdLimit)
	}
	// From here on a start that fails has opened something (the audit log,
	// the key store, the spools): close it, so the process exits and the
	// next start finds the data directory unlocked.
	defer func() {
		if err != nil {
			a.closeFailedStart(err)
		}
	}()
	if a.dataLock, err = lockDataDir(cfg.Server.DataDir); err != nil {
		return nil, err
	}
	if a.keys, err = a.openKeys(cfg, reg); err != nil { // privacy.go
		return nil, err
	}
	if a.geo, err = geo.NewReloadable(cfg.GeoIP.Database); err != nil {
		return nil, fmt.Errorf("geoip.database: %w", err)
	}
	a.origins = adplatform.NewOrigins(wiring.SiteOrigins(cfg))
	po, err := wiring.PipelineOptions(cfg, reg, log, a.origins, a.clock)
	if err != nil {
		return nil, err
	}
	a.pipeline, err = upstream.Open(po)
	if err != nil {
		return nil, dataDirInUse(err, cfg.Server.DataDir)
	}
	if cfg.BLE.Output == config.BLEOutputAggregates {
		if a.ble, err = openBLEAggregation(cfg, a.pipeline, a.clock, a.keys, reg, log); err != nil {
			return nil, dataDirInUse(err, cfg.Server.DataDir)
		}
	}
	a.optOutSuppressed = prometheus.NewCounter(prometheus.CounterOpts{Name: "beacongate_ble_optout_suppressed_total", Help: "BLE sightings dropped on arrival because their device is on the opt-out list."})
	reg.MustRegister(a.optOutSuppressed)
	a.delivery = delivery.NewMetrics(reg)
	built, err := a.settings(cfg)
	if err != nil {
		return nil, err
	}
	savePlan(cfg, built.plan, log)
	a.gateway = gateway.New(built.settings, reg)
	a.optOut = built.settings.OptOut
	a.delivery.Serving(built.deliverer)
	warnNoVendor(cfg, log)
	if n := smallK(cfg); n != "" { // config check notes it too
		log.Warn(strings.TrimPrefix(n, "ble.k: "), "key", "ble.k")
	}
	a.live.Store(cfg)
	a.plan.Store(built.plan)
	a.reloads = prometheus.NewCounter(prometheus.CounterOpts{Name: "beacongate_config_reloads_total", Help: "Config reloads applied."})
	a.reloadFailures = prometheus.NewCounter(prometheus.CounterOpts{Name: "beacongate_config_reload_failures_total", Help: "Config reloads refused (the previous config stayed live)."})
	a.reloadOK = prometheus.NewGauge(prometheus.GaugeOpts{Name: "beacongate_config_last_reload_successful", Help: "0 when the last config reload was refused (the previous config stays live; the next start reads the file refused), 1 after a start or a reload applied."})
	a.reloadOK.Set(1)
	a.keysMissing = prometheus.NewGauge(prometheus.GaugeOpts{Name: "beacongate_pseudonym_keys_unavailable", Help: "1 while the current period has no pseudonym or visitor key (the key store refuses it, or keys cannot be made): events are written without pseudonyms and visitor hashes; the log says why."})
	reg.MustRegister(a.reloads, a.reloadFailures, a.reloadOK, a.keysMissing)
	a.checkKeys(a.clock.Now())
	if err := a.startPrivacy(cfg, reg); err != nil {
		return nil, err
	}
	a.rotationDone = make(chan struct{})
	go a.rotateKeys()
	return a, nil
}

// builtSettings is what settings compiles from a config.
type builtSettings struct {
	settings  gateway.Settings    // the gateway's per-request settings
	plan      *plan.Plan          // the compiled policy plan
	deliverer *delivery.Deliverer // the settings' event handler, around the new engine
}

// settings compiles cfg into the plan and the gateway's per-request
// settings, with a new privacy engine around the long-lived keys, GeoIP
// holder and spool.
func (a *app) settings(cfg *config.Config) (builtSettings, error) {
	return a.settingsWith(cfg, a.geo)
}

// settingsWith is settings with the GeoIP holder g.
func (a *app) settingsWith(cfg *config.Config, g *geo.Reloadable) (builtSettings, error) {
	// The vendor list is re-read on every reload, like the GeoIP database:
	// reload is how a refreshed list is picked up.
	gvl, err := wiring.LoadGVL(cfg)
	if err != nil {
		return builtSettings{}, loadError{err}
	}
	compiled, err := wiring.Compile(cfg, gvl)
	if err != nil {
		return builtSettings{}, err
	}
	engine, err := anonymize.New(compiled, anonymize.Deps{Keys: a.keys, Geo: g, Clock: a.clock})
	if err != nil {
		return builtSettings{}, err
	}
	deliverer := a.withSuppression(delivery.NewDeliverer(engine, a.recordSink(), a.delivery)) // privacy.go
	if sp := &cfg.Spool; sp.WhenFull != sp.PixelWhenFull {
		// The spool blocks (wiring.PipelineOptions); shed the other endpoints.
		if sp.WhenFull == config.WhenFullShed {
			deliverer = deliverer.ShedWhenFull(event.KindBeacon, event.KindBLE)
		} else {
			deliverer = deliverer.ShedWhenFull(event.KindPixel)
		}
	}
	optOut, err := openOptOut(&cfg.BLE)
	if err != nil {
		return builtSettings{}, loadError{err}
	}
	s := gateway.Settings{
		OptOut:           optOut,
		OptOutSuppressed: a.optOutSuppressed,
		Limits: gateway.Limits{
			MaxBodyBytes:           int(cfg.Server.MaxBodyBytes),
			MaxEventsPerRequest:    cfg.Server.MaxEventsPerRequest,
			MaxSightingsPerRequest: cfg.Server.MaxSightingsPerRequest,
			MaxSightingAge:         time.Duration(cfg.Server.MaxSightingAge),
			MaxSightingAhead:       time.Duration(cfg.Server.MaxSightingAhead),
		},
		Handler:              deliverer,
		Clock:                a.clock,
		ClientIPHeader:       cfg.Server.ClientIPHeader,
		MaxRequestsPerClient: cfg.Server.MaxRequestsPerClient,
	}
	for _, p := range cfg.Server.TrustedProxies {
		s.TrustedProxies = append(s.TrustedProxies, netip.Prefix(p.Prefix))
	}
	if len(cfg.Sites) > 0 {
		s.Sites = make(map[string][]string, len(cfg.Sites))
		for _, site := range cfg.Sites {
			s.Sites[site.ID] = site.Origins
		}
	}
	return builtSettings{settings: s, plan: compiled, deliverer: deliverer}, nil
}

// noVendorWhy is what serve logs, and config check notes, of a
// destination that is neither a TCF vendor nor marked as our own.
const noVendorWhy = "no tcf.vendor_id and no tcf.without_vendor: it gets no event where GDPR applies (gdpr=1 or a TC string)"

// noVendorDestinations returns the indexes of the destinations that get no
// event where GDPR applies because they are neither a TCF vendor nor
// marked as our own.
func noVendorDestinations(cfg *config.Config) []int {
	var out []int
	for i, d := range cfg.Destinations {
		if d.TCF.VendorID == 0 && !d.TCF.WithoutVendor {
			out = append(out, i)
		}
	}
	return out
}

// warnNoVendor logs each destination of noVendorDestinations.
func warnNoVendor(cfg *config.Config, log *slog.Logger) {
	for _, i := range noVendorDestinations(cfg) {
		log.Warn("destination has "+noVendorWhy, "destination", cfg.Destinations[i].Name, "key", fmt.Sprintf("destinations[%d].tcf", i))
	}
}

// newKeyring builds the pseudonym keys. In derived mode the secret is read
// here and handed over; it is never logged.
func newKeyring(p *config.Pseudonym, clk clock.Clock) (*pseudonym.Keyring, error) {
	o := pseudonym.Options{Period: p.Period.D(), Mode: pseudonym.Ephemeral, Clock: clk}
	if p.Mode == config.PseudonymDerived {
		o.Mode = pseudonym.Derived
		var err error
		if o.Secret, err = wiring.LoadSecret(p); err != nil {
			return nil, err
		}
	}
	return pseudonym.New(o)
}

// keyRotationEvery is how often rotateKeys calls Keyring.Rotate: well
// within the keyring's grace (pseudonym.DefaultGrace, 10 s), so that an
// ended ephemeral key is forgotten at most a second after its grace, as
// the README says, and not up to a minute later.
const keyRotationEvery = time.Second

// dataDirInUse says what to do when err is a spool's lock, or the data
// directory's, held by another process: the spool's path and "in use by
// another process" alone sent operators looking for a stale lock file to
// delete, which would let two gateways write one spool.
func dataDirInUse(err error, dataDir string) error {
	if !errors.Is(err, upstream.ErrSpoolLocked) && !errors.Is(err, errDataDirLocked) {
		return err
	}
	return fmt.Errorf("%w; another beacongate (a gateway, or deadletter replay) runs on the data directory %s: "+
		"stop it, or give this instance its own (server.data_dir or -data). The lock is released when that process "+
		"exits, kill -9 included: never delete the LOCK file", err, dataDir)
}

// errDataDirLocked is wrapped by lockDataDir's error when another process
// holds the data directory.
var errDataDirLocked = errors.New("server.data_dir: in use by another process")

// lockDataDir makes the data directory and takes an exclusive lock on its
// LOCK file for as long as the process runs (the kernel releases it when
// the process dies, kill -9 included). The spool locks only its own
// directory, which spool.dir may put elsewhere: two instances given one
// data directory and a spool each would then both write its audit log,
// dead letters, saved policies and subject key.
func lockDataDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("server.data_dir: %w", err)
	}
	path := filepath.Join(dir, "LOCK")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("server.data_dir: cannot open its lock file: %w", err)
	}
	if !flock.TryLock(f) {
		f.Close()
		return nil, dataDirInUse(fmt.Errorf("%w: %q is locked by it", errDataDirLocked, path), dir)
	}
	return f, nil
}

// stopKeyRotation stops rotateKeys and waits for it: with a key store a
// rotation may be making the next period's key, its file and audit line,
// which must be done before the data directory's lock is released.
func (a *app) stopKeyRotation() {
	close(a.stopRotation)
	if a.rotationDone != nil {
		<-a.rotationDone
	}
}

// rotateKeys lets the keyring forget ephemeral keys on time even when no
// request arrives at a period boundary.
func (a *app) rotateKeys() {
	defer close(a.rotationDone)
	t := time.NewTicker(keyRotationEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			now := a.clock.Now()
			a.keys.Rotate(now)
			a.checkKeys(now)
		case <-a.stopRotation:
			return
		}
	}
}

// checkKeys tells the operator when the current period has no pseudonym or
// visitor key, and when it has one again: without a key the gateway writes
// events without pseudonyms and visitor hashes (it fails closed), which
// nothing else would say, e.g. after key_retention destroyed keys while
// the clock ran ahead and the clock was then set right. It logs each
// change once and sets beacongate_pseudonym_keys_unavailable.
func (a *app) checkKeys(now time.Time) {
	msg := ""
	if err := a.keys.KeyErr(now); err != nil {
		msg = err.Error()
	}
	a.keyErrMu.Lock()
	defer a.keyErrMu.Unlock()
	if msg == a.keyErrMsg {
		return
	}
	a.keyErrMsg = msg
	if msg != "" {
		a.keysMissing.Set(1)
		a.log.Warn("pseudonym: no key for the current period: events are written without pseudonyms and visitor hashes until there is one", "err", msg)
		return
	}
	a.keysMissing.Set(0)
	a.log.Info("pseudonym: the current period has its keys again")
}

// errNoConfigFile refuses a reload of a gateway started without -config:
// it runs on the embedded default, and there is no file to read again.
// errEmptyConfig refuses a reload of a config file that holds no
// settings: empty, or only comments.
var errEmptyConfig = errors.New("the config file holds no settings (it is empty, or only comments; was it caught half-written?); " +
	"a reload would replace the running config with the built-in defaults: write the full config and reload again")

var errNoConfigFile = errors.New("started without -config: nothing to reload; restart with -config FILE")

// errStopping refuses a reload once the gateway is stopping: delivery is
// closing and the data directory's lock is about to be released, so the
// reload would write its policy copy and audit entry where the next
// instance may already write. The next start reads the file anyway.
var errStopping = errors.New("the gateway is stopping: reload ignored (the next start reads the config file)")

// loadError is a reload refused because a file could not be loaded (the
// config file itself, or one it names: the GeoIP database, the vendor
// list, the opt-out list or its key), as opposed to a config the operator
// must fix: POST /-/reload answers it 500, not 400. Its text is err's.
type loadError struct{ err error }

func (e loadError) Error() string { return e.err.Error() }
func (e loadError) Unwrap() error { return e.err }

// reload re-reads the config file and the GeoIP database. A valid config is
// swapped in atomically; an invalid one is refused and the old one stays
// live. Listeners, the spool and destinations are fixed at start: changes to
// them are reported and take effect on the next restart.
func (a *app) reload(log *slog.Logger) error {
	_, err := a.reloadReport(log)
	return err
}

// reloadReport is reload, and also returns the changed settings that
// keep their running values until the next restart (needs_restart), for
// the answer to POST /-/reload and the audit log. It writes no audit
// entry: reloadFrom does.
func (a *app) reloadReport(log *slog.Logger) (needsRestart []string, err error) {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	return a.reloadLocked(log, nil)
}

// reloadLocked is reloadReport with a.reloadMu held, which also writes the
// audit entry of the reload (config.reload or config.reload_refused) with
// the fields kv, unless kv is nil. Reading the files and building the new
// settings may take long (a GeoIP database, a mount that stopped
// answering), and close does not wait for that; applying them and writing
// the audit entry write the data directory (the policy's copy, the audit
// log), and close waits for that (commitMu) before it releases the data
// directory's lock. Once close began, a reload applies nothing, and writes
// neither (errStopping); one refused then is logged, not audited.
func (a *app) reloadLocked(log *slog.Logger, kv []string) (needsRestart []string, err error) {
	var next *preparedReload
	if a.configPath == "" {
		err = errNoConfigFile
	} else {
		next, err = a.prepareReload()
	}
	a.commitMu.Lock()
	defer a.commitMu.Unlock()
	if err == nil && a.stopped.Load() {
		// Checked last: reading the files may have taken a while.
		err = errStopping
	}
	switch {
	case errors.Is(err, errStopping):
		// Neither applied nor refused: the process is on its way out.
		log.Info("config reload ignored: the gateway is stopping", "config", a.configName)
		return nil, err
	case errors.Is(err, errNoConfigFile):
		// Counted as refused, but the last-reload gauge stays 1: what
		// runs is what the next start runs, and no reload could ever
		// clear an alert on it.
		a.reloadFailures.Inc()
		log.Error("config reload refused", "config", a.configName, "err", err)
		a.auditReload(kv, "config.reload_refused", "error", err.Error())
		return nil, err
	case err != nil:
		a.reloadFailures.Inc()
		a.reloadOK.Set(0)
		log.Error("config reload refused; the previous config stays live", "config", a.configName, "err", err)
		a.auditReload(kv, "config.reload_refused", "error", err.Error())
		return nil, err
	}
	needsRestart = a.applyReload(log, next)
	a.reloads.Inc()
	a.reloadOK.Set(1)
	log.Info("config reloaded", "config", a.configName, "policy", a.plan.Load().Version())
	extra := []string{"policy", a.plan.Load().Version()}
	if len(needsRestart) > 0 {
		extra = append(extra, "needs_restart", strings.Join(needsRestart, " "))
	}
	a.auditReload(kv, "config.reload", extra...)
	return needsRestart, nil
}

// auditReload writes a reload's audit entry, with the fields kv and then
// extra; none when kv is nil (reloadReport) or once close began (the data
// directory may no longer be this process's). a.commitMu is held.
func (a *app) auditReload(kv []string, action string, extra ...string) {
	if kv == nil || a.stopped.Load() {
		return
	}
	a.auditf(action, append(slices.Clip(kv), extra...)...)
}

// preparedReload is a reload read and built, not yet applied.
type preparedReload struct {
	cfg     *config.Config
	changes wiring.Reload
	geo     *geo.Reloadable
	built   builtSettings
}

// prepareReload reads the config file and the files it names and builds
// the new settings. Nothing running changes.
func (a *app) prepareReload() (*preparedReload, error) {
	if a.stopped.Load() {
		return nil, errStopping
	}
	cfg, err := loadConfig(a.configPath)
	if err != nil {
		if errors.As(err, new(*fs.PathError)) {
			return nil, loadError{err} // the file could not be read; Parse's errors wrap none
		}
		return nil, err
	}
	if cfg.Empty() {
		// A file caught half-written (an editor or deploy tool rewriting
		// it in place) would put the built-in defaults live in place of
		// the running sites, consent and policies.
		return nil, errEmptyConfig
	}
	if err := cfg.Apply(a.overrides); err != nil {
		return nil, err
	}
	old := a.live.Load()
	// Settings read only at start (listeners, server timeouts, pseudonym
	// keys, spool, destinations' transport, ...) keep their running values:
	// cfg then describes what runs, and records name the policy applied.
	changes, err := wiring.PrepareReload(old, cfg)
	if err != nil {
		return nil, err
	}
	// Re-read the database even when its path is unchanged: reload is how a
	// refreshed file is picked up. It goes into a new holder that the new
	// engine alone uses until every step below succeeded, so a reload that
	// is refused leaves the running database in place.
	nextGeo := a.geo
	if cfg.GeoIP.Database != "" || old.GeoIP.Database != "" {
		nextGeo = new(geo.Reloadable)
		if err := nextGeo.Reload(cfg.GeoIP.Database); err != nil {
			return nil, loadError{fmt.Errorf("geoip.database: %w; the running database stays in use", errors.Unwrap(err))}
		}
	}
	built, err := a.settingsWith(cfg, nextGeo)
	if err != nil {
		return nil, err
	}
	if running := a.optOut; running != nil && running.Len() > 0 && cfg.BLE.OptOutFile != "" && built.settings.OptOut == nil {
		// A missing file reads as an empty list, for a start before
		// anyone opted out; nothing creates that list any more, so a
		// running list whose file is gone (moved, a mount not there, a
		// mistyped path) would track its devices again: fail closed.
		return nil, loadError{fmt.Errorf("ble.optout_file: %s does not exist, while the running opt-out list drops the sightings of %d devices; "+
			"the running list stays: restore the file, or remove ble.optout_file and ble.optout_key_file to stop reading it", cfg.BLE.OptOutFile, running.Len())}
	}
	return &preparedReload{cfg: cfg, changes: changes, geo: nextGeo, built: built}, nil
}

// applyReload puts a prepared reload live and returns the changed
// settings that keep their running values until the next restart.
// a.commitMu is held.
func (a *app) applyReload(log *slog.Logger, r *preparedReload) []string {
	cfg, built, changes := r.cfg, r.built, r.changes
	savePlan(cfg, built.plan, log)
	a.gateway.Update(built.settings)
	a.optOut = built.settings.OptOut
	a.delivery.Serving(built.deliverer)
	a.geo = r.geo
	a.live.Store(cfg)
	a.plan.Store(built.plan)
	a.origins.Set(wiring.SiteOrigins(cfg))
	// A key that a flag given overrides keeps the flag's value at the
	// next restart too: "needs_restart" would send the operator to
	// restart for nothing.
	var overridden []string
	changes.NeedRestart = slices.DeleteFunc(changes.NeedRestart, func(key string) bool {
		flag, ok := a.flagKeys[key]
		if ok {
			overridden = append(overridden, key+" ("+flag+")")
		}
		return ok
	})
	if len(overridden) > 0 {
		log.Warn("some changed settings are overridden by command-line flags, now and at every start with them; the flags' values stay",
			"overridden", strings.Join(overridden, " "))
	}
	if len(changes.NeedRestart) > 0 {
		log.Warn("some changed settings apply only on the next restart; their running values stay",
			"needs_restart", strings.Join(changes.NeedRestart, " "))
	}
	if len(changes.Applied) > 0 {
		log.Info("changed settings applied", "applied", strings.Join(changes.Applied, " "))
	}
	warnNoVendor(cfg, log) // as at start: destinations[].tcf applies on reload
	return changes.NeedRestart
}

// ready reports whether the gateway accepts events: the pipeline's spool
// and, with ble.output: aggregates, the BLE spool, which takes the BLE
// sightings, accept writes.
func (a *app) ready() error {
	if err := a.pipeline.Ready(); err != nil {
		return err
	}
	if a.ble != nil {
		return a.ble.sightingsReady()
	}
	return nil
}

// close flushes delivery within ctx's deadline; what is not shipped stays in
// the spool for the next start. It also closes an app whose start failed
// half-way: what was not opened is skipped.
func (a *app) close(ctx context.Context) error {
	// A reload running now applies nothing (errStopping). One that is
	// applying or refusing holds commitMu until it wrote the policy's copy
	// and its audit entry: that is waited for. One still reading its
	// files is not (it may hang on a mount that stopped answering): it
	// will find stopped set.
	a.commitMu.Lock()
	a.stopped.Store(true)
	a.commitMu.Unlock()
	a.stopKeyRotation()
	if a.ble != nil {
		if err := a.ble.close(); err != nil {
			a.log.Warn("ble aggregation: close", "error", err.Error())
		}
	}
	a.stopPrivacy()
	if a.dataLock != nil {
		// Released last: the pipeline, closed below, still writes the
		// data directory (dead letters).
		defer a.dataLock.Close()
	}
	if a.pipeline == nil {
		return nil
	}
	return a.pipeline.Close(ctx)
}

// closeFailedStart closes what a start that failed with cause had opened.
// Delivery gets server.shutdown_timeout to flush, as on SIGTERM, never
// more: with a destination down, waiting for the spool to drain would hold
// the process and the spool's lock forever. What is not shipped stays in
// the spool for the next start.
func (a *app) closeFailedStart(cause error) {
	if a.pipeline != nil {
		a.log.Info("start failed; flushing delivery before exiting", "err", cause, "shutdown_timeout", a.shutdownTimeout.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.shutdownTimeout)
	defer cancel()
	if err := a.close(ctx); err != nil {
		a.log.Warn(closeMessage(err), "err", err)
	}
}

// closeMessage says what an error of closing the pipeline means for the
// operator: time ran out (what is not shipped stays in the spool), or a
// destination or the spool failed to close (a file destination's last
// fsync, the spool's disk: the error names which), or both.
func closeMessage(err error) string {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap() // the pipeline joins one error per step that failed
	}
	var late, other bool
	for _, e := range errs {
		if errors.Is(e, context.DeadlineExceeded) || errors.Is(e, context.Canceled) {
			late = true
		} else {
			other = true
		}
	}
	switch {
	case late && other:
		return "delivery did not finish in time, and closing a destination or the spool failed (see err); what was not shipped stays in the spool for the next start"
	case late:
		return "delivery did not finish in time; the rest stays in the spool for the next start"
	}
	return "closing a destination or the spool failed (see err: check its disk or connection); what was not shipped stays in the spool for the next start"
}

// savePlan keeps a copy of the plan p in the data directory, before any
// record is made under it: "deadletter replay" checks each record against
// the plan it was made under (by its "policy" version). A copy that cannot
// be written costs only that: the records of that version are held back by
// a replay (fail closed), so the gateway logs it and goes on.
func savePlan(cfg *config.Config, p *plan.Plan, log *slog.Logger) {
	if err := wiring.SavePlan(wiring.SavedPlansDir(cfg.Server.DataDir), p); err != nil {
		log.Warn("cannot keep a copy of the policy in the data directory: a dead-letter replay will hold back the records made under it", "policy", p.Version(), "err", err)
	}
}
