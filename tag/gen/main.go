// Command gen writes bg.min.js from bg.src.js (run by `go generate ./tag`).
package main

import (
	"fmt"
	"os"

	"github.com/beacongate/beacongate/tag/internal/minify"
)

func main() {
	src, err := os.ReadFile("bg.src.js")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := minify.JS(src)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile("bg.min.js", out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
