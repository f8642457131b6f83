package main

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// registerReady exports beacongate_gateway_ready: 1 when /readyz answers
// 200, 0 when it answers 503 (stopping, draining, the spool or with
// ble.output: aggregates the BLE spool not writable). An
// alert on changes() of it catches readiness flapping.
func registerReady(reg prometheus.Registerer, a *app, stopping *atomic.Bool) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "beacongate_gateway_ready",
		Help: "1 when /readyz answers 200 (accepting events), 0 when it answers 503.",
	}, func() float64 {
		if stopping.Load() || a.ready() != nil {
			return 0
		}
		return 1
	}))
}
