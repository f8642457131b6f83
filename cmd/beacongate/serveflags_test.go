package main

import (
	"strings"
	"testing"
)

// TestServeRefusesListenerFlagsWithoutHostPort: -admin and -listen take a
// host:port, as server.admin and server.listen do in the config, where
// config check refuses anything else. The flags were not checked: -admin ""
// or -admin ":" (meant to turn the admin listener off, or a port left out
// by a deploy template) bound the admin listener on every interface at a
// port the kernel picked, so /metrics and /readyz answered anyone who
// reached the host, and -admin 9100 opened the spool and then failed with
// "missing port in address". serve now refuses such a flag as bad usage,
// naming it, before it opens anything.
func TestServeRefusesListenerFlagsWithoutHostPort(t *testing.T) {
	for _, c := range []struct{ flag, value string }{
		{"-admin", ""},
		{"-admin", ":"},
		{"-admin", "9100"},
		{"-admin", "127.0.0.1:http"},
		{"-admin", "127.0.0.1:70000"},
		{"-listen", ""},
		{"-listen", "8080"},
	} {
		var stderr strings.Builder
		_, _, err := parseServeFlags([]string{c.flag, c.value}, &stderr)
		if err == nil {
			t.Errorf("%s %q accepted; want it refused", c.flag, c.value)
			continue
		}
		if !strings.Contains(stderr.String(), c.flag+": ") || !strings.Contains(stderr.String(), "host:port") {
			t.Errorf("%s %q: the message does not name the flag and what it takes: %q", c.flag, c.value, stderr.String())
		}
	}
	for _, ok := range []string{"127.0.0.1:9100", ":9100", "[::1]:0", "localhost:9100", "0.0.0.0:9100"} {
		if _, _, err := parseServeFlags([]string{"-admin", ok, "-listen", "127.0.0.1:0"}, new(strings.Builder)); err != nil {
			t.Errorf("-admin %q refused: %v", ok, err)
		}
	}
}
