package scrub

// numberKinds are the findings that matter in an identifier made of
// A-Z a-z 0-9 - _: no e-mail, address or URL fits that alphabet.
var numberKinds = KindCard.bit() | KindPhone.bit() | KindIBAN.bit() | KindNationalID.bit()

// IDFindings reports the personal data in id, an identifier made of
// A-Z a-z 0-9 - _ (a page's event id): the card, phone, IBAN and national
// id numbers the text scanner finds in it, and a card or IBAN number
// anywhere in it, also glued to letters or after '-' or '_'
// ("card-4111111111111111", "c4111111111111111", "iban_DE89...",
// "4111_1111_1111_1111"), which the scanner reads as part of a word (it
// must, or "INV-2024-0815" would be a phone number). Only the card's Luhn
// and issuer checks and the IBAN's mod-97 apply there, so order ids and
// timestamps stay. scratch is reused for a working copy and returned.
func (c *Cleaner) IDFindings(scratch, id []byte) ([]byte, Found) {
	f := c.scan(id) & numberKinds
	// '-' and '_' read as spaces: an IBAN or a card in groups starts a word.
	scratch = append(scratch[:0], id...)
	for i, ch := range scratch {
		if ch == '-' || ch == '_' {
			scratch[i] = ' '
		}
	}
	f |= c.scan(scratch) & (KindCard.bit() | KindIBAN.bit())
	// Runs of digits, across single '-' or '_', whatever comes before.
	var d [19]byte
	for i := 0; i < len(id); {
		if !isDigit(id[i]) {
			i++
			continue
		}
		n, j := 0, i
		for j < len(id) && (isDigit(id[j]) || (id[j] == '-' || id[j] == '_') && j+1 < len(id) && isDigit(id[j+1])) {
			if isDigit(id[j]) {
				if n < len(d) {
					d[n] = id[j] - '0'
				}
				n++
			}
			j++
		}
		if n >= 13 && n <= len(d) && cardRange(d[:n]) && luhn(d[:n]) {
			f |= KindCard.bit()
		}
		i = j
	}
	return scratch, f
}

func isDigit(ch byte) bool { return ch >= '0' && ch <= '9' }
