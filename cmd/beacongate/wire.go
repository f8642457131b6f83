package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/gateway"
)

// app is the wired gateway: config, anonymizer, delivery.
type app struct {
	configName      string
	listenAddr      string
	adminAddr       string
	gateway         *gateway.Gateway
	serverOptions   gateway.ServerOptions
	shutdownTimeout time.Duration
}

func startApp(f serveFlags, set map[string]bool, reg prometheus.Registerer, log *slog.Logger) (*app, error) {
	a := &app{
		configName:      "embedded default",
		listenAddr:      f.listen,
		adminAddr:       f.admin,
		shutdownTimeout: 10 * time.Second,
	}
	a.gateway = gateway.New(gateway.Settings{}, reg)
	return a, nil
}

func (a *app) reload(log *slog.Logger) error { return nil }

func (a *app) ready() error { return nil }

func (a *app) close(ctx context.Context) error { return nil }
