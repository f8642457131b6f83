// Package upstream delivers anonymized events: it appends each record to a
// durable spool (package spool) before the request is answered, and one
// shipper per destination reads the spool, batches, compresses, sends and
// only then moves its cursor. Delivery is at least once: a record is never
// dropped after Append returned nil, and may arrive twice after a failure or
// a restart, so every record carries its own event id.
//
// Records must already be anonymized when they reach Append: this package
// writes them to disk as they are. It knows nothing about HTTP requests or
// consent; the caller computes each record's Route (bit i = destination i)
// from the consent it decoded.
//
// Destinations (sinks): rolling zstd NDJSON files (FileSink), HTTP POST of
// compressed NDJSON (HTTPSink), Kafka (KafkaSink), NATS (NATSSink), the ad
// platforms' event APIs (package adplatform), or any Sink. A sink that
// answers per record returns RejectedRecords: the refused records are
// dead-lettered alone and the rest of the batch counts as delivered.
//
// # Typical use
//
//	p, err := upstream.Open(upstream.Options{DataDir: "beacongate-data",
//		Destinations: []upstream.DestinationOptions{
//			{Name: "file", File: &upstream.FileOptions{}},
//			{Name: "ads", HTTP: &upstream.HTTPOptions{URL: "https://collector.example/v1/events"}},
//		}})
//	...
//	err = p.Append(record, upstream.RouteTo(0)|upstream.RouteTo(1)) // on each request
//	switch {
//	case err == nil: // stored: answer 204 / the GIF
//	case errors.Is(err, upstream.ErrFull), errors.Is(err, upstream.ErrDisk):
//		// beacon: 503; pixel: the GIF anyway. Already counted as dropped.
//	}
//	...
//	err = p.Close(ctx) // on SIGTERM: ships what it can before ctx's deadline
//
// The layout under DataDir: spool/ (segments and cursors), out/ (file
// sink), deadletter/<destination>/ (batches refused for good, with a
// .error file giving the reason).
package upstream
