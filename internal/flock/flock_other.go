//go:build !unix

package flock

import "os"

// Lock is a no-op where flock does not exist: several processes are not
// serialized there.
func Lock(*os.File) error { return nil }
