package geo

import (
	"errors"
	"math"
	"strconv"
	"unicode/utf8"
)

// Location is the part of a MaxMind DB record that the gateway may use. It is
// a small value type: copy it freely. The zero Location has no field set.
//
// Codes are upper-case ASCII exactly as stored in the database, zero-padded
// on the right; a code that is not 1 to len(array) ASCII letters or digits is
// dropped at decode time rather than truncated.
type Location struct {
	// Continent is the two-letter continent code (AF, AN, AS, EU, NA, OC, SA).
	Continent [2]byte
	// Country is the ISO 3166-1 alpha-2 code of the country.
	Country [2]byte
	// Region is the ISO 3166-2 subdivision code of the first (largest)
	// subdivision without the country prefix, e.g. "ENG" for GB-ENG or "E"
	// for SE-E, zero-padded.
	Region [3]byte
	// City is the English city name. It shares memory with the database file
	// it came from (see b2s): it is immutable and valid forever, but keeps
	// that file in memory while it is referenced.
	City string
	// Latitude and Longitude are in degrees, valid only if HasCoordinates.
	Latitude, Longitude float64
	// AccuracyRadius is MaxMind's radius in kilometres around the coordinates
	// in which the address is likely to be; 0 when unknown.
	AccuracyRadius uint16
	// HasCoordinates reports whether Latitude and Longitude were present and
	// in range; 0,0 is a real place, so it cannot serve as "unknown".
	HasCoordinates bool
}

// code returns the meaningful prefix of a zero-padded code array.
func code(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// ContinentCode returns Continent as a string. It allocates; use AppendJSON
// on the hot path.
func (l Location) ContinentCode() string { return string(code(l.Continent[:])) }

// CountryCode returns Country as a string. It allocates; use AppendJSON on
// the hot path.
func (l Location) CountryCode() string { return string(code(l.Country[:])) }

// RegionCode returns Region as a string. It allocates; use AppendJSON on the
// hot path.
func (l Location) RegionCode() string { return string(code(l.Region[:])) }

// Level is how much of a Location a policy lets through. Each level includes
// every coarser one: Region writes continent, country and region.
type Level uint8

// Levels from coarsest (nothing) to finest.
const (
	None Level = iota
	Continent
	Country
	Region
	City
)

var levelNames = [...]string{None: "none", Continent: "continent", Country: "country", Region: "region", City: "city"}

// String returns the level's configuration name ("none" … "city").
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return "Level(" + strconv.Itoa(int(l)) + ")"
}

// ErrBadLevel is returned by ParseLevel for an unknown name.
var ErrBadLevel = errors.New("geo: unknown level; want none, continent, country, region or city")

// ParseLevel parses a level name as written by Level.String. Names are case
// sensitive; the empty string is not accepted, so that a missing setting is
// an explicit choice of the caller's defaults rather than a silent "none".
func ParseLevel(s string) (Level, error) {
	for i, n := range levelNames {
		if s == n {
			return Level(i), nil
		}
	}
	return None, ErrBadLevel
}

// AppendJSON appends l to dst as one JSON object holding only the fields
// level allows, for example
//
//	{"continent":"EU","country":"GB","region":"ENG","city":"London","lat":51.5,"lon":-0.1}
//
// Fields missing from the database are left out; with nothing to write it
// appends {}. Keys are continent, country, region (the subdivision code
// without country prefix), city, lat and lon.
//
// Coordinates are written only when level is not None, gridDegrees > 0 and
// the database had them. They are snapped to the nearest multiple of
// gridDegrees with math.Round (so -1.26 on a 0.1 grid becomes -1.3, not
// -1.2) and printed with as many decimals as the grid needs. gridDegrees of
// 0, a negative number or NaN leaves coordinates out: coordinates are an
// explicit opt-in. Note that gridDegrees is independent of level: a fine grid
// reveals more than "country" does, and the policy must say so on purpose.
//
// AppendJSON does not allocate when dst has room.
func (l Location) AppendJSON(dst []byte, level Level, gridDegrees float64) []byte {
	start := len(dst)
	dst = append(dst, '{')
	if level >= Continent && l.Continent[0] != 0 {
		dst = appendKey(dst, start, "continent")
		dst = appendCode(dst, l.Continent[:])
	}
	if level >= Country && l.Country[0] != 0 {
		dst = appendKey(dst, start, "country")
		dst = appendCode(dst, l.Country[:])
	}
	if level >= Region && l.Region[0] != 0 {
		dst = appendKey(dst, start, "region")
		dst = appendCode(dst, l.Region[:])
	}
	if level >= City && l.City != "" {
		dst = appendKey(dst, start, "city")
		dst = appendJSONString(dst, l.City)
	}
	if level > None && l.HasCoordinates && gridDegrees > 0 && !math.IsInf(gridDegrees, 0) {
		decimals := gridDecimals(gridDegrees)
		dst = appendKey(dst, start, "lat")
		dst = strconv.AppendFloat(dst, snap(l.Latitude, gridDegrees, 90), 'f', decimals, 64)
		dst = appendKey(dst, start, "lon")
		dst = strconv.AppendFloat(dst, snap(l.Longitude, gridDegrees, 180), 'f', decimals, 64)
	}
	return append(dst, '}')
}

// appendKey appends a JSON object key, after a comma unless it is the first
// member of the object that starts at dst[start].
func appendKey(dst []byte, start int, key string) []byte {
	if len(dst) > start+1 {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

// appendCode writes a validated code (ASCII letters and digits only, see
// validCode) as a JSON string; it needs no escaping.
func appendCode(dst, c []byte) []byte {
	dst = append(dst, '"')
	dst = append(dst, code(c)...)
	return append(dst, '"')
}

// snap rounds v to the nearest multiple of grid and clamps it to ±limit, as
// a coarse grid can round 89.9 up to 91.
func snap(v, grid, limit float64) float64 {
	v = math.Round(v/grid) * grid
	v = math.Max(-limit, math.Min(limit, v))
	return v + 0 // turns -0 into 0, so a grid point is never printed as "-0"
}

// maxGridDecimals bounds printed precision: 6 decimals of a degree are about
// 0.1 m, far below what an IP address can tell.
const maxGridDecimals = 6

// gridDecimals returns how many decimals print every multiple of grid
// exactly: 0 for 1 or 5, 1 for 0.1 or 0.5, 2 for 0.25, at most
// maxGridDecimals.
func gridDecimals(grid float64) int {
	scaled := grid
	for d := 0; d < maxGridDecimals; d++ {
		if r := math.Round(scaled); r >= 1 && math.Abs(scaled-r) <= 1e-9*scaled {
			return d
		}
		scaled *= 10
	}
	return maxGridDecimals
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters are escaped, and invalid UTF-8 becomes U+FFFD, so a
// broken or hostile database cannot break the output record.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
