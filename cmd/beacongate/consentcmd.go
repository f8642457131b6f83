package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/beacongate/beacongate/anonymize/consent"
	"github.com/beacongate/beacongate/config"
)

const consentUsage = "usage: beacongate consent [-at TIME] [-max-age DURATION] TC_STRING\n"

// runConsent implements `beacongate consent TC_STRING`: it prints the decoded
// TC string as indented JSON (see consent.Report), with every problem the
// gateway would find in it for a request arriving at -at (default: now)
// under consent.tcf.max_age -max-age (default: its default), or exits 1
// with one line saying where and why the string does not decode.
func runConsent(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("consent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	atFlag := fs.String("at", "", "judge the string's dates as for a request arriving at `TIME`, RFC 3339 (default: now)")
	maxAge := configDuration(config.Default().Consent.TCF.MaxAge)
	fs.Var(&maxAge, "max-age", "consent.tcf.max_age to judge the string's age by, a `duration` such as 395d or 720h; 0: no limit")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), consentUsage)
		fs.PrintDefaults()
	}
	if len(args) == 1 && isHelp(args[0]) {
		// A TC string starts with its version (2: "C"), never with "-".
		// Asked for, the usage and the flags go to stdout.
		fs.SetOutput(stdout)
		fs.Usage()
		return 0
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	now := cliClock.Now()
	if *atFlag != "" {
		at, err := time.Parse(time.RFC3339Nano, *atFlag)
		if err != nil {
			fmt.Fprintln(stderr, "beacongate consent: -at: not an RFC 3339 time")
			return 2
		}
		now = at
	}
	out, err := consent.DecodeReport(bytes.TrimSpace([]byte(fs.Arg(0))), now, time.Duration(maxAge))
	if err != nil {
		fmt.Fprintf(stderr, "beacongate consent: %v\n", err)
		return 1
	}
	out = append(out, '\n')
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintf(stderr, "beacongate consent: %v\n", err)
		return 1
	}
	return 0
}
