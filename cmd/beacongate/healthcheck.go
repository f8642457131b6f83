package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

const healthcheckUsage = `usage: beacongate healthcheck [-admin ADDR] [-path /healthz|/readyz] [-timeout D]

Probes a running gateway's admin listener, for container health checks where
no curl exists (the distroless image): GET http://ADDR/PATH. Prints one line
and exits 0 when the answer is 200, 1 otherwise. An unspecified host
(0.0.0.0, [::], or none) is probed on loopback.
`

// runHealthcheck implements `beacongate healthcheck`.
func runHealthcheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("beacongate healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, healthcheckUsage); fs.PrintDefaults() }
	admin := fs.String("admin", "127.0.0.1:9100", "admin listener `ADDR` of the running gateway")
	path := fs.String("path", "/healthz", "endpoint to probe: /healthz (alive) or /readyz (accepting events)")
	timeout := 3 * time.Second
	fs.Var((*configDuration)(&timeout), "timeout", "longest wait for the answer, a `duration` (more than 0)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "beacongate healthcheck: unexpected argument %q\n%s", fs.Arg(0), healthcheckUsage)
		return 2
	}
	if timeout <= 0 {
		// 0 would be no timeout at all: a stuck gateway would hold the check.
		fmt.Fprintf(stderr, "beacongate healthcheck: -timeout must be more than 0 (e.g. 3s)\n")
		return 2
	}
	if *path != "/healthz" && *path != "/readyz" {
		fmt.Fprintf(stderr, "beacongate healthcheck: -path must be /healthz or /readyz\n")
		return 2
	}
	addr, err := probeAddr(*admin)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate healthcheck: -admin: %v\n", err)
		return 2
	}
	url := "http://" + addr + *path
	c := &http.Client{Timeout: timeout}
	resp, err := c.Get(url)
	if err != nil {
		fmt.Fprintf(stdout, "unhealthy: GET %s: %v\n", url, err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stdout, "unhealthy: GET %s: %s\n", url, resp.Status)
		return 1
	}
	fmt.Fprintf(stdout, "ok: GET %s: %s\n", url, resp.Status)
	return 0
}

// probeAddr turns a listen address into one to connect to: an unspecified
// host becomes loopback.
func probeAddr(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", err
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port), nil
}
