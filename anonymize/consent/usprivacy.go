package consent

import "errors"

// Flag is one Y/N/- field of the US Privacy string.
type Flag uint8

// Flag values.
const (
	FlagNA  Flag = iota // '-': not applicable
	FlagYes             // 'Y'
	FlagNo              // 'N'
)

// String returns "-", "Y" or "N", as in the string.
func (f Flag) String() string {
	switch f {
	case FlagYes:
		return "Y"
	case FlagNo:
		return "N"
	}
	return "-"
}

// USPrivacy is a decoded IAB US Privacy string ("1YNN"), deprecated in favour
// of GPP since 2024-01-31 but still sent.
type USPrivacy struct {
	Notice      Flag // explicit notice / opportunity to opt out given
	OptOutSale  Flag // the user opted out of the sale of personal data
	LSPACovered Flag // the publisher is a signatory of the IAB LSPA
}

// ErrUSPrivacy is returned for a string that is not version 1 followed by three Y, N or -.
var ErrUSPrivacy = errors.New("consent: malformed us_privacy (want 1 followed by three of Y, N, -, e.g. 1YNN)")

// ParseUSPrivacy decodes a US Privacy string: exactly four characters,
// version '1', then notice, opt-out of sale and LSPA covered, each 'Y', 'N'
// or '-' (upper case only, as the spec says). "1---" means the CCPA does not
// apply. It does not allocate.
func ParseUSPrivacy(b []byte) (USPrivacy, error) {
	if len(b) != 4 || b[0] != '1' {
		return USPrivacy{}, ErrUSPrivacy
	}
	var f [3]Flag
	for i := range f {
		switch b[i+1] {
		case 'Y':
			f[i] = FlagYes
		case 'N':
			f[i] = FlagNo
		case '-':
			f[i] = FlagNA
		default:
			return USPrivacy{}, ErrUSPrivacy
		}
	}
	return USPrivacy{Notice: f[0], OptOutSale: f[1], LSPACovered: f[2]}, nil
}

// Applies reports whether the string says the CCPA applies (it is not "1---").
func (u USPrivacy) Applies() bool {
	return u.Notice != FlagNA || u.OptOutSale != FlagNA || u.LSPACovered != FlagNA
}

// OptedOutOfSale reports whether the user opted out of the sale of personal data.
func (u USPrivacy) OptedOutOfSale() bool { return u.OptOutSale == FlagYes }
