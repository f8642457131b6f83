package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDurationFlagsTakeDays: every duration flag stands for, or is written
// like, a config duration, which may be whole days (config.ParseDuration);
// consent -max-age took 395d, but serve -drain-delay and -shutdown-timeout
// and healthcheck -timeout were Go durations, which refused "0d" and "1d"
// as invalid values. They now take what the config takes, are checked
// against the same ranges after, and their help shows the default as the
// config writes it.
func TestDurationFlagsTakeDays(t *testing.T) {
	f, set, err := parseServeFlags([]string{"-drain-delay", "0d", "-shutdown-timeout", "2m"}, io.Discard)
	if err != nil || !set["drain-delay"] || f.drainDelay != 0 || f.shutdownTimeout != 2*time.Minute {
		t.Errorf("serve -drain-delay 0d -shutdown-timeout 2m: %+v %v; want 0 and 2m", f, err)
	}
	var errb bytes.Buffer
	if _, _, err := parseServeFlags([]string{"-shutdown-timeout", "1d"}, &errb); err == nil ||
		!strings.Contains(errb.String(), "-shutdown-timeout: must be between 1s and 10m") {
		t.Errorf("serve -shutdown-timeout 1d: %v, %q; want refused for its range, as server.shutdown_timeout", err, errb.String())
	}
	errb.Reset()
	if _, _, err := parseServeFlags([]string{"-drain-delay", "5"}, &errb); err == nil || !strings.Contains(errb.String(), "write e.g. 5s") {
		t.Errorf("serve -drain-delay 5: %v, %q; want refused as the config refuses a number without a unit", err, errb.String())
	}

	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	var out bytes.Buffer
	errb.Reset()
	if code := run([]string{"healthcheck", "-admin", ln.Addr().String(), "-timeout", "1d"}, nil, &out, &errb); code != 0 {
		t.Errorf("healthcheck -timeout 1d: exit %d, %q %q; want 0", code, out.String(), errb.String())
	}

	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"serve", "-h"}, []string{"-drain-delay duration\n", "-shutdown-timeout duration\n", "(default 8s)"}},
		{[]string{"healthcheck", "-h"}, []string{"-timeout duration\n", "(default 3s)"}},
	} {
		var stdout, stderr bytes.Buffer
		run(c.args, strings.NewReader(""), &stdout, &stderr)
		help := stdout.String() + stderr.String()
		for _, w := range c.want {
			if !strings.Contains(help, w) {
				t.Errorf("%s: no %q in\n%s", strings.Join(c.args, " "), w, help)
			}
		}
		if strings.Contains(help, "-drain-delay duration\n    \ton SIGTERM, how long /readyz answers 503 before the listener closes (without this flag, server.drain_delay) (default") {
			t.Errorf("%s: -drain-delay shows a default of 0", strings.Join(c.args, " "))
		}
	}
}
