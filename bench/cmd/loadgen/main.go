// Command loadgen sends a realistic, bounded beacon traffic mix to a server
// on this machine (loopback only) and reports throughput, latency
// percentiles, errors by kind, and the server's CPU and allocations per
// request read from its /metrics before and after.
//
//	go run ./bench/cmd/loadgen -target http://127.0.0.1:8080 -metrics http://127.0.0.1:9100/metrics \
//	    -mode closed -conns 64 -duration 10s
//	go run ./bench/cmd/loadgen -mode open -rate 20000 -duration 10s -json result.json
//
// Run with -h for all flags.
package main

import (
	"os"

	"github.com/beacongate/beacongate/bench/loadgen"
)

func main() { os.Exit(loadgen.Main(os.Args[1:], os.Stdout, os.Stderr)) }
