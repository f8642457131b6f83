//go:build !unix

package spool

import (
	"fmt"
	"os"
)

// lockDir opens the lock file. Without flock, nothing stops a second process.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: cannot open lock file: %w", err)
	}
	return f, nil
}
