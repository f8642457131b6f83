// Command beacongate is a privacy-first edge gateway for tracking pixels,
// sendBeacon events and retail BLE pings.
//
//	beacongate [-config FILE] [-listen ADDR] [-admin ADDR] [-data DIR]   serve (-h for all flags)
//	beacongate config check FILE                                         validate a config file
//	beacongate consent TC_STRING                                         decode a TCF v2 TC string
//	beacongate explain [-config FILE] [-request FILE]                    dry run of the policy
//	beacongate report [-config FILE] [-format md|html]                   record of processing
//	beacongate healthcheck [-admin ADDR]                                 probe a running gateway
//	beacongate version                                                   build version
//	beacongate tag [-url BASE] [-site ID] [-sri]                         the bg.js embed snippet with its SRI hash
//	beacongate audit verify [-data DIR]                                  check the audit log's hash chain
//	beacongate keys forget -config FILE -before DATE                     destroy pseudonym keys for good
//	beacongate subject -config FILE -site S -id ID -from D -to D         a subject's pseudonyms per period
//	beacongate subject suppress|unsuppress -config FILE -site S -id ID   drop a subject's events on arrival
//	beacongate subject suppress|unsuppress -config FILE -kind mac -id M  drop a store device's sightings
//	beacongate subject list -config FILE                                 the suppression list (hashes)
//
// main only parses flags and wires the packages together.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/beacongate/beacongate/suggest"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// commands are the first arguments run knows, for "did you mean".
var commands = []string{"serve", "config", "consent", "explain", "report", "tag", "deadletter", "tap", "optout", "audit", "keys", "subject", "healthcheck", "version", "help"}

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
		case "deadletter":
			return runDeadletter(args[1:], stdout, stderr)
		case "tap":
			return runTap(args[1:], stdout, stderr)
		case "healthcheck":
			return runHealthcheck(args[1:], stdout, stderr)
		case "version", "-version", "--version":
			return runVersion(args[1:], stdout, stderr)
		case "tag":
			return runTag(args[1:], stdout, stderr)
		case "optout":
			return runOptOut(args[1:], stdout, stderr)
		case "audit":
			return runAudit(args[1:], stdout, stderr)
		case "keys":
			return runKeys(args[1:], stdout, stderr)
		case "subject":
			return runSubject(args[1:], stdout, stderr)
		case "serve":
			args = args[1:]
		case "help", "-h", "-help", "--help":
			fmt.Fprint(stdout, usage)
			return 0
		default:
			if !strings.HasPrefix(args[0], "-") {
				unknownCommand(stderr, "beacongate", args[0], commands, usage)
				return 2
			}
		}
	}
	return runServe(args, stderr)
}

// unknownCommand tells the user that cmd is not one of known, suggests the
// closest one when it looks like a typo, and prints the usage.
func unknownCommand(w io.Writer, prog, cmd string, known []string, usage string) {
	fmt.Fprintf(w, "%s: unknown command %q\n", prog, cmd)
	if s := suggest.Closest(cmd, known); s != "" {
		fmt.Fprintf(w, "did you mean %q?\n", s)
	}
	fmt.Fprintf(w, "\n%s", usage)
}

const usage = `beacongate: a privacy-first edge gateway for tracking pixels and beacons.

Usage:
  beacongate [serve] [-config FILE] [-listen ADDR] [-admin ADDR] [-data DIR] [-admin-token-file FILE] [-drain-delay D] [-shutdown-timeout D] [-pprof]
  beacongate config check FILE
  beacongate config default
  beacongate consent [-at TIME] [-max-age DURATION] TC_STRING
  beacongate explain [-config FILE] [-request FILE] [-ip ADDR] [-at TIME] [-data DIR] [-json]
  beacongate report [-config FILE] [-format md|html] [-o FILE] [-diff OLD.yaml] [-data DIR]
  beacongate deadletter list|replay|drop [-config FILE] [-data DIR] [-dry-run] [-drop-outdated] DESTINATION
  beacongate tap [-admin ADDR] [-token-file FILE] [-site ID] [-consent STATE] [-destination NAME]
  beacongate healthcheck [-admin ADDR] [-path /healthz|/readyz] [-timeout D]
  beacongate version
  beacongate optout -config FILE [-data DIR] add|remove|list [DEVICE_ID...]   (deprecated: subject -kind mac|adid)
  beacongate tag [-url BASE] [-site ID] [-sri]
  beacongate audit verify [-data DIR | -file FILE]
  beacongate keys forget -config FILE -before DATE [-data DIR]
  beacongate subject -config FILE -site SITE [-kind subject|mac|adid] -id ID -from DATE -to DATE [-format text|json] [-data DIR]
  beacongate subject -config FILE -kind email|phone|external_id -id VALUE [-format text|json] [-data DIR]
  beacongate subject suppress|unsuppress -config FILE [-kind subject|user|client] -site SITE -id ID [-data DIR]
  beacongate subject suppress|unsuppress -config FILE -kind mac|adid -id ID [-data DIR]
  beacongate subject list -config FILE [-data DIR]

Run "beacongate serve -h" for the server's flags, "beacongate COMMAND -h" for a command's.
`
