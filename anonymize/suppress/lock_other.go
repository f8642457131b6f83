//go:build !unix

package suppress

import "os"

// lock is a no-op where flock does not exist: concurrent edits of the list
// by several processes are not serialized there.
func lock(*os.File) error { return nil }
