package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/beacongate/beacongate/upstream"
)

// tapBuffered is how many records a tap may hold for a slow reader before
// it is cut.
const tapBuffered = 1024

// maxTaps bounds the taps open at once: each holds tapBuffered buffers of
// 4 KiB (4 MiB), and every record is copied to each on the request path.
const maxTaps = 8

// tapWriteTimeout bounds each write of a tap's stream to its reader. A
// reader that takes nothing for that long has stopped (a terminal
// suspended, a pipe into a stalled program): its stream ends, so that its
// connection and its slot among the maxTaps are given back. Without it the
// handler of a tap cut for falling behind stayed blocked in a write for
// as long as the reader held the connection.
var tapWriteTimeout = 10 * time.Second

// deadlineWriter sets the connection's write deadline tapWriteTimeout
// ahead before each write (streamTap's buffer writes only when it fills or
// is flushed; the flush to the connection sets it again).
type deadlineWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (d deadlineWriter) Write(b []byte) (int, error) {
	d.rc.SetWriteDeadline(time.Now().Add(tapWriteTimeout))
	return d.w.Write(b)
}

// tapHandler streams the anonymized records as they are appended, as
// NDJSON: GET /tap?site=S&consent=STATE&destination=NAME (each optional).
// It is behind guard (loopback or the admin token). A reader that falls
// behind is cut (the stream ends); it never slows the gateway. A filter
// that names a site or destination the running config does not have is
// answered 400 naming the parameter (not its value): the tap would match
// nothing, for ever.
func (a *app) tapHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := upstream.TapFilter{Site: q.Get("site"), Consent: q.Get("consent"), Destination: q.Get("destination")}
		switch f.Consent {
		case "", "none", "analytics", "ads":
		default:
			http.Error(w, "consent: want none, analytics or ads", http.StatusBadRequest)
			return
		}
		if f.Site != "" && !a.siteKnown(f.Site) {
			http.Error(w, "site: not one of the sites configured on this gateway", http.StatusBadRequest)
			return
		}
		if a.openTaps.Add(1) > maxTaps {
			a.openTaps.Add(-1)
			http.Error(w, fmt.Sprintf("too many taps open (at most %d); close one and retry", maxTaps), http.StatusServiceUnavailable)
			return
		}
		defer a.openTaps.Add(-1)
		tap, ok := a.pipeline.Tap(f, tapBuffered)
		if !ok {
			http.Error(w, "destination: no destination of that name", http.StatusBadRequest)
			return
		}
		defer tap.Close()
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("Cache-Control", "no-store")
		rc := http.NewResponseController(w)
		w.WriteHeader(http.StatusOK)
		// Flush's error is the connection's: a write that failed also
		// cancels the request's context, so a failure only seen as done
		// would not tell a timeout from a reader that went away.
		flush := func() error {
			rc.SetWriteDeadline(time.Now().Add(tapWriteTimeout))
			return rc.Flush()
		}
		err := flush()
		if err == nil {
			err = streamTap(deadlineWriter{w: w, rc: rc}, flush, tap, r.Context().Done())
		}
		if errors.Is(err, os.ErrDeadlineExceeded) && a.tapWriteTimeouts != nil {
			a.tapWriteTimeouts.Inc()
		}
	})
}

// siteKnown reports whether the running config accepts events of site: it
// lists it under sites, or lists no site at all (every site id is then
// accepted).
func (a *app) siteKnown(site string) bool {
	cfg := a.live.Load()
	if cfg == nil || len(cfg.Sites) == 0 {
		return true
	}
	for _, s := range cfg.Sites {
		if s.ID == site {
			return true
		}
	}
	return false
}

// streamTap writes tap's records to w, one a line, until the tap closes
// (the pipeline closed, or the reader fell behind and was cut) or done.
// The records offered before the tap closed are still written: at
// shutdown they are the last ones appended, and the reader is told the
// stream ended, so it must not miss them. flush (nil: none) pushes what
// w holds to the reader. It returns the error of a write or flush that
// failed (a reader that took nothing for tapWriteTimeout:
// os.ErrDeadlineExceeded), nil otherwise.
func streamTap(w io.Writer, flush func() error, tap *upstream.Tap, done <-chan struct{}) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	write := func(rec []byte) {
		bw.Write(rec)
		bw.WriteByte('\n')
		tap.Done(rec)
	}
	for {
		select {
		case rec := <-tap.C():
			write(rec)
			if len(tap.C()) > 0 {
				continue // more waiting: flush once for all of them
			}
			if err := bw.Flush(); err != nil {
				return err
			}
			if flush != nil {
				if err := flush(); err != nil {
					return err
				}
			}
		case <-tap.Closed():
			for len(tap.C()) > 0 {
				write(<-tap.C())
			}
			if err := bw.Flush(); err != nil || flush == nil {
				return err
			}
			return flush()
		case <-done:
			// A write that failed also ends the request (net/http cancels
			// its context): return its error, which bw keeps (a Write of
			// nothing returns it without writing).
			_, err := bw.Write(nil)
			return err
		}
	}
}

const tapUsage = `usage: beacongate tap [-admin ADDR] [-token-file FILE] [-site ID] [-consent STATE] [-destination NAME]

Streams the anonymized records a running gateway appends, one JSON object a
line, as they are appended (GET /tap on the admin listener: loopback, or the
admin token). Only what the privacy engine produced is shown, never request
data: the records spooled for the destinations (an ad platform's sink sends
only some members of its record; beacongate explain shows its request). A tap that cannot keep up is cut by the gateway, which never waits for
it; run it again. A -site or -destination the gateway's config does not have
is refused (400, naming the flag's parameter): exit status 1.
`

// runTap is "beacongate tap".
func runTap(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("beacongate tap", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, tapUsage); fs.PrintDefaults() }
	admin := fs.String("admin", "127.0.0.1:9100", "admin listener `ADDR` of the running gateway")
	tokenFile := fs.String("token-file", "", "`FILE` holding the admin token (server.admin_token_file), when the gateway has one")
	site := fs.String("site", "", "only records of this site `ID`")
	consent := fs.String("consent", "", "only records of this consent `STATE` (none, analytics, ads)")
	dest := fs.String("destination", "", "only records routed to the destination `NAME`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "beacongate tap: unexpected argument %q\n%s", fs.Arg(0), tapUsage)
		return 2
	}
	addr, err := probeAddr(*admin)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate tap: -admin: %v\n", err)
		return 2
	}
	q := url.Values{}
	for k, v := range map[string]string{"site": *site, "consent": *consent, "destination": *dest} {
		if v != "" {
			q.Set(k, v)
		}
	}
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/tap?"+q.Encode(), nil)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate tap: %v\n", err)
		return 2
	}
	if *tokenFile != "" {
		tok, err := os.ReadFile(*tokenFile)
		if err != nil {
			fmt.Fprintf(stderr, "beacongate tap: -token-file: %v\n", err)
			return 2
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate tap: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		fmt.Fprintf(stderr, "beacongate tap: %s: %s", resp.Status, b)
		return 1
	}
	if _, err := io.Copy(stdout, resp.Body); err != nil {
		fmt.Fprintf(stderr, "beacongate tap: %v\n", err)
		return 1
	}
	fmt.Fprintln(stderr, "beacongate tap: the gateway ended the stream (stopped, or this tap fell behind)")
	return 0
}
