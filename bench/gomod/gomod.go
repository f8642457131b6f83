// Package gomod finds the root of the Go module the bench commands run in,
// so they build, test and write results relative to it from any directory.
package gomod

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// Root returns the directory of the go.mod that governs the working
// directory, as `go env GOMOD` reports it.
func Root(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == "/dev/null" || mod == "NUL" {
		return "", errors.New("not inside a Go module: run from the beacongate repository")
	}
	return filepath.Dir(mod), nil
}
