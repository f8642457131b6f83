// Package anonymize is beacongate's privacy policy engine. For each event it
// decides consent (package consent), picks the policy of the resulting state
// (none, analytics or ads) and turns every field into what that policy
// allows: kept, dropped, truncated, coarsened, reduced, cleaned of personal
// data (package scrub) or replaced by a pseudonym (package pseudonym). The
// output is one versioned JSON record per event (see RecordVersion and
// schema/record.schema.json), appended into a caller-owned buffer without
// allocating.
//
// anonymize knows nothing about HTTP: it reads event.Event values and the
// config, so it can be tested, fuzzed and benchmarked without a server.
package anonymize
