package scrub

import "sync"

// Input methods for Japanese, Chinese and Korean type digits, letters and
// signs in their full-width forms by default ("０９０－１２３４－５６７８",
// "jane＠example.jp"), and '.' as the ideographic full stop "。"
// ("12345678@qq。com"), Arabic, Persian and Hindi text writes numbers in
// their own digits ("٠٥٠ ١٢٣ ٤٥٦٧"), and people type or paste dashes
// other than '-' between the groups of a number (katakana "ー", en dash,
// minus sign). The detectors read ASCII, so a value holding such characters is scanned in a
// folded copy, each of them replaced by its ASCII counterpart, and the
// spans found there are mapped back to the value's own bytes: the text
// around a span keeps its forms.
//
// Characters that show nothing, the control characters other than white
// space (U+0000..U+0008, U+000E..U+001F, U+007F: a JSON "\u0000", a
// query's "%00") and the zero-width space, joiners, word joiner and byte
// order mark (U+200B..U+200D, U+2060, U+FEFF), are read both ways: a value
// holding one is scanned as it is, where it parts words ("call\u0000+49 30
// 1234567"), and again in a copy that leaves them out, since a reader does
// not see them ("jane.doe\u0000@example.org", "+49\u200b30\u200b1234567"
// are the address and the number they show; a span found across one is
// replaced with it). See leaveOut.
//
// HTML character references for '@' and '.' ("&#64;", "&#x40;",
// "&commat;", "&#46;", "&period;") are folded too: a page that hides an
// address from harvesters writes it so ("jane.doe&#64;example.org"); so
// are those for the no-break and other spaces set between a number's
// groups ("&nbsp;", "&#160;", "&thinsp;"), and a reference escaped twice
// ("&amp;#64;"). See htmlRef.

// foldedText is a value's folded copy: text, and for each of its bytes the
// offset in the value of the character it came from (pos has one more
// entry: the value's length).
type foldedText struct {
	text []byte
	pos  []int32
}

// foldPool keeps folded copies between scans: a value with such characters
// is rare on most sites, common on some, and the scanner does not allocate
// once the pool holds buffers of the working size.
var foldPool = sync.Pool{New: func() any { return new(foldedText) }}

// foldWidth returns b's folded copy from the pool, or nil when b holds no
// character to fold. With leaveOut the characters that show nothing are
// left out of it, else kept as they are. Return it with release.
func foldWidth(b []byte, leaveOut bool) *foldedText {
	first := -1
	for i := 0; i < len(b); i++ {
		if isFoldLead(b[i]) {
			if a, n := folded(b, i); n > 0 && (a != 0 || leaveOut) {
				first = i
				break
			}
		}
	}
	if first < 0 {
		return nil
	}
	w := foldPool.Get().(*foldedText)
	w.text, w.pos = w.text[:0], w.pos[:0]
	for i := 0; i < first; i++ {
		w.text = append(w.text, b[i])
		w.pos = append(w.pos, int32(i))
	}
	for i := first; i < len(b); {
		if isFoldLead(b[i]) {
			if a, n := folded(b, i); n > 0 && (a != 0 || leaveOut) {
				if a != 0 { // 0: a character that shows nothing, left out
					w.text = append(w.text, a)
					w.pos = append(w.pos, int32(i))
				}
				i += n
				continue
			}
		}
		w.text = append(w.text, b[i])
		w.pos = append(w.pos, int32(i))
		i++
	}
	w.pos = append(w.pos, int32(len(b)))
	return w
}

// release returns w to the pool.
func (w *foldedText) release() { foldPool.Put(w) }

// isFoldLead reports whether c is the first byte of a character (or of an
// HTML character reference) folded may fold.
func isFoldLead(c byte) bool {
	return c == '&' || c == 0xd9 || c == 0xdb || c == 0xe0 || c == 0xe2 || c == 0xe3 || c == 0xef || isInvisibleControl(c)
}

// hasInvisible reports whether b holds a character that shows nothing
// (folded folds it to 0): then it is scanned a second time, in a copy that
// leaves them out.
func hasInvisible(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if isFoldLead(b[i]) {
			if a, n := folded(b, i); n > 0 && a == 0 {
				return true
			}
		}
	}
	return false
}

// isInvisibleControl reports whether c is a control character other than
// white space: U+0000..U+0008, U+000E..U+001F or U+007F.
func isInvisibleControl(c byte) bool {
	return c <= 0x08 || c >= 0x0e && c <= 0x1f || c == 0x7f
}

// htmlRef returns '@', '.' or ' ' and the length of the HTML character
// reference at b[i:] that writes it, or 0, 0: "&#64;", "&#x40;",
// "&commat;", "&#46;", "&#x2E;", "&period;" (any number of leading zeros,
// hex digits in any case; a numeric one also without its ';', as browsers
// read it), and the references to the characters folded reads as '@' or
// '.' ("&#65312;", "&#xFF20;" for '＠', "&#12290;" for '。'). Pages write
// an address so to hide it from harvesters, and a tag that reads the
// markup sends it so. The no-break and other typographic spaces that
// uniSpace reads between a number's groups, written as references
// ("&nbsp;", "&#160;", "&thinsp;", "&#8239;": pages keep a phone number on
// one line so), are ' '. A reference escaped once more, as a template
// escapes such markup again ("&amp;#64;", "&amp;nbsp;"), is read as the
// reference it escapes.
func htmlRef(b []byte, i int) (byte, int) {
	r := b[i+1:]
	if len(r) >= 5 && string(r[:4]) == "amp;" && (r[4] == '#' || r[4] >= 'a' && r[4] <= 'z') {
		// Read once: "&amp;amp;#64;" stays.
		if a, n := htmlRef1(b, i+4); a != 0 {
			return a, n + 4
		}
		return 0, 0
	}
	return htmlRef1(b, i)
}

// htmlRef1 is htmlRef without the escaped form: b[i] is the '&' (or, in
// "&amp;#64;", the ';' before the reference it escapes).
func htmlRef1(b []byte, i int) (byte, int) {
	r := b[i+1:]
	if len(r) > 0 && r[0] != '#' {
		switch {
		case len(r) >= 7 && string(r[:7]) == "commat;":
			return '@', 8
		case len(r) >= 7 && string(r[:7]) == "period;":
			return '.', 8
		case len(r) >= 5 && string(r[:5]) == "nbsp;":
			return ' ', 6
		case len(r) >= 7 && (string(r[:7]) == "thinsp;" || string(r[:7]) == "hairsp;"):
			return ' ', 8
		case len(r) >= 6 && string(r[:6]) == "numsp;":
			return ' ', 7
		}
		return 0, 0
	}
	if len(r) < 2 {
		return 0, 0
	}
	base, n := 10, 1
	if r[1] == 'x' || r[1] == 'X' {
		base, n = 16, 2
	}
	start, v := n, 0
	for ; n < len(r); n++ {
		d := digitValue(r[n], base)
		if d < 0 {
			break
		}
		if v < 0x110000 { // past every code point: no '@' or '.' any more
			v = v*base + d
		}
	}
	if n == start {
		return 0, 0
	}
	if n < len(r) && r[n] == ';' {
		n++
	}
	switch v {
	case '@', 0xFF20, 0xFE6B:
		return '@', n + 1
	case '.', 0xFF0E, 0x3002, 0xFF61, 0xFE52:
		return '.', n + 1
	case 0xA0, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x202F, 0x205F, 0x3000:
		return ' ', n + 1
	}
	return 0, 0
}

// digitValue returns ch's value as a digit in base 10 or 16, or -1.
func digitValue(ch byte, base int) int {
	switch {
	case ch >= '0' && ch <= '9':
		return int(ch - '0')
	case base == 16 && ch|0x20 >= 'a' && ch|0x20 <= 'f':
		return int(ch|0x20-'a') + 10
	}
	return -1
}

// folded returns the ASCII character the UTF-8 sequence at b[i:] folds to
// and the sequence's length, or 0, 0: the full-width forms U+FF01..U+FF5E
// ('!'..'~'); the ideographic space U+3000 (' '); as '.' the ideographic
// full stop U+3002, its half-width form U+FF61 and the small full stop
// U+FE52, as '@' the small commercial at U+FE6B; as '-' the katakana
// prolonged sound mark U+30FC, the hyphens and dashes U+2010..U+2015 and
// the minus sign U+2212; and the digits of Arabic (U+0660..U+0669),
// Persian and Urdu (U+06F0..U+06F9) and Devanagari (U+0966..U+096F) text.
// A character that shows nothing (see above) folds to 0: it is left out.
// An HTML character reference for '@', '.' or a space folds to it (see
// htmlRef).
func folded(b []byte, i int) (byte, int) {
	if isInvisibleControl(b[i]) {
		return 0, 1
	}
	if b[i] == '&' {
		return htmlRef(b, i)
	}
	if i+1 >= len(b) {
		return 0, 0
	}
	c0, c1 := b[i], b[i+1]
	switch c0 {
	case 0xd9:
		if c1 >= 0xa0 && c1 <= 0xa9 { // U+0660..U+0669
			return '0' + c1 - 0xa0, 2
		}
		return 0, 0
	case 0xdb:
		if c1 >= 0xb0 && c1 <= 0xb9 { // U+06F0..U+06F9
			return '0' + c1 - 0xb0, 2
		}
		return 0, 0
	}
	if i+2 >= len(b) {
		return 0, 0
	}
	c2 := b[i+2]
	switch c0 {
	case 0xe0:
		if c1 == 0xa5 && c2 >= 0xa6 && c2 <= 0xaf { // U+0966..U+096F
			return '0' + c2 - 0xa6, 3
		}
	case 0xef:
		switch {
		case c1 == 0xbc && c2 >= 0x81 && c2 <= 0xbf: // U+FF01..U+FF3F
			return c2 - 0x60, 3
		case c1 == 0xbd && c2 >= 0x80 && c2 <= 0x9e: // U+FF40..U+FF5E
			return c2 - 0x20, 3
		case c1 == 0xbb && c2 == 0xbf: // U+FEFF: left out
			return 0, 3
		case c1 == 0xbd && c2 == 0xa1, c1 == 0xb9 && c2 == 0x92: // U+FF61, U+FE52
			return '.', 3
		case c1 == 0xb9 && c2 == 0xab: // U+FE6B
			return '@', 3
		}
	case 0xe3:
		switch {
		case c1 == 0x80 && c2 == 0x80: // U+3000
			return ' ', 3
		case c1 == 0x80 && c2 == 0x82: // U+3002
			return '.', 3
		case c1 == 0x83 && c2 == 0xbc: // U+30FC
			return '-', 3
		}
	case 0xe2:
		switch {
		case c1 == 0x80 && c2 >= 0x90 && c2 <= 0x95: // U+2010..U+2015
			return '-', 3
		case c1 == 0x88 && c2 == 0x92: // U+2212
			return '-', 3
		case c1 == 0x80 && c2 >= 0x8b && c2 <= 0x8d, c1 == 0x81 && c2 == 0xa0: // U+200B..U+200D, U+2060: left out
			return 0, 3
		}
	}
	return 0, 0
}
