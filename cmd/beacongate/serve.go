package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// serveFlags are the server's command-line flags. Flags given explicitly win
// over the config file.
type serveFlags struct {
	config string
	listen string
	admin  string
	data   string
	pprof  bool
}

func parseServeFlags(args []string, stderr io.Writer) (serveFlags, map[string]bool, error) {
	var f serveFlags
	fs := flag.NewFlagSet("beacongate serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", "", "config file (YAML); empty: the embedded strict default config")
	fs.StringVar(&f.listen, "listen", ":8080", "address for the collection endpoints")
	fs.StringVar(&f.admin, "admin", "127.0.0.1:9100", "address for /metrics, /healthz, /readyz and POST /-/reload")
	fs.StringVar(&f.data, "data", "./beacongate-data", "directory for the spool and the default file output")
	fs.BoolVar(&f.pprof, "pprof", false, "serve Go profiles under /debug/pprof/ on the admin listener")
	if err := fs.Parse(args); err != nil {
		return f, nil, err
	}
	if fs.NArg() > 0 {
		return f, nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	return f, set, nil
}

// runServe runs the gateway until SIGTERM or SIGINT, then stops accepting,
// finishes in-flight requests, flushes delivery within a deadline and exits 0.
func runServe(args []string, stderr io.Writer) int {
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	flags, set, err := parseServeFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a, err := startApp(flags, set, reg, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}

	ln, err := net.Listen("tcp", a.listenAddr)
	if err != nil {
		log.Error("cannot listen", "addr", a.listenAddr, "err", err)
		a.close(context.Background())
		return 1
	}
	adminLn, err := net.Listen("tcp", a.adminAddr)
	if err != nil {
		log.Error("cannot listen", "addr", a.adminAddr, "err", err)
		ln.Close()
		a.close(context.Background())
		return 1
	}

	var stopping atomic.Bool
	mux := a.adminMux(reg, &stopping)
	if flags.pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	admin := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go admin.Serve(adminLn)

	srv := a.gateway.NewServer(a.serverOptions)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(a.gateway.Listener(ln)) }() // the listener books failed reads under their endpoint
	log.Info("listening", "addr", ln.Addr().String(), "admin", adminLn.Addr().String(), "config", a.configName, "data", flags.data)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	code := 0
loop:
	for {
		select {
		case s := <-sigs:
			if s == syscall.SIGHUP {
				a.reload(log)
				continue
			}
			log.Info("stopping", "signal", s.String())
			break loop
		case err := <-served:
			log.Error("server stopped", "err", err)
			code = 1
			break loop
		}
	}
	stopping.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), a.shutdownTimeout)
	defer cancel()
	if err := srv.ShutdownWithContext(ctx); err != nil {
		log.Warn("in-flight requests did not finish in time", "err", err)
	}
	if err := a.close(ctx); err != nil {
		log.Warn("delivery did not finish; the rest stays in the spool for the next start", "err", err)
	}
	admin.Close()
	log.Info("stopped")
	return code
}

// adminMux serves the admin endpoints.
func (a *app) adminMux(reg *prometheus.Registry, stopping *atomic.Bool) *http.ServeMux {
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
	mux.HandleFunc("POST /-/reload", func(w http.ResponseWriter, r *http.Request) {
		if err := a.reload(slog.Default()); err != nil {
			http.Error(w, "reload refused, previous config stays live: "+err.Error(), http.StatusBadRequest)
			return
		}
		io.WriteString(w, "reloaded\n")
	})
	return mux
}
