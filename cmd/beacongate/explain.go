package main

import (
	"fmt"
	"io"
)

// runExplain implements "beacongate explain".
func runExplain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "explain: not built yet")
	return 2
}
