package gateway

import "bytes"

// maxBoundaryLen is RFC 2046's limit on a multipart boundary.
const maxBoundaryLen = 70

// multipartBoundary returns the boundary parameter of a multipart/form-data
// Content-Type, quoted or not. The result points into ct.
func multipartBoundary(ct []byte) ([]byte, bool) {
	for {
		i := bytes.IndexByte(ct, ';')
		if i < 0 {
			return nil, false
		}
		ct = ct[i+1:]
		p := bytes.TrimLeft(ct, " \t")
		if len(p) < len("boundary=") || !bytes.EqualFold(p[:len("boundary=")], []byte("boundary=")) {
			continue
		}
		v := p[len("boundary="):]
		if len(v) > 0 && v[0] == '"' {
			end := bytes.IndexByte(v[1:], '"')
			if end < 0 {
				return nil, false
			}
			v = v[1 : 1+end]
		} else if end := bytes.IndexAny(v, "; \t"); end >= 0 {
			v = v[:end]
		}
		if len(v) == 0 || len(v) > maxBoundaryLen {
			return nil, false
		}
		return v, true
	}
}

// multipartReader walks the parts of a multipart/form-data body (RFC 7578),
// as navigator.sendBeacon sends a FormData: each part's field name and
// content, in order. A part with a Content-Transfer-Encoding other than
// 7bit, 8bit or binary is malformed (see next). It reads body in place and never allocates; the slices
// it returns point into body.
type multipartReader struct {
	rest  []byte
	delim [2 + 2 + maxBoundaryLen]byte // "\r\n--" + boundary
	n     int
}

// reset starts reading body with the given boundary (at most maxBoundaryLen
// bytes). It reports false when body does not start with a delimiter line
// (after an optional preamble).
func (m *multipartReader) reset(body, boundary []byte) bool {
	m.n = copy(m.delim[:], "\r\n--")
	m.n += copy(m.delim[m.n:], boundary)
	d := m.delim[2:m.n] // the first delimiter needs no leading CRLF
	if !bytes.HasPrefix(body, d) {
		i := bytes.Index(body, m.delim[:m.n])
		if i < 0 {
			return false
		}
		body = body[i+2:]
	}
	m.rest = body[len(d):]
	return true
}

// next returns the next part's field name and content. done is true after
// the closing delimiter; ok is false for a malformed body.
func (m *multipartReader) next() (name, value []byte, done, ok bool) {
	b := m.rest
	if bytes.HasPrefix(b, []byte("--")) {
		return nil, nil, true, true // closing delimiter; the epilogue is ignored
	}
	b = bytes.TrimLeft(b, " \t") // transport padding
	if !bytes.HasPrefix(b, []byte("\r\n")) {
		return nil, nil, false, false
	}
	b = b[2:]
	// Part headers, up to the empty line.
	haveName := false
	for {
		eol := bytes.Index(b, []byte("\r\n"))
		if eol < 0 {
			return nil, nil, false, false
		}
		line := b[:eol]
		b = b[eol+2:]
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return nil, nil, false, false
		}
		switch field := bytes.TrimRight(line[:colon], " \t"); {
		case bytes.EqualFold(field, []byte("Content-Disposition")):
			n, found := dispositionName(line[colon+1:])
			if !found {
				return nil, nil, false, false
			}
			name, haveName = n, true
		case bytes.EqualFold(field, []byte("Content-Transfer-Encoding")) && !identityEncoding(line[colon+1:]):
			// RFC 7578 section 4.7: not in form data. Read as it is, a
			// quoted-printable "jane.doe=40example.org" would pass the
			// scanner; no browser sends one, so it is refused.
			return nil, nil, false, false
		}
	}
	if !haveName {
		return nil, nil, false, false
	}
	end := bytes.Index(b, m.delim[:m.n])
	if end < 0 {
		return nil, nil, false, false
	}
	value = b[:end]
	m.rest = b[end+m.n:]
	return name, value, false, true
}

// identityEncoding reports whether a Content-Transfer-Encoding value
// leaves the content as it is: 7bit, 8bit or binary, in any case.
func identityEncoding(v []byte) bool {
	v = trimOWS(v)
	return bytes.EqualFold(v, []byte("7bit")) || bytes.EqualFold(v, []byte("8bit")) || bytes.EqualFold(v, []byte("binary"))
}

// dispositionName reads the name parameter of `form-data; name="site"`. A
// quoted name is taken as sent between the quotes: browsers percent-encode
// '"', CR and LF in names, and our vocabulary has none of them.
func dispositionName(v []byte) ([]byte, bool) {
	v = bytes.TrimLeft(v, " \t")
	if len(v) < len("form-data") || !bytes.EqualFold(v[:len("form-data")], []byte("form-data")) {
		return nil, false
	}
	v = v[len("form-data"):]
	for {
		v = bytes.TrimLeft(v, " \t")
		if len(v) == 0 || v[0] != ';' {
			return nil, false
		}
		v = bytes.TrimLeft(v[1:], " \t")
		eq := bytes.IndexByte(v, '=')
		if eq <= 0 {
			return nil, false
		}
		key := bytes.TrimRight(v[:eq], " \t")
		v = bytes.TrimLeft(v[eq+1:], " \t")
		var val []byte
		if len(v) > 0 && v[0] == '"' {
			end := bytes.IndexByte(v[1:], '"')
			if end < 0 {
				return nil, false
			}
			val, v = v[1:1+end], v[2+end:]
		} else {
			end := bytes.IndexAny(v, "; \t")
			if end < 0 {
				end = len(v)
			}
			val, v = v[:end], v[end:]
		}
		if bytes.EqualFold(key, []byte("name")) {
			return val, true
		}
	}
}
