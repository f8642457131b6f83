package main

import (
	"fmt"
	"io"
)

// runReport implements "beacongate report".
func runReport(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "report: not built yet")
	return 2
}
