//go:build !unix

package main

// openFileLimit returns 0: no open-file limit to derive a connection cap from.
func openFileLimit() uint64 { return 0 }
