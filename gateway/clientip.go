package gateway

import (
	"bytes"
	"net"
	"net/netip"

	"github.com/valyala/fasthttp"
)

// DefaultClientIPHeader is the header a trusted proxy is expected to append
// the client's address to when Settings.ClientIPHeader is empty.
const DefaultClientIPHeader = "X-Forwarded-For"

// clientIP returns the visitor's address: the socket's peer, or, when the peer
// is a trusted proxy, the nearest untrusted address in the configured
// forwarding header. Every instance of that header is read, in order, as one
// list (RFC 9110 section 5.3), and the list is walked from the right: only
// the entries our own proxies appended can be believed, and a client can put
// anything left of them, or in any other header, which is why no other
// header is read.
func clientIP(ctx *fasthttp.RequestCtx, cfg *compiled) netip.Addr {
	peer := peerAddr(ctx)
	if len(cfg.trustedProxies) == 0 || !isTrusted(peer, cfg.trustedProxies) {
		return peer
	}
	// PeekAll returns slices of a buffer the header reuses; they are only
	// read here, before any other header call.
	vals := ctx.Request.Header.PeekAll(cfg.clientIPHeader)
	last := peer
	for i := len(vals) - 1; i >= 0; i-- {
		a, done := walkForwarded(vals[i], cfg.trustedProxies, cfg.forwardedSyntax, &last)
		if done {
			return a
		}
	}
	return last
}

// walkForwarded reads one instance of the forwarding header from the right.
// It returns the first untrusted address (done), or done with the last
// trusted address when an element is malformed: nothing left of it can be
// believed. Otherwise *last is the leftmost trusted address seen so far and
// the walk goes on into the previous instance. Empty elements are skipped,
// as RFC 9110 section 5.6.1 asks.
//
// In the RFC 7239 syntax a value may be a quoted-string holding commas and
// semicolons (a proxy quotes the Host it forwards, which the client chose),
// so there elements and pairs are split only outside quotes; an element
// whose quotes do not balance is malformed.
func walkForwarded(h []byte, trusted []netip.Prefix, rfc7239 bool, last *netip.Addr) (netip.Addr, bool) {
	for len(h) > 0 {
		var i int
		if rfc7239 {
			var ok bool
			if i, ok = lastUnquotedComma(h); !ok {
				return *last, true
			}
		} else {
			i = bytes.LastIndexByte(h, ',')
		}
		item := trimOWS(h[i+1:])
		if i < 0 {
			h = nil
		} else {
			h = h[:i]
		}
		if len(item) == 0 {
			continue
		}
		var (
			a  netip.Addr
			ok bool
		)
		if rfc7239 {
			a, ok = forwardedFor(item)
		} else {
			a, ok = parseNodeAddr(item)
		}
		if !ok {
			return *last, true
		}
		if !isTrusted(a, trusted) {
			return a, true
		}
		*last = a
	}
	return netip.Addr{}, false
}

// lastUnquotedComma returns the index of the last comma in h that is not
// inside a quoted-string, or -1 when there is none. It reads h from the
// right, as the walk does, so quotes a client left open left of our
// proxies' elements cannot swallow them. A quote after an odd number of
// backslashes is a quoted-pair, not a delimiter. ok is false when the
// quotes right of the comma do not balance.
func lastUnquotedComma(h []byte) (i int, ok bool) {
	quoted := false
	for i = len(h) - 1; i >= 0; i-- {
		switch h[i] {
		case '"':
			n := 0
			for j := i - 1; j >= 0 && h[j] == '\\'; j-- {
				n++
			}
			if n%2 == 0 {
				quoted = !quoted
			}
		case ',':
			if !quoted {
				return i, true
			}
		}
	}
	return -1, !quoted
}

// cutListItem splits a header list at its first sep (',' between elements,
// ';' between parameters): the item before it, without the spaces and
// tabs HTTP allows around it, and the rest after it (nil when there is no
// sep).
func cutListItem(v []byte, sep byte) (item, rest []byte) {
	if i := bytes.IndexByte(v, sep); i >= 0 {
		return trimOWS(v[:i]), v[i+1:]
	}
	return trimOWS(v), nil
}

// trimOWS drops the spaces and tabs HTTP allows around list elements.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// parseNodeAddr reads one address as proxies write it: 192.0.2.1,
// 192.0.2.1:4711, 2001:db8::1 or [2001:db8::1]:4711. Zones are refused:
// they name an interface of the sender, not a client.
func parseNodeAddr(v []byte) (netip.Addr, bool) {
	if len(v) > 0 && v[0] == '[' {
		end := bytes.IndexByte(v, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		if rest := v[end+1:]; len(rest) > 0 && !isPort(rest) {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(b2s(v[1:end]))
		if err != nil || !a.Is6() || a.Zone() != "" {
			return netip.Addr{}, false // brackets are for IPv6 only
		}
		return a.Unmap(), true
	} else if k := bytes.IndexByte(v, ':'); k >= 0 && bytes.IndexByte(v[k+1:], ':') < 0 {
		if !isPort(v[k:]) {
			return netip.Addr{}, false
		}
		v = v[:k]
	}
	a, err := netip.ParseAddr(b2s(v))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// isPort reports whether p is ':' followed by a decimal port (0..65535).
func isPort(p []byte) bool {
	if len(p) < 2 || len(p) > 6 || p[0] != ':' {
		return false
	}
	n := 0
	for _, c := range p[1:] {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n <= 65535
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

// forwardedFor extracts the address of the for= pair of one RFC 7239
// Forwarded element: for=192.0.2.60, for="192.0.2.60:4711" or
// for="[2001:db8::1]:4711", also with an obfuscated port
// (for="192.0.2.60:_abc"). Pairs are split outside quoted-strings, so a
// quoted value such as host="a;for=6.6.6.6" is no pair of its own. An
// element without one, or with an obfuscated node (for=_hidden) or
// "unknown", is malformed for our purpose.
func forwardedFor(elem []byte) (netip.Addr, bool) {
	for len(elem) > 0 {
		j := nextUnquotedSemicolon(elem)
		pair := elem
		if j >= 0 {
			pair, elem = elem[:j], elem[j+1:]
		} else {
			elem = nil
		}
		pair = trimOWS(pair)
		if len(pair) < 4 || !bytes.EqualFold(pair[:4], []byte("for=")) {
			continue
		}
		v := pair[4:]
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		return parseNodeAddr(trimObfPort(v))
	}
	return netip.Addr{}, false
}

// trimObfPort drops an obfuscated port (RFC 7239 section 6.3: ":_" and
// letters, digits, '.', '_' or '-'), which a proxy may write instead of the
// client's real one: 192.0.2.1:_abc or [2001:db8::1]:_abc. It only hides
// the port, so the address before it is still the client's.
func trimObfPort(v []byte) []byte {
	k := bytes.LastIndexByte(v, ':')
	if k < 1 || len(v) < k+3 || v[k+1] != '_' {
		return v
	}
	for _, c := range v[k+2:] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return v
		}
	}
	if v[k-1] != ']' && bytes.IndexByte(v[:k], ':') >= 0 {
		return v // an IPv6 address's own colon, not a port
	}
	return v[:k]
}

// nextUnquotedSemicolon returns the index of the first ';' in elem outside a
// quoted-string (a backslash inside one escapes the next byte), or -1.
func nextUnquotedSemicolon(elem []byte) int {
	quoted := false
	for i := 0; i < len(elem); i++ {
		switch c := elem[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case c == ';' && !quoted:
			return i
		}
	}
	return -1
}
