package gateway

import (
	"bytes"
	"net"
	"net/netip"

	"github.com/valyala/fasthttp"
)

// clientIP returns the visitor's address: the socket's peer, or, when the peer
// is a trusted proxy, the nearest untrusted address in the Forwarded or
// X-Forwarded-For chain (read right to left, since only the entries added by
// our own proxies can be believed).
func clientIP(ctx *fasthttp.RequestCtx, trusted []netip.Prefix) netip.Addr {
	peer := peerAddr(ctx)
	if len(trusted) == 0 || !isTrusted(peer, trusted) {
		return peer
	}
	if fwd := ctx.Request.Header.Peek("Forwarded"); len(fwd) > 0 {
		if a, ok := fromForwarded(fwd, trusted); ok {
			return a
		}
		return peer
	}
	if xff := ctx.Request.Header.Peek("X-Forwarded-For"); len(xff) > 0 {
		if a, ok := fromXFF(xff, trusted); ok {
			return a
		}
	}
	return peer
}

func peerAddr(ctx *fasthttp.RequestCtx) netip.Addr {
	var ip net.IP
	switch a := ctx.RemoteAddr().(type) {
	case *net.TCPAddr:
		ip = a.IP
	case *net.UDPAddr:
		ip = a.IP
	default:
		return netip.Addr{}
	}
	addr, _ := netip.AddrFromSlice(ip)
	return addr.Unmap()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// fromXFF walks a comma-separated X-Forwarded-For list from the right and
// returns the first address that is not a trusted proxy. A malformed entry
// stops the walk: nothing left of it can be believed.
func fromXFF(h []byte, trusted []netip.Prefix) (netip.Addr, bool) {
	var last netip.Addr
	for len(h) > 0 {
		i := bytes.LastIndexByte(h, ',')
		item := bytes.TrimSpace(h[i+1:])
		if i < 0 {
			h = nil
		} else {
			h = h[:i]
		}
		a, err := netip.ParseAddr(b2s(item))
		if err != nil || a.Zone() != "" {
			return last, last.IsValid()
		}
		a = a.Unmap()
		if !isTrusted(a, trusted) {
			return a, true
		}
		last = a
	}
	return last, last.IsValid()
}

// fromForwarded does the same for the RFC 7239 Forwarded header, reading the
// for= parameter of each element.
func fromForwarded(h []byte, trusted []netip.Prefix) (netip.Addr, bool) {
	var last netip.Addr
	for len(h) > 0 {
		i := bytes.LastIndexByte(h, ',')
		elem := h[i+1:]
		if i < 0 {
			h = nil
		} else {
			h = h[:i]
		}
		a, ok := forwardedFor(elem)
		if !ok {
			return last, last.IsValid()
		}
		if !isTrusted(a, trusted) {
			return a, true
		}
		last = a
	}
	return last, last.IsValid()
}

// forwardedFor extracts the address of a for= pair: for=192.0.2.60,
// for="192.0.2.60:4711" or for="[2001:db8::1]:4711".
func forwardedFor(elem []byte) (netip.Addr, bool) {
	for len(elem) > 0 {
		j := bytes.IndexByte(elem, ';')
		pair := elem
		if j >= 0 {
			pair, elem = elem[:j], elem[j+1:]
		} else {
			elem = nil
		}
		pair = bytes.TrimSpace(pair)
		if len(pair) < 4 || !bytes.EqualFold(pair[:4], []byte("for=")) {
			continue
		}
		v := bytes.Trim(pair[4:], `"`)
		if len(v) > 0 && v[0] == '[' {
			end := bytes.IndexByte(v, ']')
			if end < 0 {
				return netip.Addr{}, false
			}
			v = v[1:end]
		} else if k := bytes.IndexByte(v, ':'); k >= 0 && bytes.Count(v, []byte(":")) == 1 {
			v = v[:k]
		}
		a, err := netip.ParseAddr(b2s(v))
		if err != nil || a.Zone() != "" {
			return netip.Addr{}, false
		}
		return a.Unmap(), true
	}
	return netip.Addr{}, false
}
