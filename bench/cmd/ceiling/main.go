// Command ceiling is the bare pixel server the gateway is compared against:
// every request gets the 43-byte transparent GIF. It prints the addresses it
// bound to and serves until SIGINT or SIGTERM.
//
//	go run ./bench/cmd/ceiling -listen 127.0.0.1:8080 -admin 127.0.0.1:9100 [-stdlib]
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/beacongate/beacongate/bench/ceiling"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve the pixel on")
	admin := flag.String("admin", "127.0.0.1:9100", "address to serve Prometheus /metrics on")
	stdlib := flag.Bool("stdlib", false, "serve with net/http instead of fasthttp")
	flag.Parse()

	v := ceiling.FastHTTP
	if *stdlib {
		v = ceiling.Stdlib
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("ceiling: %v", err)
	}
	aln, err := net.Listen("tcp", *admin)
	if err != nil {
		log.Fatalf("ceiling: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	errc := make(chan error, 2)
	go func() { errc <- ceiling.ServeAdmin(ctx, aln, ceiling.NewRegistry()) }()
	go func() { errc <- ceiling.Serve(ctx, ln, v) }()
	log.Printf("ceiling (%s) listening on %s, metrics on http://%s/metrics", v, ln.Addr(), aln.Addr())
	failed := false
	for range 2 {
		if err := <-errc; err != nil {
			log.Printf("ceiling: %v", err)
			failed = true
			stop() // take the other listener down too
		}
	}
	if failed {
		os.Exit(1)
	}
}
