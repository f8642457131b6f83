// Package loopback keeps the bench tools on this machine: every target they
// send traffic to, or read metrics from, must be a loopback address
// (127.0.0.0/8, ::1) or the name localhost, which is pinned to 127.0.0.1
// rather than resolved, so an /etc/hosts entry cannot redirect the load.
package loopback

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

var (
	errScheme   = errors.New("loopback: only http:// targets are supported")
	errHost     = errors.New("loopback: target must be 127.0.0.0/8, ::1 or localhost")
	errPort     = errors.New("loopback: target needs a port between 1 and 65535")
	errUserinfo = errors.New("loopback: user info in the target is not supported")
)

// Target is a checked loopback HTTP target.
type Target struct {
	// Addr is the address to dial: a loopback IP and port, e.g. 127.0.0.1:8080 or [::1]:8080.
	Addr netip.AddrPort
	// Host is the Host header as written in the URL, e.g. localhost:8080.
	Host string
	// Path is the URL's path and query, "/" when empty.
	Path string
}

// URL returns the target as an http URL with its original host.
func (t Target) URL() string { return "http://" + t.Host + t.Path }

// Parse checks that raw is an http URL (or a bare host:port) whose host is a
// loopback IP address or localhost, and returns where to dial it.
func Parse(raw string) (Target, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Target{}, err
	}
	if u.Scheme != "http" {
		return Target{}, errScheme
	}
	if u.User != nil {
		return Target{}, errUserinfo
	}
	host, portStr := u.Hostname(), u.Port()
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return Target{}, errPort
	}
	addr, err := Addr(host)
	if err != nil {
		return Target{}, err
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return Target{Addr: netip.AddrPortFrom(addr, uint16(port)), Host: u.Host, Path: p}, nil
}

// Addr returns the loopback address for host: a literal loopback IP (an
// IPv4-mapped one is unmapped) or "localhost" (any case), which is pinned to
// 127.0.0.1. Anything else, including 0.0.0.0 and other names, is an error.
func Addr(host string) (netip.Addr, error) {
	if strings.EqualFold(host, "localhost") {
		return netip.AddrFrom4([4]byte{127, 0, 0, 1}), nil
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, errHost
	}
	a = a.Unmap().WithZone("")
	if !a.IsLoopback() {
		return netip.Addr{}, errHost
	}
	return a, nil
}

// CheckAddr reports whether addr ("host:port" as given to a dial function)
// is a loopback address, with the same rules as Addr.
func CheckAddr(addr string) (netip.AddrPort, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.AddrPort{}, err
	}
	a, err := Addr(host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return netip.AddrPort{}, errPort
	}
	return netip.AddrPortFrom(a, uint16(port)), nil
}

// Dial connects over TCP to addr after checking it with CheckAddr. It is the
// dial function of every client in the bench tools, so that even a redirect
// or a misconfigured client cannot leave the machine.
func Dial(ctx context.Context, addr string) (net.Conn, error) {
	ap, err := CheckAddr(addr)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", ap.String())
}
