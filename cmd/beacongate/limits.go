package main

import (
	"fmt"
	"os"

	"github.com/beacongate/beacongate/config"
)

// File descriptors kept free for everything but client connections: the
// listeners, the spool's segment files and cursor, file sink outputs, HTTP
// and Kafka sink connections, the GeoIP database, admin connections and the
// runtime's own (epoll, pipes). A fixed floor plus an eighth of the limit,
// since busy deployments also run more destinations and admin scrapes.
const fdReserveFloor = 64

// maxConns returns the cap on open client connections: configured when
// set, else derived from the open-file limit (0: unknown, no cap below
// fasthttp's default).
func maxConns(configured int, fdLimit uint64) int {
	if configured > 0 {
		return configured
	}
	if fdLimit == 0 {
		return 0
	}
	reserve := fdReserveFloor + fdLimit/8
	if fdLimit <= reserve+16 {
		return 16 // a limit this low leaves nothing to derive from; serve a few
	}
	return int(min(fdLimit-reserve, 1<<20))
}

// readAdminToken reads the admin bearer token from path ("" → nil: no
// token). Surrounding white space is trimmed; the token is never logged.
// config check applies the same rules (config.AdminToken), and like it
// refuses a file readable or writable by every user: -admin-token-file
// names a file config check never sees.
func readAdminToken(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	if fi, err := os.Stat(path); err == nil {
		if err := config.SecretMode(path, fi.Mode()); err != nil {
			return nil, err
		}
	}
	b, err := config.ReadAdminTokenFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the admin token: %w", err)
	}
	return config.AdminToken(b)
}
