package scrub

// numberKinds are the findings that matter in an identifier made of
// A-Z a-z 0-9 - _: no e-mail, address or URL fits that alphabet as it is
// (but base64url-encoded, see EmailInID).
var numberKinds = KindCard.bit() | KindPhone.bit() | KindIBAN.bit() | KindNationalID.bit()

// IDFindings reports the personal data in id, an identifier made of
// A-Z a-z 0-9 - _ (a page's event id): the card, phone, IBAN and national
// id numbers the text scanner finds in it, and a card or IBAN number
// anywhere in it, also glued to letters or digits or after '-' or '_'
// ("card-4111111111111111", "c4111111111111111", "ibanDE89...",
// "x4111_1111_1111_1111_99"), which the scanner reads as part of a word (it
// must, or "INV-2024-0815" would be a phone number). Only checks that
// random ids pass by rare chance apply there: a card's issuer range and
// Luhn digit over a run of whole digit groups, and an IBAN's country, its
// exact length there and mod-97. scratch is reused and returned.
func (c *Cleaner) IDFindings(scratch, id []byte) ([]byte, Found) {
	// The text scanner's IBANs are left to ibanInID, which also checks the
	// country and its length: mod-97 alone passes one random id in 97 that
	// starts with two letters and two digits.
	f := c.scan(id) & (numberKinds &^ KindIBAN.bit())
	// '-' and '_' read as spaces: a card in groups starts a word.
	scratch = append(scratch[:0], id...)
	for i, ch := range scratch {
		if ch == '-' || ch == '_' {
			scratch[i] = ' '
		}
	}
	f |= c.scan(scratch) & KindCard.bit()
	if cardInID(id) {
		f |= KindCard.bit()
	}
	var ok bool
	if scratch, ok = ibanInID(scratch, id); ok {
		f |= KindIBAN.bit()
	}
	return scratch, f
}

// cardInID reports whether a run of digits in id, across single '-' or
// '_' between digit groups and whatever comes before or after it, holds a
// card number made of whole groups (a run split into groups is tried from
// every group start to every group end).
func cardInID(id []byte) bool {
	var d [64]byte     // the run's digits
	var starts [16]int // where each group starts in d
	for i := 0; i < len(id); {
		if !isDigit(id[i]) {
			i++
			continue
		}
		n, g := 0, 0
		j := i
		for j < len(id) && n < len(d) {
			if isDigit(id[j]) {
				if j == i || !isDigit(id[j-1]) {
					if g < len(starts) {
						starts[g] = n
					}
					g++
				}
				d[n] = id[j] - '0'
				n++
			} else if !((id[j] == '-' || id[j] == '_') && j+1 < len(id) && isDigit(id[j+1])) {
				break
			}
			j++
		}
		g = min(g, len(starts))
		for a := range g {
			for b := a; b < g; b++ {
				end := n
				if b+1 < g {
					end = starts[b+1]
				}
				if m := end - starts[a]; m >= 13 && m <= 19 && cardRange(d[starts[a]:end]) && luhn(d[starts[a]:end]) {
					return true
				}
			}
		}
		i = j
	}
	return false
}

// ibanInID reports whether an IBAN starts anywhere in id: two upper-case
// letters naming a country of the IBAN registry and two digits, then that
// country's exact number of letters and digits, '-' and '_' between them
// skipped, passing mod-97. scratch is reused for the compact form.
func ibanInID(scratch, id []byte) ([]byte, bool) {
	for i := 0; i+4 <= len(id); i++ {
		if id[i] < 'A' || id[i] > 'Z' || id[i+1] < 'A' || id[i+1] > 'Z' || !isDigit(id[i+2]) || !isDigit(id[i+3]) {
			continue
		}
		want := ibanLength[string(id[i:i+2])]
		if want == 0 {
			continue
		}
		scratch = scratch[:0]
		for j := i; j < len(id) && len(scratch) < want; j++ {
			switch ch := id[j]; {
			case class[ch]&cAlnum != 0:
				scratch = append(scratch, ch)
			case ch == '-' || ch == '_':
			default:
				j = len(id)
			}
		}
		if len(scratch) == want && ibanValid(scratch) {
			return scratch, true
		}
	}
	return scratch, false
}

// ibanLength is each IBAN country's length (SWIFT's IBAN registry).
var ibanLength = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
	"BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
	"ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
	"HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
	"LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
	"MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
	"RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
	"TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

func isDigit(ch byte) bool { return ch >= '0' && ch <= '9' }

// EmailInID reports whether id, an identifier made of A-Z a-z 0-9 - _ (a
// page's event id), is or holds the base64 or base64url encoding of text
// holding an e-mail address, as the text scanner reads such a run
// (matchBase64Email): that alphabet is base64url's, so a tag that makes
// its ids from the visitor's address ("amFuZS5kb2VAZXhhbXBsZS5vcmc", or a
// JSON blob holding it) puts the address in them readably. The encoding
// may start anywhere: decoding from each of the first four bytes puts one
// of them in step with it, whatever comes before ("ev_", "evt-"), and the
// address is looked for anywhere in what is decoded.
func EmailInID(id []byte) bool {
	for k := 0; k < 4 && len(id)-k >= 12; k++ {
		if matchBase64Email(id, k) > 0 {
			return true
		}
	}
	return false
}
