// Command compare runs the whole gateway-versus-ceiling comparison in one go
// (about three minutes on two cores): builds the ceiling, the load generator
// and the gateway (skipping the gateway, with a message, if it does not
// build), pins each server to one CPU and the load generator to another,
// finds each server's maximum throughput, measures latency at fixed shares of
// the gateway's maximum, with spool durability process and fsync, and writes
// bench/results/latest.md and bench/results/latency.svg.
//
//	go run ./bench/cmd/compare
//	go run ./bench/cmd/compare -quick          # a shorter try-out
//
// Run with -h for all flags.
package main

import (
	"os"

	"github.com/beacongate/beacongate/bench/compare"
)

func main() { os.Exit(compare.Main(os.Args[1:], os.Stdout, os.Stderr)) }
