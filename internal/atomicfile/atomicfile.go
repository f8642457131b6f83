// Package atomicfile replaces a file's content so that a reader, or the
// next start after a crash, sees the old content or the new one, never a
// part: the dead letters' batches, the suppression list, the key store's
// destruction watermark, the older opt-out list and its key.
package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
)

// Write replaces the file at path with data, created with perm: it writes
// path+".tmp", fsyncs it, renames it over path and fsyncs the directory.
// The temporary file is removed when a step fails. Writers that may run at
// once on one path must hold a lock of their own (the temporary file's
// name is fixed, so that a crash's leftover is found where expected).
func Write(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm) // a leftover .tmp of another mode is reused as it is
	}
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir fsyncs the directory dir, so that a rename or a removal in it
// survives a power loss.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
