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

// fileLimit returns the process's open-file limit (0: unknown); a
// variable so that tests pin it.
var fileLimit = openFileLimit

// fdFree returns the descriptors an open-file limit leaves for client
// connections once the reserve is kept (negative when it is too low
// even for the reserve).
func fdFree(fdLimit uint64) int64 {
	return int64(fdLimit) - int64(fdReserveFloor+fdLimit/8)
}

// fileLimitFor returns the least open-file limit that leaves conns
// descriptors for client connections besides the reserve.
func fileLimitFor(conns int) uint64 {
	l := (uint64(conns) + fdReserveFloor) * 8 / 7
	for l > 0 && fdFree(l-1) >= int64(conns) {
		l--
	}
	for fdFree(l) < int64(conns) {
		l++
	}
	return l
}

// maxConnsProblem says what is wrong with server.max_conns configured
// under the open-file limit fdLimit, or "" when nothing is: a cap above
// the descriptors the limit leaves for client connections lets the
// gateway run out of them under load. 0 (derived) and an unknown limit
// (0) are never a problem.
func maxConnsProblem(configured int, fdLimit uint64) string {
	if configured <= 0 || fdLimit == 0 || int64(configured) <= fdFree(fdLimit) {
		return ""
	}
	free := max(fdFree(fdLimit), 0)
	return fmt.Sprintf("server.max_conns (%d) is above what the open-file limit (RLIMIT_NOFILE) of %d allows: at most %d connections, "+
		"keeping %d descriptors for the spool, sinks and admin listener; under load the gateway would run out of descriptors "+
		"(EMFILE, too many open files): accepts would wait, spool segments and sink files would fail to open. "+
		"Either raise the limit to at least %d (ulimit -n; LimitNOFILE= in a systemd unit; --ulimit nofile= with docker run), "+
		"or lower server.max_conns to at most %d (0 derives it from the limit)",
		configured, fdLimit, free, fdReserveFloor+fdLimit/8, fileLimitFor(configured), free)
}

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
