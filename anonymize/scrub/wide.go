package scrub

import "sync"

// Input methods for Japanese, Chinese and Korean type digits, letters and
// signs in their full-width forms by default ("０９０－１２３４－５６７８",
// "jane＠example.jp"), and people type or paste dashes other than '-'
// between the groups of a number (katakana "ー", en dash, minus sign). The
// detectors read ASCII, so a value holding such characters is scanned in a
// folded copy, each of them replaced by its ASCII counterpart, and the
// spans found there are mapped back to the value's own bytes: the text
// around a span keeps its forms.

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
// character to fold. Return it with release.
func foldWidth(b []byte) *foldedText {
	first := -1
	for i := 0; i+2 < len(b); i++ {
		if b[i] >= 0xe2 && b[i] <= 0xef && foldedASCII(b[i], b[i+1], b[i+2]) != 0 {
			first = i
			break
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
		if i+2 < len(b) {
			if a := foldedASCII(b[i], b[i+1], b[i+2]); a != 0 {
				w.text = append(w.text, a)
				w.pos = append(w.pos, int32(i))
				i += 3
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

// foldedASCII returns the ASCII character the three-byte UTF-8 sequence
// c0 c1 c2 folds to, or 0: the full-width forms U+FF01..U+FF5E ('!'..'~'),
// the ideographic space U+3000 (' '), and as '-' the katakana prolonged
// sound mark U+30FC, the hyphens and dashes U+2010..U+2015 and the minus
// sign U+2212.
func foldedASCII(c0, c1, c2 byte) byte {
	switch c0 {
	case 0xef:
		switch {
		case c1 == 0xbc && c2 >= 0x81 && c2 <= 0xbf: // U+FF01..U+FF3F
			return c2 - 0x60
		case c1 == 0xbd && c2 >= 0x80 && c2 <= 0x9e: // U+FF40..U+FF5E
			return c2 - 0x20
		}
	case 0xe3:
		switch {
		case c1 == 0x80 && c2 == 0x80: // U+3000
			return ' '
		case c1 == 0x83 && c2 == 0xbc: // U+30FC
			return '-'
		}
	case 0xe2:
		switch {
		case c1 == 0x80 && c2 >= 0x90 && c2 <= 0x95: // U+2010..U+2015
			return '-'
		case c1 == 0x88 && c2 == 0x92: // U+2212
			return '-'
		}
	}
	return 0
}
