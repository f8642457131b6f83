package main

import (
	"bytes"
	"fmt"
	"io"

	"github.com/beacongate/beacongate/anonymize/consent"
)

// runConsent implements `beacongate consent TC_STRING`: it prints the decoded
// TC string as indented JSON (see consent.Report), or exits 1 with one line
// saying where and why the string does not decode.
func runConsent(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && isHelp(args[0]) {
		// A TC string starts with its version (2: "C"), never with "-".
		fmt.Fprintln(stdout, "usage: beacongate consent TC_STRING")
		return 0
	}
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: beacongate consent TC_STRING")
		return 2
	}
	out, err := consent.DecodeReport(bytes.TrimSpace([]byte(args[0])))
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
