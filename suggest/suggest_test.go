package suggest

import (
	"strings"
	"testing"
)

func TestClosest(t *testing.T) {
	keys := []string{"read_timeout", "listen", "admin", "max_conns_per_ip", "tag"}
	commands := []string{"config", "consent", "explain", "report", "healthcheck", "version", "tag"}
	for _, c := range []struct {
		in         string
		candidates []string
		want       string
	}{
		{"readTimeout", keys, "read_timeout"},
		{"read-timeout", keys, "read_timeout"},
		{"lsten", keys, "listen"},
		{"max_conns", keys, "max_conns_per_ip"},
		{"tg", keys, "tag"},
		{"cofig", commands, "config"},
		{"vers", commands, "version"},
		{"exlpain", commands, "explain"},
		{"bogus", commands, ""},
		{"", commands, ""},
		{strings.Repeat("config", 20), commands, ""},
	} {
		if got := Closest(c.in, c.candidates); got != c.want {
			t.Errorf("Closest(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"ab", "ba", 1}, {"ca", "abc", 3}, {"größe", "grösse", 2}} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d; want %d", c.a, c.b, got, c.want)
		}
	}
}
