package geo

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/oschwald/maxminddb-golang/v2/mmdbdata"
)

// maxFileSize bounds what Open reads into memory. A full GeoIP2 City file is
// under 150 MB today; anything far larger is a wrong path, not a database.
const maxFileSize = 1 << 30

// metadataMarker starts the metadata section at the end of every MaxMind DB
// file (MaxMind DB spec, "Database Metadata").
var metadataMarker = []byte("\xAB\xCD\xEFMaxMind.com")

// DB is one opened, verified MaxMind DB file. It is immutable and safe for
// concurrent use. It holds the whole file in memory; there is nothing to
// close: the memory is freed when the last reference to the DB, or to a
// Location.City taken from it, is gone.
type DB struct {
	reader   *maxminddb.Reader
	dec      *mmdbdata.Decoder // over the data section of buf; only CursorAt is used, which is safe concurrently
	buf      []byte            // the file; never written after Open (see b2s)
	ipv4Only bool

	path         string
	databaseType string
	buildTime    time.Time

	lookupErrors atomic.Uint64
	cache        recordCache // decoded records by data-section offset; see cache.go
}

// Open reads, parses and verifies the MaxMind DB file at path. It accepts
// City, Country and Enterprise databases (GeoIP2, GeoLite2 and compatible).
// A missing, unreadable, truncated or corrupt file, or a database of another
// kind (ASN, Anonymous IP, ISP…), is an error that names the path and the
// problem; Open never panics on a bad file.
//
// Open walks the whole search tree and decodes every distinct record once
// (see check), so that corruption is reported here, at start or reload, and
// not discovered request by request. That takes time in proportion to the
// file: about a millisecond for MaxMind's test files, more for a full City
// database (see BenchmarkOpen).
func Open(path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("geo: no database path given")
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("geo: cannot open database: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("geo: database %q is not a regular file", path)
	}
	if fi.Size() > maxFileSize {
		return nil, fmt.Errorf("geo: database %q is %d bytes; refusing files over %d bytes", path, fi.Size(), maxFileSize)
	}
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("geo: cannot read database: %w", err)
	}
	db, err := openBytes(buf)
	if err != nil {
		return nil, fmt.Errorf("geo: database %q is not a usable MaxMind DB file: %w", path, err)
	}
	db.path = path
	return db, nil
}

// openBytes builds a DB over buf, which it keeps and never modifies.
func openBytes(buf []byte) (*DB, error) {
	r, err := maxminddb.OpenBytes(buf, maxminddb.DisableStringCache())
	if err != nil {
		return nil, err
	}
	t := r.Metadata.DatabaseType
	if !strings.Contains(t, "City") && !strings.Contains(t, "Country") && !strings.Contains(t, "Enterprise") {
		return nil, fmt.Errorf("database type %q has no location data; want a City or Country database", t)
	}
	// The same bounds OpenBytes has just checked: the data section lies
	// between the search tree plus its 16-byte separator and the metadata.
	start := r.Metadata.NodeCount*(r.Metadata.RecordSize/4) + 16
	end := bytes.LastIndex(buf, metadataMarker)
	if end < 0 || start > uint(end) {
		return nil, errors.New("data section out of bounds")
	}
	db := &DB{
		reader:       r,
		dec:          mmdbdata.NewDecoder(buf[start:end], 0),
		buf:          buf,
		ipv4Only:     r.Metadata.IPVersion == 4,
		databaseType: t,
		buildTime:    r.Metadata.BuildTime(),
	}
	if err := db.check(); err != nil {
		return nil, err
	}
	return db, nil
}

// check walks every network in the search tree and decodes each distinct
// record once with the decoder Lookup uses, so that a corrupt tree or record
// fails Open instead of failing lookups one by one.
//
// maxminddb's Reader.Verify would check more of the file, but it is stricter
// than the MaxMind DB specification (it rejects a file without the optional
// "description" metadata, as mmdbwriter writes by default), so it would
// refuse usable files; this check covers exactly what Lookup reads.
func (db *DB) check() error {
	seen := make(map[uintptr]struct{})
	var loc Location
	for res := range db.reader.Networks() {
		if err := res.Err(); err != nil {
			return fmt.Errorf("search tree is corrupt: %w", err)
		}
		off := res.Offset()
		if _, ok := seen[off]; ok {
			continue
		}
		seen[off] = struct{}{}
		if err := db.decodeRecord(uint(off), &loc); err != nil {
			return fmt.Errorf("record for %s is corrupt: %w", res.Prefix(), err)
		}
	}
	return nil
}

// Path returns the file the DB was opened from.
func (db *DB) Path() string { return db.path }

// DatabaseType returns the type from the file's metadata, e.g. "GeoIP2-City".
func (db *DB) DatabaseType() string { return db.databaseType }

// BuildTime returns when the database file was built, from its metadata.
func (db *DB) BuildTime() time.Time { return db.buildTime }

// LookupErrors returns how many lookups failed on corrupt data since Open.
// Verification at Open makes this 0 for any file that opened; it is exported
// for the metrics page as evidence.
func (db *DB) LookupErrors() uint64 { return db.lookupErrors.Load() }

// Lookup returns the location of addr and true, or false when addr is
// invalid, the database has no record for it, or the record has no field
// that Location keeps. An IPv4-mapped IPv6 address is looked up as IPv4; a
// zone is ignored. A record that cannot be decoded counts in LookupErrors
// and reports false.
//
// Lookup does not allocate.
func (db *DB) Lookup(addr netip.Addr) (Location, bool) {
	var loc Location
	if db == nil || !addr.IsValid() {
		return loc, false
	}
	addr = addr.Unmap()
	if db.ipv4Only && !addr.Is4() {
		// maxminddb reports this as an error (built with fmt); it is simply
		// "not found" here.
		return loc, false
	}
	res := db.reader.Lookup(addr)
	if res.Err() != nil {
		db.lookupErrors.Add(1)
		return loc, false
	}
	if !res.Found() {
		return loc, false
	}
	off := uint(res.Offset())
	if cached, ok := db.cache.get(off, db.buf); ok {
		return cached, cached.hasData()
	}
	if err := db.decodeRecord(off, &loc); err != nil {
		db.lookupErrors.Add(1)
		return Location{}, false
	}
	db.cache.put(off, &loc, offsetIn(db.buf, loc.City))
	return loc, loc.hasData()
}

// hasData reports whether l has any field that AppendJSON can write.
func (l *Location) hasData() bool {
	return l.Continent[0] != 0 || l.Country[0] != 0 || l.City != "" || l.HasCoordinates
}
