package scrub

import "encoding/binary"

// E-mail addresses written to dodge harvesters: "jane.doe(at)example.org",
// "jane.doe [at] example [dot] org", "jane dot doe at example dot org". The
// at sign and the dots between labels are written as words, bracketed or
// not. A bracketed "(at)", "[at]", "{at}", "<at>" (or "(@)", "[@]", ...) or
// a spaced " @ " or " -at- " is taken for an at sign wherever it stands
// (and after it a spaced " . " for a dot, read as the word " dot " is:
// "jane.doe (at) example . org"); the plain word " at " only where nothing
// else reads the same, since prose is full of it ("meet me at the station",
// "look at example.com", "at home dot matrix"): its domain must start with
// a written-out dot, and when every dot is the plain word " dot ", the last
// label must be a well-known top-level domain and the local part must look
// like one (a '.', '_', '+', '-' or digit in it, or a dot written out:
// "jane.doe", "jane dot doe"; and a letter, or five digits and more: a QQ
// number), so that "visit us at example dot com", "worked at a dot com" and
// "sold 10 at a dot com startup" are prose. A glued "-at-" counts as the
// plain word: host names and slugs have it ("shop.stay-at-home.de"), so
// "jane.doe-at-example.org" is not told from one and is missed,
// "jane.doe-at-example(dot)org" is caught. A bracket may be percent-escaped
// ("jane.doe %28at%29 example.org", "%5Bat%5D"): in a URL or a form-encoded
// value it is decoded before the scan, and free text keeps such a word with
// the words around it (appendTextOnce) for obfToken to read.

// Separators of an obfuscated address, as obfToken reads them.
const (
	obfNone    uint8 = iota
	obfAtWord        // " at ", the plain word
	obfAt            // "(at)", "[at]", "{at}", "<at>", "(@)", ..., or " @ "
	obfDotWord       // " dot ", the plain word
	obfDot           // "(dot)", "[dot]", "{dot}", "<dot>", "(.)", "[.]", ...
)

// Bounds of an obfuscated address, which keep the scan linear: RFC 5321's
// 64-byte local part (with its dots written out, some more: after its
// first run) and 255-byte domain, and the spaces around a separator.
const (
	maxObfLocal  = 96
	maxObfDomain = 255
	maxObfBlanks = 3
)

// matchObfuscated returns the end of an obfuscated e-mail address whose
// local part starts at i, or 0.
func matchObfuscated(b []byte, i int) int {
	// Local part: runs of local-part characters joined by dots, written
	// as such or out. The first run is read whole, as matchEmail reads
	// it (one run has one start); what follows it, up to maxObfLocal.
	for _, p := range [2]int{i - 1, i} {
		if p >= 0 && (b[p] == '+' || b[p] == '-') {
			if k, _ := obfToken(b, p); k == obfAtWord || k == obfAt {
				// The word at i is the at sign of a glued "+at+"
				// that starts before it ("x+at+at+jane.doe(at)..."),
				// or i starts one ("x-at--at-jane.doe(at)..."): no
				// local part starts there.
				return 0
			}
		}
	}
	j, limit := i, len(b)
	plausible, bracketed := false, false
	letter, digits := false, 0 // in the local part
	var at uint8
	for at == 0 {
		if j > i {
			limit = min(limit, j+maxObfLocal)
		}
		s := j
		for j < limit && class[b[j]]&cLocal != 0 {
			if (b[j] == '+' || b[j] == '-') && j > s {
				if k, _ := obfToken(b, j); k != obfNone {
					// "jane+at+example+dot+org", form-encoded;
					// "jane.doe-at-example(dot)org".
					break
				}
			}
			if ch := b[j]; ch >= 0x80 || class[ch]&cLetter != 0 {
				letter = true
			} else {
				plausible = true // '.', '_', '+', '-' or a digit
				if ch >= '0' && ch <= '9' {
					digits++
				}
			}
			j++
		}
		if j == s || j >= limit || b[j-1] == '.' {
			return 0
		}
		k, n := obfToken(b, j)
		if j+n >= len(b) {
			return 0
		}
		switch k {
		case obfDot, obfDotWord:
			if class[b[j+n]]&cLocal == 0 {
				return 0
			}
			plausible = true
			bracketed = bracketed || k == obfDot
		case obfAt, obfAtWord:
			if class[b[j+n]]&cDomain == 0 {
				return 0
			}
			at = k
		default:
			return 0
		}
		j += n
	}
	if !letter && digits == 0 {
		// "+[at]example.org": a local part of symbols alone is no
		// address (and a '+' before the at sign is a form-encoded blank
		// to nextObfuscated, which must find what this finds).
		return 0
	}
	if at == obfAt {
		bracketed = true
	}
	// Domain: labels separated by dots, written as such or out; the end is
	// the last label that can be a TLD with a label before it.
	best, bestBracketed, labels := 0, false, 0
	sep := uint8('.') // the separator before the label at p
	p, dlimit := j, min(len(b), j+maxObfDomain)
	for {
		q := p
		for q < dlimit && class[b[q]]&cDomain != 0 {
			q++
		}
		if q == p {
			break
		}
		labels++
		if labels >= 2 {
			l := b[p:q]
			if sep == obfDotWord {
				if knownTLD(l) {
					best, bestBracketed = q, bracketed
				} else if e := letterPrefix(l); e >= 2 && e < len(l) && knownTLD(l[:e]) {
					// "example dot org1": glued text ends it, as in
					// matchEmail.
					best, bestBracketed = p+e, bracketed
					break
				}
			} else if isTLD(l) {
				best, bestBracketed = q, bracketed
			} else if e := letterPrefix(l); e >= 2 {
				// "a(at)b.com1": the address ends inside the label, as
				// in matchEmail.
				best, bestBracketed = p+e, bracketed
				break
			}
		}
		if q+1 < dlimit && b[q] == '.' && class[b[q+1]]&cDomain != 0 {
			if at == obfAtWord && labels == 1 {
				break // "look at example.com"
			}
			sep, p = '.', q+1
			continue
		}
		if k, n := obfToken(b, q); (k == obfDot || k == obfDotWord) && q+n < dlimit && class[b[q+n]]&cDomain != 0 {
			sep, p = k, q+n
			bracketed = bracketed || k == obfDot
			continue
		}
		if at == obfAt {
			// "jane.doe (at) example . org": a spaced dot, after an at
			// sign no prose writes, read as the word " dot " is (the
			// last label a well-known TLD), since a sentence may end
			// with " . ": "sale (at) checkout . Then".
			if n := spacedDot(b, q); n > 0 && q+n < dlimit && class[b[q+n]]&cDomain != 0 {
				sep, p = obfDotWord, q+n
				continue
			}
		}
		break
	}
	// A local part without a letter is a number in prose ("sold 10 at a
	// dot com startup", "in 2019 at a dot com"), unless it has the five
	// digits and more of a QQ number ("12345678 at qq dot com").
	plausible = plausible && (letter || digits >= 5)
	if best == 0 || at == obfAtWord && !bestBracketed && !plausible {
		return 0
	}
	return best
}

// nextObfuscated is nextSpan for a value in which obfuscated addresses are
// the only thing to look for (features gave featObf alone): it goes from
// one written-out at sign to the next and tries only the local parts that
// can end before it, instead of every word. It returns what nextSpan's
// loop would.
func nextObfuscated(b []byte, from int) (start, end int) {
	tried := from // every local part starting before it was tried
	// Each at sign inside one long run of local-part characters ("a-at-
	// a-at-...", "a+at+a+at+...") would walk back to the run's start and
	// read its first local part again: runFrom is the start of the run
	// b[runFrom:runTo] found last, failed the start matchObfuscated last
	// refused (its answer depends on the start alone), so the scan stays
	// linear; failedGlued is the start after a glued at sign it last
	// refused, and glued remembers how far that one was looked for.
	runFrom, runTo, failed, failedGlued := -1, -1, -1, -1
	var glued gluedScan
	for t := from; ; t++ {
		if t = indexAtToken(b, t); t < 0 {
			return -1, -1
		}
		// The local part ends before the blanks and the bracket (or
		// the hyphen of "-at-").
		j := t - backBlanks(b, from, t)
		if j > from && (closerOf(b[j-1]) != 0 || b[j-1] == '-') {
			j--
			j -= backBlanks(b, from, j)
		} else if j-3 >= from && escBracket(b, j-3) != 0 {
			j -= 3 // "%28at%29"
			j -= backBlanks(b, from, j)
		}
		e := j
		switch {
		case runFrom >= 0 && j > runFrom && j <= runTo:
			e = runFrom
		case runFrom >= 0 && j > runTo && allLocal(b[runTo:j]):
			e, runTo = runFrom, j
		default:
			for e > from && class[b[e-1]]&cLocal != 0 {
				e--
			}
			runFrom, runTo = e, j
		}
		if e > from && isCloser(escBracket(b, e-1)) {
			// The run began inside an escaped closing bracket
			// ("%5Bdot%5Djane"), which may close a written-out dot
			// before the local part: dotBefore must see it whole, and
			// then every start is tried, those in the escape too, also
			// when the run is the escape's two digits alone ("%7D(at)
			// x.org": e reaches j).
			e += 2
		} else if e >= j {
			continue
		}
		if e < tried {
			// The run's start was tried with every one before it, for
			// an earlier at sign (below); a start after a glued at sign
			// in the run, from tried on, was not ("x)me-at-jane.doe(at)
			// example.org": the run may follow a written-out dot).
			if i := glued.last(b, e, j); i >= tried && i != failedGlued {
				if end := matchObfuscated(b, i); end > 0 {
					return i, end
				}
				failedGlued = i
			}
			continue
		}
		if !dotBefore(b, from, e) {
			// Its last run is the whole local part.
			if e != failed {
				if end := matchObfuscated(b, e); end > 0 {
					return e, end
				}
				failed = e
			}
			if i := glued.last(b, e, j); i > 0 && i != failedGlued {
				if end := matchObfuscated(b, i); end > 0 {
					return i, end
				}
				failedGlued = i
			}
			continue
		}
		// "jane dot doe at": the local part may start further back; try
		// every one that can reach the at sign (its first run may be
		// longer).
		lo := max(tried, t-maxObfLocal-2*maxObfBlanks-2)
		for lo > tried && class[b[lo-1]]&cLocal != 0 {
			lo--
		}
		for i := lo; i <= e; i++ {
			if class[b[i]]&cLocal != 0 && (i == from || class[b[i-1]]&cLocal == 0) {
				if end := matchObfuscated(b, i); end > 0 {
					return i, end
				}
			}
		}
		if i := glued.last(b, e, j); i > 0 {
			if end := matchObfuscated(b, i); end > 0 {
				return i, end
			}
		}
		tried = e + 1
	}
}

// afterGluedAt reports whether b[i], a byte a local part holds, follows an
// at sign written as a word and glued into a run of local-part characters
// by '+' (a form-encoded blank) or '-': "find+me+at+jane.doe(at)...",
// "write-to-me-at-jane.doe(at)...". A local part may start there, though
// the byte before it is one a local part holds, since matchObfuscated ends
// a local part at such an at sign: read from the run's start, the address
// after it is never found. The token starts at or after from.
func afterGluedAt(b []byte, from, i int) bool {
	if i-4 < from || i >= len(b) || class[b[i]]&cLocal == 0 || b[i-1] != '+' && b[i-1] != '-' {
		return false
	}
	// "+at+" with up to maxObfBlanks '+' on each side ("+at++", "++at+"),
	// or "-at-": the token starts at a '+' or '-' within reach.
	for p := i - 4; p >= from && p >= i-2-2*maxObfBlanks; p-- {
		if b[p] != '+' && b[p] != '-' {
			continue
		}
		if k, n := obfToken(b, p); (k == obfAtWord || k == obfAt) && p+n == i {
			return true
		}
	}
	return false
}

// allLocal reports whether every byte of b is one a local part holds.
func allLocal(b []byte) bool {
	for _, c := range b {
		if class[c]&cLocal == 0 {
			return false
		}
	}
	return true
}

// gluedScan finds the last position in b[e+1:j] that afterGluedAt
// reports, or 0: the only start after e from which a local part can reach
// the at sign at j, since every earlier one ends at a glued at sign. It
// reads each run once: each at sign in a long run ("at-+at-+...", which
// has no glued one) once read the run back to its start, which made the
// scan quadratic. It holds the answer for j = hi (at); an at sign further
// on reads only b[hi:j]. j grows from one at sign to the next (between an
// at sign and its local part's end there are only blanks, brackets,
// hyphens and escapes, never another's "at" or '@'); a smaller j, or
// another run, starts again.
type gluedScan struct{ e, hi, at int }

// last returns the last position in b[e+1:j] that afterGluedAt reports,
// or 0.
func (g *gluedScan) last(b []byte, e, j int) int {
	if g.hi == 0 || g.e != e || j < g.hi {
		*g = gluedScan{e: e, hi: e + 1}
	}
	for i := j - 1; i >= g.hi; i-- {
		if afterGluedAt(b, e, i) {
			g.at = i
			break
		}
	}
	g.hi = j
	return g.at
}

// dotBefore reports whether the local-part run that starts at e may have a
// written-out dot before it ("jane dot doe", "jane(dot)doe"), or open with
// one glued to the next label by a '+', a form-encoded blank that a local
// part holds ("jane dot+doe": the run is "dot+doe").
func dotBefore(b []byte, from, e int) bool {
	k := e - backBlanks(b, from, e)
	if k > from && isCloser(b[k-1]) || k-3 >= from && isCloser(escBracket(b, k-3)) {
		return true
	}
	if k < e {
		if kind, _ := obfToken(b, k); kind == obfDotWord {
			return true
		}
	}
	return k < e && k-3 >= from && b[k-3]|0x20 == 'd' && b[k-2]|0x20 == 'o' && b[k-1]|0x20 == 't'
}

// spacedDot returns the width of a '.' with blanks on each side at b[p]
// (" . "), with the blanks, or 0.
func spacedDot(b []byte, p int) int {
	q := p + blanks(b, p)
	if q == p || q >= len(b) || b[q] != '.' {
		return 0
	}
	if n := blanks(b, q+1); n > 0 {
		return q + 1 + n - p
	}
	return 0
}

func isCloser(ch byte) bool { return ch == ')' || ch == ']' || ch == '}' || ch == '>' }

// backBlanks returns the number of blanks before b[p], back to from, at
// most maxObfBlanks.
func backBlanks(b []byte, from, p int) int {
	n := 0
	for p-n > from && n < maxObfBlanks && isBlank(b[p-n-1]) {
		n++
	}
	return n
}

// obfToken returns the kind and width of the separator that starts at
// b[p], with the blanks around it, or obfNone: "at", "@", "dot" or "."
// between brackets ("(at)", "[ dot ]"), up to maxObfBlanks blanks on either
// side and inside; or "at", "dot" or "@" as a word between blanks; or
// "-at-" (any case), as strong as "(at)" between blanks ("jane.doe -at-
// example.org") and the plain word glued ("jane.doe-at-example(dot)org"),
// since host names and slugs have it ("shop.stay-at-home.de").
func obfToken(b []byte, p int) (uint8, int) {
	q := p + blanks(b, p)
	if q >= len(b) {
		return obfNone, 0
	}
	if b[q] == '-' {
		if q+4 >= len(b) || b[q+1]|0x20 != 'a' || b[q+2]|0x20 != 't' || b[q+3] != '-' {
			return obfNone, 0
		}
		r := q + 4
		e := r + blanks(b, r)
		switch {
		case q > p && e > r:
			return obfAt, e - p
		case q == p && e == r:
			return obfAtWord, 4
		}
		return obfNone, 0
	}
	if closer := closerOf(b[q]); closer != 0 {
		r := q + 1
		r += blanks(b, r)
		k, n := obfBracketWord(b, r)
		r += n
		r += blanks(b, r)
		if k == obfNone || r >= len(b) || b[r] != closer {
			return obfNone, 0
		}
		r++
		return k, r + blanks(b, r) - p
	}
	if o := escBracket(b, q); o != 0 && closerOf(o) != 0 {
		// "jane.doe %28at%29 example.org": free text keeps a word of
		// escapes alone as it is when it is such a token
		// (appendTextOnce), for it to be read with the words around it.
		r := q + 3
		k, n := obfBracketWord(b, r)
		r += n
		if k == obfNone || escBracket(b, r) != closerOf(o) {
			return obfNone, 0
		}
		r += 3
		return k, r + blanks(b, r) - p
	}
	if q == p {
		if b[p] == '@' {
			// A real at sign, glued to the local part:
			// "jane.doe@example[dot]org", whose dots are written out
			// (matchEmail reads the rest).
			return obfAt, 1 + blanks(b, p+1)
		}
		return obfNone, 0
	}
	k, n := obfWord(b, q)
	r := q + n
	e := r + blanks(b, r)
	if k == obfNone || e == r || n == 1 && b[q] == '.' {
		return obfNone, 0
	}
	switch {
	case b[q] == '@':
		// " @ ": an at sign as strong as a bracketed one.
	case k == obfAt:
		k = obfAtWord
	default:
		k = obfDotWord
	}
	return k, e - p
}

// obfWord returns obfAt for "at" (any case) or "@" at b[r], obfDot for
// "dot" (any case) or ".", with its width, or obfNone.
func obfWord(b []byte, r int) (uint8, int) {
	if r >= len(b) {
		return obfNone, 0
	}
	switch b[r] | 0x20 {
	case '@' | 0x20:
		if b[r] == '@' {
			return obfAt, 1
		}
	case '.' | 0x20:
		if b[r] == '.' {
			return obfDot, 1
		}
	case 'a':
		if r+1 < len(b) && b[r+1]|0x20 == 't' {
			return obfAt, 2
		}
	case 'd':
		if r+2 < len(b) && b[r+1]|0x20 == 'o' && b[r+2]|0x20 == 't' {
			return obfDot, 3
		}
	}
	return obfNone, 0
}

// dotWords are the words for "dot" in the languages whose sites write an
// address's dots so between brackets ("jane.doe [at] example [punkt] de",
// "jane.doe (at) example (point) fr"): German, Danish, Norwegian and
// Swedish "punkt", French and English "point", Spanish and Italian
// "punto", Portuguese "ponto", Dutch and Catalan "punt", Polish "kropka".
// They count only between brackets, where no prose puts them beside an at
// sign written out: as plain words they are prose ("Treffpunkt", "point
// at").
var dotWords = [...]string{"punkt", "point", "punto", "ponto", "punt", "kropka"}

// obfBracketWord is obfWord between brackets, where a word for "dot" in
// another language (dotWords, any case) is a dot too: until 2026-12-07
// "jane.doe [at] example [punkt] de", the way German sites write an
// address, passed whole.
func obfBracketWord(b []byte, r int) (uint8, int) {
	if k, n := obfWord(b, r); k != obfNone {
		return k, n
	}
	for _, w := range dotWords {
		if r+len(w) <= len(b) && equalFold(b[r:r+len(w)], w) {
			return obfDot, len(w)
		}
	}
	return obfNone, 0
}

// blanks returns the number of blanks at b[p], at most maxObfBlanks:
// spaces, tabs, and '+', a space in form-encoded text
// ("jane.doe+%5Bat%5D+example+%5Bdot%5D+org" decoded).
func blanks(b []byte, p int) int {
	n := 0
	for p+n < len(b) && n < maxObfBlanks && isBlank(b[p+n]) {
		n++
	}
	return n
}

func isBlank(ch byte) bool { return ch == ' ' || ch == '\t' || ch == '+' }

// escBracket returns the bracket that a percent-escape at b[p] stands for
// ("%28" for '('), or 0.
func escBracket(b []byte, p int) byte {
	if p+2 >= len(b) || b[p] != '%' {
		return 0
	}
	h, l := unhex(b[p+1]), unhex(b[p+2])
	if h > 15 || l > 15 {
		return 0
	}
	switch ch := h<<4 | l; ch {
	case '(', ')', '[', ']', '{', '}', '<', '>':
		return ch
	}
	return 0
}

// isEscapedObfToken reports whether word is an at sign or dot written out
// between percent-escaped brackets and nothing else ("%28at%29",
// "%5Bdot%5D").
func isEscapedObfToken(word []byte) bool {
	k, n := obfToken(word, 0)
	return k != obfNone && n == len(word) && word[0] == '%'
}

// closerOf returns the bracket that closes ch, or 0.
func closerOf(ch byte) byte {
	switch ch {
	case '(':
		return ')'
	case '[':
		return ']'
	case '{':
		return '}'
	case '<':
		return '>'
	}
	return 0
}

// hasAtToken reports whether b may hold an at sign written out: "at" (any
// case) or '@' with a blank, bracket or hyphen on each side. It is features'
// precise check, so that prose without one ("Great fit!") is not scanned
// for obfuscated addresses.
func hasAtToken(b []byte) bool { return indexAtToken(b, 0) >= 0 }

// indexAtToken returns the index of the first at sign written out ("at"
// or '@', as hasAtToken reads them) at or after from, or -1. It reads
// eight bytes at a time and looks closer only where "at" (any case) or
// '@' is among them: prose has an "a" before a "t" once in some sixty
// bytes.
func indexAtToken(b []byte, from int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := max(from, 1)
	for ; i+8 <= len(b); i += 7 {
		x := binary.LittleEndian.Uint64(b[i:])
		l := x | 0x2020202020202020
		a := l ^ 0x6161616161616161 // zero where 'a' or 'A'
		t := l ^ 0x7474747474747474 // zero where 't' or 'T'
		c := x ^ 0x4040404040404040 // zero where '@'
		a, t, c = (a-ones)&^a&highs, (t-ones)&^t&highs, (c-ones)&^c&highs
		if (a&(t>>8)|c)&0x00ffffffffffffff == 0 {
			continue // no "at" starting, nor '@', at i..i+6
		}
		for k := i; k < i+7; k++ {
			if atTokenAt(b, k) {
				return k
			}
		}
	}
	for ; i < len(b); i++ {
		if atTokenAt(b, i) {
			return i
		}
	}
	return -1
}

// atTokenAt reports whether "at" (any case) or '@' at b[i] (i > 0) has a
// blank, bracket or hyphen on each side.
func atTokenAt(b []byte, i int) bool {
	n := 0
	switch {
	case b[i] == '@':
		n = 1
	case b[i]|0x20 == 'a' && i+1 < len(b) && b[i+1]|0x20 == 't':
		n = 2
	default:
		return false
	}
	if i+n >= len(b) {
		return false
	}
	return atEdge[b[i-1]] && atEdge[b[i+n]] ||
		i >= 3 && escBracket(b, i-3) != 0 && escBracket(b, i+n) != 0 // "%28at%29"
}

// atEdge holds the bytes that may stand next to a written-out at sign.
var atEdge = func() (t [256]bool) {
	for _, ch := range []byte(" \t+([{<)]}>-") {
		t[ch] = true
	}
	return t
}()

// knownTLD reports whether l is a well-known top-level domain (any case),
// as the last label after a plain " dot " must be: generic ones and the
// country codes most addresses end in.
func knownTLD(l []byte) bool {
	if len(l) < 2 || len(l) > 4 {
		return false
	}
	var buf [4]byte
	for k, ch := range l {
		if class[ch]&cLetter == 0 {
			return false
		}
		buf[k] = ch | 0x20
	}
	switch string(buf[:len(l)]) {
	case "com", "org", "net", "edu", "gov", "mil", "int", "info", "biz", "name", "mobi", "io", "co", "me", "app", "dev", "ai", "eu",
		"de", "uk", "fr", "es", "it", "nl", "be", "at", "ch", "li", "lu", "se", "no", "dk", "fi", "is", "pl", "cz", "sk", "pt", "ie",
		"gr", "hu", "ro", "bg", "hr", "si", "ee", "lv", "lt", "ru", "ua", "tr", "il", "jp", "cn", "kr", "tw", "hk", "sg", "in",
		"au", "nz", "ca", "us", "mx", "br", "ar", "cl", "za":
		return true
	}
	return false
}
