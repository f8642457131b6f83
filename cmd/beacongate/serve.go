package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/beacongate/beacongate/gateway"
)

// serveFlags are the server's command-line flags. Flags given explicitly win
// over the config file.
type serveFlags struct {
	config          string
	listen          string
	admin           string
	data            string
	adminTokenFile  string
	drainDelay      time.Duration
	shutdownTimeout time.Duration
	pprof           bool
}

func parseServeFlags(args []string, stderr io.Writer) (serveFlags, map[string]bool, error) {
	var f serveFlags
	fs := flag.NewFlagSet("beacongate serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", "", "config file (YAML); empty: the embedded strict default config")
	fs.StringVar(&f.listen, "listen", ":8080", "address for the collection endpoints (with -config and without this flag, the file's server.listen)")
	fs.StringVar(&f.admin, "admin", "127.0.0.1:9100", "address for GET /metrics, /healthz, /readyz (anyone who reaches it) and POST /-/reload, GET /tap, /debug/pprof/ (loopback, or the admin token) (with -config and without this flag, the file's server.admin)")
	fs.StringVar(&f.data, "data", "./beacongate-data", "directory for the spool and the default file output (with -config and without this flag, the file's server.data_dir)")
	fs.StringVar(&f.adminTokenFile, "admin-token-file", "", "file with the bearer token then required from every peer for POST /-/reload, GET /tap and /debug/pprof/ (server.admin_token_file)")
	// Durations as the config writes them (configDuration: days too).
	f.shutdownTimeout = 8 * time.Second
	fs.Var((*configDuration)(&f.drainDelay), "drain-delay", "on SIGTERM, how long /readyz answers 503 before the listener closes, a `duration` (without this flag, server.drain_delay)")
	fs.Var((*configDuration)(&f.shutdownTimeout), "shutdown-timeout", "on SIGTERM, after the drain: longest time to finish requests and flush delivery, a `duration` (without this flag, server.shutdown_timeout)")
	fs.BoolVar(&f.pprof, "pprof", false, "serve Go profiles under /debug/pprof/ on the admin listener")
	if err := fs.Parse(args); err != nil {
		return f, nil, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected argument %q", fs.Arg(0))
		fmt.Fprintf(stderr, "beacongate serve: %v\n%s", err, usage)
		return f, nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if err := checkDurationFlags(f); err != nil {
		fmt.Fprintf(stderr, "beacongate serve: %v\n", err)
		return f, nil, err
	}
	if err := checkAddrFlags(f); err != nil {
		fmt.Fprintf(stderr, "beacongate serve: %v\n", err)
		return f, nil, err
	}
	return f, set, nil
}

// checkAddrFlags holds -listen and -admin to what config validation holds
// server.listen and server.admin to: host:port with a port number (0: the
// kernel picks one). Go's listener reads "" and ":" as every interface
// at a port the kernel picks, which would put the admin listener on every
// interface of the host.
func checkAddrFlags(f serveFlags) error {
	for _, a := range []struct{ name, value, example string }{
		{"-listen", f.listen, ":8080"},
		{"-admin", f.admin, "127.0.0.1:9100"},
	} {
		_, port, err := net.SplitHostPort(a.value)
		if err == nil {
			_, err = strconv.ParseUint(port, 10, 16)
		}
		if err != nil {
			return fmt.Errorf("%s: %q is not host:port with a port number 0..65535; write e.g. %q", a.name, a.value, a.example)
		}
	}
	return nil
}

// checkDurationFlags holds -drain-delay and -shutdown-timeout to the
// ranges config validation holds server.drain_delay and
// server.shutdown_timeout to: a shutdown timeout of 0 gives in-flight
// requests and delivery no time, a drain of hours outlives every stop
// timeout.
func checkDurationFlags(f serveFlags) error {
	if f.drainDelay < 0 || f.drainDelay > 5*time.Minute {
		return errors.New("-drain-delay: must be between 0s and 5m (as server.drain_delay)")
	}
	if f.shutdownTimeout < time.Second || f.shutdownTimeout > 10*time.Minute {
		return errors.New("-shutdown-timeout: must be between 1s and 10m (as server.shutdown_timeout)")
	}
	return nil
}

// runServe runs the gateway until SIGTERM or SIGINT, then turns /readyz to
// 503 for the drain delay, stops accepting, finishes in-flight requests,
// flushes delivery within the shutdown timeout and exits 0.
func runServe(args []string, stderr io.Writer) int {
	// One JSON logger for everything the server logs: it is also the
	// default, so a part that falls back to slog.Default() or the log
	// package writes JSON lines too.
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	slog.SetDefault(log)
	flags, set, err := parseServeFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}

	// SIGHUP is caught from here on: a reload asked for while the gateway
	// starts (systemctl reload, a deploy tool that rewrote the config) must
	// not kill it, as SIGHUP's default action does; it is applied once the
	// gateway listens. SIGTERM and SIGINT keep their default action until
	// then, so a start that hangs (brokers that do not answer) can still
	// be stopped. Reload and stop signals have channels of their own: the
	// signal package drops a signal that finds its channel full, and a stop
	// must never be dropped because reloads wait their turn (several
	// SIGHUPs while a reload reads a large GeoIP database). Reloads asked
	// for while one runs are one reload: it reads the newest files. Both
	// stay caught until the process exits, never stopped as runServe
	// returns: a SIGHUP (or a further SIGTERM) between that and the exit
	// would take its default action and kill the gateway that had just
	// stopped cleanly, its exit 0 reported as killed by the signal.
	reloadSigs := make(chan os.Signal, 1)
	signal.Notify(reloadSigs, syscall.SIGHUP)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerBuildInfo(reg)
	a, err := startApp(flags, set, reg, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}

	ln, err := net.Listen("tcp", a.listenAddr)
	if err != nil {
		log.Error("cannot listen", "addr", a.listenAddr, "err", err)
		a.closeFailedStart(err)
		return 1
	}
	adminLn, err := net.Listen("tcp", a.adminAddr)
	if err != nil {
		log.Error("cannot listen", "addr", a.adminAddr, "err", err)
		ln.Close()
		a.closeFailedStart(err)
		return 1
	}

	var stopping atomic.Bool
	registerReady(reg, a, &stopping)
	mux := a.adminMux(reg, &stopping, flags.pprof)
	admin := newAdminServer(mux, log, defaultAdminTimeouts)
	go admin.Serve(newAdminListener(adminLn, adminMaxConns(fileLimit()), reg))

	// Signals are caught before the "listening" line: a supervisor (or a
	// test) that stops the process as soon as it reads that line gets a
	// graceful stop, not the default action of the signal.
	// Room for the stop and a second one that ends the drain early.
	stopSigs := make(chan os.Signal, 2)
	signal.Notify(stopSigs, syscall.SIGTERM, syscall.SIGINT) // never stopped: see reloadSigs

	limited := gateway.NewLimitedListener(ln, a.serverOptions.MaxConns, reg)
	srv := a.gateway.NewServer(a.serverOptions)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(a.gateway.Listener(limited)) }() // Listener books failed reads under their endpoint
	log.Info("listening", "addr", ln.Addr().String(), "admin", adminLn.Addr().String(), "config", a.configName,
		"data", a.live.Load().Server.DataDir, "max_conns", limited.Max(), "admin_token", a.adminToken != nil)

	// Reloads run on a goroutine of their own, one at a time: a stop never
	// waits for one, which may hang (a config or GeoIP file on a mount that
	// stopped answering).
	go func() {
		for range reloadSigs {
			if stopping.Load() {
				log.Info("reload signal ignored: the gateway is stopping")
				continue
			}
			a.reloadFrom(log, "signal", "", nil)
		}
	}()
	code := 0
	select {
	case s := <-stopSigs:
		log.Info("stopping", "signal", s.String(), "drain_delay", a.drainDelay.String(), "shutdown_timeout", a.shutdownTimeout.String())
	case err := <-served:
		log.Error("server stopped", "err", err)
		code = 1
	}
	// Readiness turns 503 first, so a load balancer stops sending traffic
	// while the listener still serves what is already on its way. A second
	// SIGTERM or SIGINT ends the drain early.
	stopping.Store(true)
	if code == 0 && a.drainDelay > 0 {
		t := time.NewTimer(a.drainDelay)
		select {
		case <-t.C:
		case <-stopSigs:
			t.Stop()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.shutdownTimeout)
	defer cancel()
	// Connections that never carried a request are closed as the server
	// shuts down: it would wait for each up to 5 s after it opened.
	shutDown := make(chan struct{})
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-shutDown:
				return
			case <-t.C:
				a.gateway.CloseUnusedConns()
			}
		}
	}()
	err = srv.ShutdownWithContext(ctx)
	close(shutDown)
	if err != nil {
		log.Warn("in-flight requests did not finish in time", "err", err)
	}
	if err := a.close(ctx); err != nil {
		log.Warn(closeMessage(err), "err", err)
	}
	// Closing the pipeline ended the live taps: let their handlers end the
	// streams properly, so "beacongate tap" reads an end, not a cut
	// connection. Whatever is still open after a second is cut.
	actx, acancel := context.WithTimeout(context.Background(), time.Second)
	admin.Shutdown(actx)
	acancel()
	admin.Close()
	log.Info("stopped")
	return code
}

// adminTimeouts bound how long the admin listener waits for a client.
type adminTimeouts struct {
	header time.Duration // to read a request's headers
	read   time.Duration // to read a whole request, body included
	idle   time.Duration // between two requests on a keep-alive connection
	write  time.Duration // to write an answer (see newAdminServer)
}

// defaultAdminTimeouts are the admin listener's. No admin endpoint takes a
// request body; a client idle for a minute connects again; /metrics, the
// largest answer, is written in milliseconds to a reader that takes it.
var defaultAdminTimeouts = adminTimeouts{header: 5 * time.Second, read: 10 * time.Second, idle: time.Minute, write: 10 * time.Second}

// newAdminServer returns the admin listener's server for mux. Anyone who
// reaches the listener may connect, so a connection left idle or a request
// that arrives a byte now and then is closed after t's bounds instead of
// holding a file descriptor for ever. The read bound ends once a request
// is read (net/http lifts it when the handler starts), so GET /tap and
// pprof's timed profiles stream past it. An answer must be written within
// t.write of its request, or its connection is closed: a client that asks
// again and again over one connection and reads nothing would otherwise
// hold it for ever, its handler blocked in a write. Requests let through
// by guard are trusted and lift the bound (GET /tap bounds each write of
// its stream itself).
func newAdminServer(mux http.Handler, log *slog.Logger, t adminTimeouts) *http.Server {
	return &http.Server{Handler: boundWrites(mux, t.write), ReadHeaderTimeout: t.header, ReadTimeout: t.read, IdleTimeout: t.idle,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
}

// boundWrites has h's answers written within d of their request (0: no
// bound). Not the server's WriteTimeout: pprof refuses a profile longer
// than that, and guard could not lift it for the trusted requests.
func boundWrites(h http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
		h.ServeHTTP(w, r)
	})
}

// adminMux serves the admin endpoints. GET /metrics, /healthz and /readyz
// are read-only and answer anyone who reaches the admin listener; POST
// /-/reload and /debug/pprof/ change state or reveal internals, and go
// through a.guard.
func (a *app) adminMux(reg *prometheus.Registry, stopping *atomic.Bool, withPprof bool) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if stopping.Load() {
			http.Error(w, "stopping", http.StatusServiceUnavailable)
			return
		}
		if err := a.ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	mux.Handle("POST /-/reload", a.guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var token []byte
		if t, ok := bearerToken(r); ok && a.adminToken != nil {
			token = []byte(t) // guard checked it
		}
		if stopping.Load() {
			// As a SIGHUP once stopping: the process is on its way out.
			http.Error(w, "reload refused: "+errStopping.Error(), http.StatusServiceUnavailable)
			return
		}
		needsRestart, err := a.reloadFrom(a.log, "http", r.RemoteAddr, token)
		if errors.Is(err, errStopping) {
			http.Error(w, "reload refused: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		if errors.Is(err, errNoConfigFile) {
			http.Error(w, "reload refused: "+err.Error(), http.StatusConflict)
			return
		}
		if err != nil {
			code := http.StatusBadRequest // a config the operator must fix
			if errors.As(err, new(loadError)) {
				code = http.StatusInternalServerError // a file the server could not load
			}
			http.Error(w, "reload refused, previous config stays live: "+err.Error(), code)
			return
		}
		if len(needsRestart) > 0 {
			// As the log's warning: a bare "reloaded" would tell the
			// operator these changes are live.
			io.WriteString(w, "reloaded; these changed settings keep their running values until the next restart: "+
				strings.Join(needsRestart, " ")+"\n")
			return
		}
		io.WriteString(w, "reloaded\n")
	})))
	a.tapWriteTimeouts = prometheus.NewCounter(prometheus.CounterOpts{Name: "beacongate_admin_tap_write_timeouts_total",
		Help: "Tap streams (GET /tap) ended because their reader took nothing for 10 s: the connection is closed and the tap's slot given back."})
	reg.MustRegister(a.tapWriteTimeouts)
	mux.Handle("GET /tap", a.guard(a.tapHandler()))
	if withPprof {
		mux.Handle("/debug/pprof/", a.guard(http.HandlerFunc(pprof.Index)))
		mux.Handle("/debug/pprof/profile", a.guard(http.HandlerFunc(pprof.Profile)))
		mux.Handle("/debug/pprof/symbol", a.guard(http.HandlerFunc(pprof.Symbol)))
		mux.Handle("/debug/pprof/trace", a.guard(http.HandlerFunc(pprof.Trace)))
	}
	return mux
}

// tokenMatches reports whether got is the admin token want, in time that
// depends on neither: their SHA-256 digests are compared in constant time,
// since subtle.ConstantTimeCompare returns at once for inputs of different
// lengths and so would tell a prober the token's length.
func tokenMatches(got, want []byte) bool {
	g, w := sha256.Sum256(got), sha256.Sum256(want)
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// bearerToken returns the token of r's "Authorization: Bearer TOKEN"
// header. The scheme is matched in any case and may be followed by more
// than one space (RFC 9110, 11.1 and 11.4; RFC 6750, 2.1).
func bearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimLeft(tok, " "), true
}

// guard lets a request through to a mutating or sensitive admin endpoint
// when it carries the admin token ("Authorization: Bearer TOKEN") or, with
// no token configured, when it comes from a loopback address. With a token
// configured, loopback peers need it too: a sidecar proxy in the same
// network namespace forwards outside traffic over loopback.
func (a *app) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.adminToken != nil {
			got, ok := bearerToken(r)
			if !ok || !tokenMatches([]byte(got), a.adminToken) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="beacongate admin"`)
				http.Error(w, "unauthorized: this endpoint needs the admin token (server.admin_token_file) as \"Authorization: Bearer TOKEN\"", http.StatusUnauthorized)
				return
			}
			liftWriteBound(w)
			h.ServeHTTP(w, r)
			return
		}
		if ap, err := netip.ParseAddrPort(r.RemoteAddr); err != nil || !ap.Addr().Unmap().IsLoopback() {
			http.Error(w, "forbidden: this endpoint answers loopback peers only; set server.admin_token_file to allow others with a bearer token", http.StatusForbidden)
			return
		}
		if field := fromOtherSite(r); field != "" {
			http.Error(w, "forbidden: "+field+": a loopback peer's request must name a loopback host (127.0.0.1, [::1] or localhost) and come from no other site's page; set server.admin_token_file to allow others with a bearer token", http.StatusForbidden)
			return
		}
		liftWriteBound(w)
		h.ServeHTTP(w, r)
	})
}

// fromOtherSite names the header that shows r, from a loopback peer, to be
// a browser's on behalf of another site's page, or returns "". A browser on
// the gateway's host is a loopback peer for every page it shows: a page
// can POST a form to 127.0.0.1 (no preflight), and one whose own name it
// re-points at 127.0.0.1 (DNS rebinding) reads the answers as its own, but
// it names its own host in Host and Origin, and browsers mark requests
// from another site Sec-Fetch-Site: cross-site. curl, beacongate tap, a
// port forward or an SSH tunnel name a loopback host and send neither.
func fromOtherSite(r *http.Request) string {
	if r.Host != "" && !isLoopbackHost(r.Host) {
		return "Host"
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" || !isLoopbackHost(u.Host) {
			return "Origin"
		}
	}
	if strings.EqualFold(r.Header.Get("Sec-Fetch-Site"), "cross-site") {
		return "Sec-Fetch-Site"
	}
	return ""
}

// isLoopbackHost reports whether hostport (a Host header, or an origin's
// host) names a loopback address or localhost (RFC 6761: *.localhost too),
// with or without a port.
func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().IsLoopback()
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// liftWriteBound lifts boundWrites' bound for a request guard let through:
// a CPU profile takes 30 s before it writes, a reload as long as its files
// take to load, and GET /tap bounds each write of its stream itself.
func liftWriteBound(w http.ResponseWriter) {
	http.NewResponseController(w).SetWriteDeadline(time.Time{})
}
