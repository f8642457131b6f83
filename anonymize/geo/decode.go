package geo

import (
	"errors"
	"math"

	"github.com/oschwald/maxminddb-golang/v2/mmdbdata"
)

// Record layout read here (GeoIP2 City/Country, MaxMind DB format):
//
//	continent.code                     "EU"
//	country.iso_code                   "GB"
//	subdivisions[0].iso_code           "ENG"
//	city.names.en                      "London"
//	location.latitude/longitude        51.5142, -0.0931
//	location.accuracy_radius           10
//
// Everything else (geoname ids, other languages, registered_country, postal,
// traits…) is skipped without being decoded.

// Work bounds per map. Real records have about ten top-level keys and a
// dozen name languages; the bounds only stop a hostile file from making one
// lookup walk a huge map.
const (
	maxRecordKeys = 64
	maxNestedKeys = 64
)

var errTooManyKeys = errors.New("geo: record map has too many keys")

// decodeRecord fills loc from the record at data-section offset off. It
// reads strings as slices of the file buffer (ReadMapKey returns the string
// payload without copying; any string value can be read that way) and never
// allocates.
func (db *DB) decodeRecord(off uint, loc *Location) error {
	m, err := db.dec.CursorAt(off).Map()
	if err != nil {
		return err
	}
	var next mmdbdata.Cursor // zero on the first call to Next, as it requires
	for i := 0; ; i++ {
		key, val, ok := m.Next(next)
		if !ok {
			break
		}
		if i == maxRecordKeys {
			return errTooManyKeys
		}
		switch string(key) {
		case "continent":
			b, err := db.mapString(val, "code")
			if err != nil {
				return err
			}
			setCode(loc.Continent[:], b)
		case "country":
			b, err := db.mapString(val, "iso_code")
			if err != nil {
				return err
			}
			setCode(loc.Country[:], b)
		case "subdivisions":
			if err := db.firstSubdivision(val, loc); err != nil {
				return err
			}
		case "city":
			names, err := db.mapValue(val, "names")
			if err != nil {
				return err
			}
			if names != (mmdbdata.Cursor{}) {
				b, err := db.mapString(names, "en")
				if err != nil {
					return err
				}
				loc.City = b2s(b)
			}
		case "location":
			if err := db.location(val, loc); err != nil {
				return err
			}
		}
		if next, err = val.Skip(); err != nil {
			return err
		}
	}
	return m.Err()
}

// mapValue returns the cursor of key's value in the map at c, or the zero
// Cursor when the map has no such key.
func (db *DB) mapValue(c mmdbdata.Cursor, key string) (mmdbdata.Cursor, error) {
	m, err := c.Map()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	var next mmdbdata.Cursor
	for i := 0; ; i++ {
		k, val, ok := m.Next(next)
		if !ok {
			break
		}
		if i == maxNestedKeys {
			return mmdbdata.Cursor{}, errTooManyKeys
		}
		if string(k) == key {
			return val, nil
		}
		if next, err = val.Skip(); err != nil {
			return mmdbdata.Cursor{}, err
		}
	}
	return mmdbdata.Cursor{}, m.Err()
}

// mapString returns the string stored under key in the map at c as a slice
// of the file buffer, or nil when there is no such key.
func (db *DB) mapString(c mmdbdata.Cursor, key string) ([]byte, error) {
	val, err := db.mapValue(c, key)
	if err != nil || val == (mmdbdata.Cursor{}) {
		return nil, err
	}
	// ReadMapKey reads a string (following one pointer) and returns its
	// payload without copying; ReadString would allocate a Go string.
	b, _, err := val.ReadMapKey()
	return b, err
}

// firstSubdivision sets loc.Region from subdivisions[0].iso_code, the
// largest subdivision (MaxMind orders them from largest to smallest).
func (db *DB) firstSubdivision(c mmdbdata.Cursor, loc *Location) error {
	s, err := c.Slice()
	if err != nil {
		return err
	}
	_, first, ok := s.Next(mmdbdata.Cursor{})
	if !ok {
		return s.Err()
	}
	b, err := db.mapString(first, "iso_code")
	if err != nil {
		return err
	}
	setCode(loc.Region[:], b)
	return nil
}

// location sets the coordinates and accuracy radius from the location map.
// Coordinates count only when both are present and in range.
func (db *DB) location(c mmdbdata.Cursor, loc *Location) error {
	m, err := c.Map()
	if err != nil {
		return err
	}
	var lat, lon float64
	var haveLat, haveLon bool
	var next mmdbdata.Cursor
	for i := 0; ; i++ {
		k, val, ok := m.Next(next)
		if !ok {
			break
		}
		if i == maxNestedKeys {
			return errTooManyKeys
		}
		switch string(k) {
		case "latitude":
			lat, next, err = val.ReadFloat()
			haveLat = true
		case "longitude":
			lon, next, err = val.ReadFloat()
			haveLon = true
		case "accuracy_radius":
			var r uint64
			r, next, err = val.ReadUint()
			loc.AccuracyRadius = uint16(min(r, math.MaxUint16))
		default:
			next, err = val.Skip()
		}
		if err != nil {
			return err
		}
	}
	if err := m.Err(); err != nil {
		return err
	}
	if haveLat && haveLon && math.Abs(lat) <= 90 && math.Abs(lon) <= 180 {
		// math.Abs(NaN) <= 90 is false, so NaN is rejected as well.
		loc.Latitude, loc.Longitude, loc.HasCoordinates = lat, lon, true
	}
	return nil
}

// setCode copies b into dst if it is a valid code that fits; otherwise dst
// stays zero. A code is never truncated: a cut code would name another
// place.
func setCode(dst, b []byte) {
	if !validCode(b, len(dst)) {
		return
	}
	n := copy(dst, b)
	clear(dst[n:])
}

// validCode reports whether b is 1 to max ASCII letters or digits, which
// also makes it safe to write into JSON unescaped.
func validCode(b []byte, max int) bool {
	if len(b) == 0 || len(b) > max {
		return false
	}
	for _, c := range b {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
