// Command beacongate is a privacy-first edge gateway for tracking pixels,
// sendBeacon events and retail BLE pings.
//
//	beacongate [-config FILE] [-listen ADDR] [-admin ADDR] [-data DIR]   serve (-h for all flags)
//	beacongate config check FILE                                         validate a config file
//	beacongate consent TC_STRING                                         decode a TCF v2 TC string
//	beacongate explain -config FILE [-request FILE]                      dry run of the policy
//	beacongate report -config FILE [-format md|html]                     record of processing
//	beacongate healthcheck [-admin ADDR]                                 probe a running gateway
//	beacongate version                                                   build version
//	beacongate tag [-url BASE] [-site ID] [-sri]                         the bg.js embed snippet with its SRI hash
//
// main only parses flags and wires the packages together.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// commands are the first arguments run knows, for "did you mean".
var commands = []string{"serve", "config", "consent", "explain", "report", "healthcheck", "optout", "version", "help"}

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
		case "healthcheck":
			return runHealthcheck(args[1:], stdout, stderr)
		case "version", "-version", "--version":
			return runVersion(args[1:], stdout, stderr)
		case "tag":
			return runTag(args[1:], stdout, stderr)
		case "optout":
			return runOptOut(args[1:], stdout, stderr)
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
	if s := suggest(cmd, known); s != "" {
		fmt.Fprintf(w, "did you mean %q?\n", s)
	}
	fmt.Fprintf(w, "\n%s", usage)
}

// suggest returns the entry of known closest to s by edit distance, if it is
// close enough to be a typo (at most 2 edits, and fewer than half of s).
func suggest(s string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(s, k); d < bestD && d*2 < len(k) {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Damerau–Levenshtein distance (optimal string
// alignment: insertions, deletions, substitutions and adjacent swaps).
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

const usage = `beacongate: a privacy-first edge gateway for tracking pixels and beacons.

Usage:
  beacongate [serve] [-config FILE] [-listen ADDR] [-admin ADDR] [-data DIR]
  beacongate config check FILE
  beacongate config default
  beacongate consent TC_STRING
  beacongate explain -config FILE [-request FILE]
  beacongate report -config FILE [-format md|html] [-o FILE]
  beacongate healthcheck [-admin ADDR] [-path /healthz|/readyz]
  beacongate version
  beacongate tag [-url BASE] [-site ID] [-sri]
  beacongate optout -config FILE add|remove|list [DEVICE_ID...]

Run "beacongate serve -h" for the server's flags.
`
