// Command ceiling is the bare pixel server the gateway is compared against:
// every request gets the 43-byte transparent GIF (fasthttp, or net/http with
// -stdlib), and /metrics on the admin address exposes the same Go and
// process collectors as the gateway. Serves until SIGINT or SIGTERM.
//
//	go run ./bench/cmd/ceiling -listen 127.0.0.1:8080 -admin 127.0.0.1:9100 [-stdlib]
package main

import (
	"os"

	"github.com/beacongate/beacongate/bench/ceiling"
)

func main() { os.Exit(ceiling.Main(os.Args[1:], os.Stderr)) }
