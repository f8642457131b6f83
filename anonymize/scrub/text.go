package scrub

import (
	"bytes"
	"slices"
)

// AppendText appends text to dst with each personal-data span replaced by
// its marker ("[email]", "[phone]", "[card]", "[iban]", "[token]") and
// returns it, with the kinds found. Words that start with http:// or
// https:// are cleaned as URLs in [URLClean] mode; other words holding
// percent-escapes are decoded and replaced whole by one marker when they
// hold personal data. dst must not overlap text; its spare capacity is used
// as scratch, as in [Cleaner.AppendURL]. Valid UTF-8 in gives valid UTF-8
// out: spans start and end at ASCII bytes.
//
// Cleaning cleaned text changes nothing: a marker changes what the bytes
// around it read as (an e-mail whose domain ran into a token ends at the
// marker), so text in which something was found is cleaned again, until a
// pass changes nothing.
func (c *Cleaner) AppendText(dst, text []byte) ([]byte, Found) {
	return c.appendText(dst, text, 0)
}

// AppendUserAgent is AppendText for a User-Agent header: a 9-digit number
// is not read as a Dutch BSN there, since in-app browsers' build numbers
// ("FBBV/598463201") pass its check one time in eleven. Every other
// detector applies.
func (c *Cleaner) AppendUserAgent(dst, ua []byte) ([]byte, Found) {
	return c.appendText(dst, ua, fUserAgent)
}

// appendText is AppendText with scan flags.
func (c *Cleaner) appendText(dst, text []byte, flags uint8) ([]byte, Found) {
	start := len(dst)
	dst, found := c.appendTextOnce(dst, text, flags)
	for pass := 1; found != 0 && pass < maxTextPasses; pass++ {
		// The next pass writes after this one's output and reads it where
		// it is (a reallocation leaves it readable), then takes its place.
		end := len(dst)
		var f Found
		dst, f = c.appendTextOnce(dst, dst[start:end], flags)
		if bytes.Equal(dst[end:], dst[start:end]) {
			return dst[:end], found
		}
		found |= f
		dst = append(dst[:start], dst[end:]...)
	}
	return dst, found
}

// maxTextPasses bounds AppendText's passes. Each pass that changes the text
// replaces more of it; two are the most seen (FuzzAppendText).
const maxTextPasses = 4

// appendTextOnce is one pass of AppendText.
func (c *Cleaner) appendTextOnce(dst, text []byte, flags uint8) ([]byte, Found) {
	dst = slices.Grow(dst, len(text)+16)
	var found Found
	plain := 0 // start of the text not yet written
	for i := 0; i < len(text); {
		for i < len(text) && class[text[i]]&cSpace != 0 {
			i++
		}
		ws := i
		for i < len(text) && class[text[i]]&cSpace == 0 {
			i++
		}
		word := text[ws:i]
		// A URL may be quoted or bracketed: "(https://...", "<https://...".
		lead := 0
		for lead < len(word) && lead < 4 && isOpener(word[lead]) {
			lead++
		}
		isURL := hasPrefixFold(word[lead:], "http://") || hasPrefixFold(word[lead:], "https://")
		if len(word) == 0 || !isURL && (!hasEscape(word) || isEscapedObfToken(word)) {
			// A word of escapes that is an at sign or dot written out
			// ("jane.doe %28at%29 example.org") is read with the words
			// around it, as obfToken reads it: alone it is nothing.
			continue
		}
		var f Found
		if isURL {
			dst, found = c.appendPlain(dst, text[plain:ws+lead], found, flags)
			dst, f = c.AppendURL(dst, word[lead:], URLClean)
		} else {
			var view []byte
			dst, view = decodeView(dst, word, false)
			if f = c.scanFlags(view, flags); f == 0 {
				// Nothing in the word alone: it stays in the text around
				// it and is read with it, as typed, for what spans words
				// ("jane dot doe at example dot org%00").
				continue
			}
			dst, found = c.appendPlain(dst, text[plain:ws], found, flags)
			dst = append(dst, f.first().Marker()...)
		}
		found |= f
		plain = i
	}
	return c.appendPlain(dst, text[plain:], found, flags)
}

func isOpener(ch byte) bool {
	return ch == '(' || ch == '<' || ch == '[' || ch == '"' || ch == '\''
}

// appendPlain appends b with each span replaced by its marker. A b with
// characters foldWidth folds is scanned in its folded copy, and the spans
// found there are mapped back to b's bytes. A b with characters that show
// nothing is read both ways (see wide.go): as it is, then what that gave
// without them.
func (c *Cleaner) appendPlain(dst, b []byte, found Found, flags uint8) ([]byte, Found) {
	feat := features(b)
	if feat&featWide == 0 || !hasInvisible(b) {
		return c.appendPlainFold(dst, b, found, flags, feat, false)
	}
	// The second reading writes after the first's output and reads it
	// where it is (a reallocation leaves it readable), then takes its
	// place, as appendText's passes do.
	start := len(dst)
	dst, found = c.appendPlainFold(dst, b, found, flags, feat, false)
	end := len(dst)
	dst, found = c.appendPlainFold(dst, dst[start:end], found, flags, features(dst[start:end]), true)
	return append(dst[:start], dst[end:]...), found
}

// appendPlainFold is appendPlain for b with features feat, scanned in its
// folded copy (see foldWidth) when it has characters to fold.
func (c *Cleaner) appendPlainFold(dst, b []byte, found Found, flags, feat uint8, leaveOut bool) ([]byte, Found) {
	scan, pos := b, []int32(nil)
	if feat&featWide != 0 {
		if w := foldWidth(b, leaveOut); w != nil {
			defer w.release()
			scan, pos = w.text, w.pos
			feat = features(scan)
		}
		feat &^= featWide
	}
	if feat == 0 {
		return append(dst, b...), found
	}
	last := 0
	var m runMemo
	for i := 0; i < len(scan); {
		s, e, k := c.nextSpan(scan, i, flags, feat, &m)
		if s < 0 {
			break
		}
		bs, be := s, e
		if pos != nil {
			bs, be = int(pos[s]), int(pos[e])
		}
		dst = append(dst, b[last:bs]...)
		dst = append(dst, k.Marker()...)
		found |= k.bit()
		last, i = be, e
	}
	return append(dst, b[last:]...), found
}
