// Command beacongate is a privacy-first edge gateway for tracking pixels,
// sendBeacon events and retail BLE pings.
//
//	beacongate [-config FILE] [-listen ADDR] [-admin ADDR] [-data DIR]   serve
//	beacongate config check FILE                                         validate a config file
//	beacongate consent TC_STRING                                         decode a TCF v2 TC string
//	beacongate explain -config FILE [-request FILE]                      dry run of the policy
//	beacongate report -config FILE [-format md|html]                     record of processing
//	beacongate tag [-url BASE] [-site ID] [-sri]                         the bg.js embed snippet with its SRI hash
//
// main only parses flags and wires the packages together.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "config":
			return runConfig(args[1:], stdout, stderr)
		case "consent":
			return runConsent(args[1:], stdout, stderr)
		case "explain":
			return runExplain(args[1:], stdin, stdout, stderr)
		case "report":
			return runReport(args[1:], stdout, stderr)
		case "tag":
			return runTag(args[1:], stdout, stderr)
		case "serve":
			args = args[1:]
		case "help", "-h", "-help", "--help":
			fmt.Fprint(stdout, usage)
			return 0
		}
	}
	return runServe(args, stderr)
}

const usage = `beacongate: a privacy-first edge gateway for tracking pixels and beacons.

Usage:
  beacongate [serve] [-config FILE] [-listen ADDR] [-admin ADDR] [-data DIR]
  beacongate config check FILE
  beacongate consent TC_STRING
  beacongate explain -config FILE [-request FILE]
  beacongate report -config FILE [-format md|html] [-o FILE]
  beacongate tag [-url BASE] [-site ID] [-sri]

Run "beacongate serve -h" for the server's flags.
`
