// Package geo looks up the coarse location of a client address in a MaxMind
// DB (GeoIP2/GeoLite2 City or Country) and writes only the parts a policy
// allows.
//
// The hot path is allocation-free: [DB.Lookup] walks the record with the
// low-level cursor API of github.com/oschwald/maxminddb-golang/v2 and reads
// only continent code, country code, first subdivision code, English city name
// and location. geoip2-golang's City decodes the whole record into maps and
// allocates on every call, so it is used only in tests, as the reference.
//
// A database is read into memory whole (os.ReadFile) rather than memory-mapped,
// so that a file replaced or truncated on disk can never change or fault a
// running lookup, and so that [Location.City] can point into the file's bytes
// without a copy (see bytes.go).
//
// Without a database every lookup reports false and no geo field is written:
// geolocation is an optional enrichment, never a reason to fail a request.
// [Reloadable] swaps databases atomically and keeps the old one when the new
// file is missing or broken.
package geo
