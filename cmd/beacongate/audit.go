package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/beacongate/beacongate/audit"
)

const auditUsage = `Usage:
  beacongate audit verify [-data DIR | -file FILE]

verify checks the hash chain of the audit log (<data_dir>/audit.log) and
reports the first broken entry. A last line without its newline is an
entry a crash interrupted (never acknowledged; the next entry cuts it off
and records the cut): it is reported, and is not a break. Exit status 0:
intact; 1: broken or unreadable; 2: bad usage.
`

// runAudit runs "beacongate audit ...".
func runAudit(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "verify" {
		switch {
		case len(args) > 0 && (isHelp(args[0]) || args[0] == "help"):
			fmt.Fprint(stdout, auditUsage)
			return 0
		case len(args) > 0:
			unknownCommand(stderr, "beacongate audit", args[0], []string{"verify"}, auditUsage)
		default:
			fmt.Fprint(stderr, auditUsage)
		}
		return 2
	}
	fs := flag.NewFlagSet("beacongate audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./beacongate-data", "the gateway's data directory")
	file := fs.String("file", "", "the audit log file (default <data>/audit.log)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // the usage was asked for
		}
		return 2
	}
	path := *file
	if path == "" {
		path = filepath.Join(*data, audit.FileName)
	}
	n, err := audit.VerifyFile(path)
	var torn *audit.TornTail
	if errors.As(err, &torn) {
		// Not an edit: an Append a crash interrupted, cut by the next one.
		fmt.Fprintf(stdout, "%s: %d entries, chain intact; line %d is unfinished (%d bytes without a newline): an entry a crash or a full disk interrupted, never acknowledged; the next entry cuts it off and records the cut\n",
			path, n, torn.Line, torn.Bytes)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "beacongate audit verify: %s: %v\n", path, err)
		if audit.IsBroken(err) {
			fmt.Fprintf(stderr, "the %d entries before it are intact\n", n)
		}
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d entries, chain intact\n", path, n)
	return 0
}
