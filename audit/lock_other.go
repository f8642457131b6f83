//go:build !unix

package audit

import "os"

// lock is a no-op where flock does not exist; the in-process mutex still
// serializes appends of one process.
func lock(*os.File) error { return nil }
