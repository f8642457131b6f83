package geo

import (
	"fmt"
	"net/netip"
	"sync/atomic"
)

// Reloadable holds the current DB and lets it be replaced while lookups run.
// The zero value is ready to use and has no database: Lookup reports false
// until a Reload succeeds.
type Reloadable struct {
	db       atomic.Pointer[DB]
	reloads  atomic.Uint64
	failures atomic.Uint64
}

// NewReloadable returns a Reloadable holding the database at path, or with no
// database when path is empty (geolocation off).
func NewReloadable(path string) (*Reloadable, error) {
	r := new(Reloadable)
	if err := r.Reload(path); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload opens and verifies the database at path and, only if that
// succeeds, makes it current. On error the previous database (or none) stays
// in use and the error says so. An empty path removes the database, turning
// geolocation off.
//
// The replaced DB is not closed: lookups that loaded it a moment ago may
// still be reading it, and its memory is freed by the garbage collector once
// they are done (see DB).
func (r *Reloadable) Reload(path string) error {
	if path == "" {
		r.db.Store(nil)
		r.reloads.Add(1)
		return nil
	}
	db, err := Open(path)
	if err != nil {
		r.failures.Add(1)
		if old := r.db.Load(); old != nil {
			return fmt.Errorf("keeping previous database %q: %w", old.path, err)
		}
		return fmt.Errorf("geolocation stays off: %w", err)
	}
	r.db.Store(db)
	r.reloads.Add(1)
	return nil
}

// DB returns the current database, or nil when there is none.
func (r *Reloadable) DB() *DB { return r.db.Load() }

// Lookup looks addr up in the current database (see DB.Lookup). With no
// database it returns false. It does not allocate.
func (r *Reloadable) Lookup(addr netip.Addr) (Location, bool) {
	return r.db.Load().Lookup(addr) // DB.Lookup handles a nil DB
}

// Reloads returns how many Reload calls succeeded. A Reload makes its
// database current before it counts, so a count read before a Lookup that
// is unchanged afterwards means the Lookup's database is still current:
// callers use it to know when a remembered answer is stale.
func (r *Reloadable) Reloads() uint64 { return r.reloads.Load() }

// ReloadFailures returns how many Reload calls failed and kept the previous
// database.
func (r *Reloadable) ReloadFailures() uint64 { return r.failures.Load() }
