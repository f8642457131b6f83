package ceiling

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
)

// Main is the ceiling command: it parses args (without the program name),
// serves until SIGINT or SIGTERM and returns the exit code.
func Main(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("ceiling", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "address to serve the pixel on")
	admin := fs.String("admin", "127.0.0.1:9100", "address to serve Prometheus /metrics on")
	stdlib := fs.Bool("stdlib", false, "serve with net/http instead of fasthttp")
	floorDir := fs.String("floor", "", "serve the floor (see package doc): write each request to a segment in this directory before the answer and compress it in the background; fasthttp only")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	v := FastHTTP
	if *stdlib {
		v = Stdlib
	}
	if *floorDir != "" {
		if *stdlib {
			fmt.Fprintln(stderr, "ceiling: -floor and -stdlib: the floor runs on fasthttp only")
			return 2
		}
		v = FloorVariant
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Listen(ctx, *listen, *admin, Server{Variant: v, FloorDir: *floorDir}, stderr); err != nil {
		fmt.Fprintln(stderr, "ceiling:", err)
		return 1
	}
	return 0
}

// Listen serves the pixel on listen and /metrics on admin until ctx is
// done, logging the bound addresses to log. If either server fails, both
// stop and the error is returned.
func Listen(ctx context.Context, listen, admin string, srv Server, log io.Writer) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	aln, err := net.Listen("tcp", admin)
	if err != nil {
		ln.Close()
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() { errc <- ServeAdmin(ctx, aln, NewRegistry()) }()
	go func() { errc <- srv.Serve(ctx, ln) }()
	fmt.Fprintf(log, "ceiling (%s) listening on %s, metrics on http://%s/metrics\n", srv.Variant, ln.Addr(), aln.Addr())
	var first error
	for range 2 {
		if err := <-errc; err != nil && first == nil {
			first = err
			cancel() // take the other server down too
		}
	}
	return first
}
