// Package contact normalises contact data (e-mail, phone, names, city, zip,
// country, external id) the way each ad platform documents it, and hashes
// it with SHA-256 into lowercase hex, so that the value computed on the
// server matches the one the platform's own pixel or SDK computes in the
// browser. It imports nothing of this module and does not allocate: the
// normalised form lives in a fixed array on the stack and the hex is
// appended to the caller's buffer.
//
// Rules common to every platform and field:
//
//   - an empty value, or one that is empty once normalised, is never
//     hashed: ErrEmpty (SHA-256 of "" would match every empty form field);
//   - a value that already is a SHA-256 hex digest (64 hex digits, any
//     case) passes through, lowercased: hashing it again would make it
//     unmatchable (the platforms' most-filed complaint);
//   - values longer than MaxValueBytes are refused (ErrTooLong): no e-mail,
//     phone or name is that long, and the bound keeps the work constant;
//   - errors name the field, never the value.
//
// Per platform (the sources are cited beside the known-answer tests):
//
//	Meta     em: trim, lowercase. ph: digits only, no leading zeros
//	         (international prefix 00 and trunk 0 removed), country code
//	         included, no '+'. fn, ln, ct: lowercase, letters only
//	         (punctuation, symbols, digits and spaces removed, ASCII or
//	         not, as the apostrophe of "O’Brien"; letters and combining
//	         marks of every script kept, lower-cased).
//	         zp: lowercase, no spaces or dashes, US ZIP+4 cut to 5 digits.
//	         country: 2 letters, lowercase. external_id: trimmed.
//	Google   em: trim, lowercase, dots removed from the local part of
//	         gmail.com and googlemail.com addresses. ph: E.164, '+' and
//	         digits. fn, ln (and ct, sent in clear): lowercase, UTF-8
//	         capitals too as for Meta, trimmed, digits, punctuation and
//	         symbols removed (ASCII or not, as for Meta), single spaces
//	         between words. ct, zp, country are sent in clear by GA4 and Google
//	         Ads (NormalizeGoogle gives their form; Google hashes only
//	         e-mail, phone, names and street).
//	TikTok   email: trim, lowercase. phone: E.164, '+' and digits.
//	         first/last name, city: lowercase, letters only. zip:
//	         lowercase, no spaces or dashes. country: 2 letters, lowercase.
//	         external_id: trimmed.
//
// The phone rules cannot add a country code the visitor did not type: a
// number is taken as international (country code first) whether or not it
// starts with '+' or 00. A page that collects national numbers must add the
// country code before it sends them.
package contact

import (
	"crypto/sha256"
	"encoding/hex"
)

// MaxValueBytes bounds a value before normalisation: RFC 5321 caps an
// address at 254 octets, and no phone, name or city comes close to 256.
const MaxValueBytes = 256

// Platform is an ad platform whose normalisation rules apply.
type Platform uint8

// The platforms.
const (
	Meta Platform = iota
	Google
	TikTok
	numPlatforms
)

// String returns "meta", "google" or "tiktok".
func (p Platform) String() string {
	switch p {
	case Meta:
		return "meta"
	case Google:
		return "google"
	case TikTok:
		return "tiktok"
	}
	return "unknown"
}

// Field is a kind of contact data.
type Field uint8

// The fields, with the key our records use for them (Meta's short names).
const (
	Email      Field = iota // em
	Phone                   // ph
	FirstName               // fn
	LastName                // ln
	City                    // ct
	Zip                     // zp
	Country                 // country
	ExternalID              // external_id
	numFields
)

// NumFields is the number of fields: Field values are 0 to NumFields-1.
const NumFields = numFields

var fieldKeys = [numFields]string{"em", "ph", "fn", "ln", "ct", "zp", "country", "external_id"}

// String returns the record key of f: em, ph, fn, ln, ct, zp, country or
// external_id.
func (f Field) String() string {
	if f < numFields {
		return fieldKeys[f]
	}
	return "unknown"
}

// ParseField returns the Field whose record key is k.
func ParseField(k []byte) (Field, bool) {
	for i, key := range fieldKeys {
		if string(k) == key {
			return Field(i), true
		}
	}
	return 0, false
}

// Error is a refused value. It names the field and the reason, never the
// value. Errors are built once at init: returning one does not allocate.
type Error struct {
	Field  Field
	Reason string
}

// Error implements error.
func (e *Error) Error() string { return "contact: " + e.Field.String() + ": " + e.Reason }

// Is makes errors.Is(err, ErrEmpty) (and the other sentinels) match the
// error of any field.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Field == anyField && t.Reason == e.Reason
}

const anyField Field = 255

// Sentinels for errors.Is; the errors returned name their field.
var (
	ErrEmpty       error = &Error{anyField, "empty"}
	ErrTooLong     error = &Error{anyField, "too long"}
	ErrInvalid     error = &Error{anyField, "malformed"}
	ErrUnsupported error = &Error{anyField, "not hashed for this platform"}
)

var fieldErrs [numFields][4]error

func init() {
	for f := range numFields {
		for i, s := range []error{ErrEmpty, ErrTooLong, ErrInvalid, ErrUnsupported} {
			fieldErrs[f][i] = &Error{f, s.(*Error).Reason}
		}
	}
}

const (
	errEmpty = iota
	errTooLong
	errInvalid
	errUnsupported
)

func fieldErr(f Field, kind int) error { return fieldErrs[f][kind] }

// rule applies p's rule for f: it appends the normalised form of v to dst
// (an array-backed buffer of MaxValueBytes+1 capacity) and returns an error
// kind, or -1. A switch, not a table of funcs: an indirect call would make
// the caller's array escape to the heap.
func rule(dst []byte, p Platform, f Field, v []byte) ([]byte, int) {
	switch f {
	case Email:
		switch p {
		case Meta:
			return metaEmail(dst, v)
		case Google:
			return googleEmail(dst, v)
		}
		return plainEmail(dst, v)
	case Phone:
		if p == Meta {
			return metaPhone(dst, v)
		}
		return e164(dst, v)
	case FirstName, LastName, City:
		if p == Google {
			return googleName(dst, v)
		}
		return lettersOnly(dst, v)
	case Zip:
		if p == Google {
			return googleZip(dst, v)
		}
		return zip(dst, v)
	case Country:
		return country(dst, v)
	}
	return trimmed(dst, v)
}

// googleHashed says which fields Google takes hashed; the others go in
// clear (GA4 user_data.address[].city, postal_code, country).
var googleHashed = [numFields]bool{Email: true, Phone: true, FirstName: true, LastName: true, ExternalID: true}

// Hashed reports whether platform p takes field f hashed (true for every
// field but Google's city, zip and country).
func Hashed(p Platform, f Field) bool { return p != Google || (f < numFields && googleHashed[f]) }

// AppendHashed normalises v by p's rules for field f, hashes it with
// SHA-256 and appends the 64 lowercase hex digits to dst. A value that
// already is a 64-hex digest is appended lowercased, as it is. On error dst
// is returned unchanged. It does not allocate when dst has room for 64
// bytes.
func AppendHashed(dst []byte, p Platform, f Field, v []byte) ([]byte, error) {
	if p >= numPlatforms || f >= numFields {
		return dst, ErrUnsupported
	}
	if !Hashed(p, f) {
		return dst, fieldErr(f, errUnsupported)
	}
	v = trimSpace(v)
	if len(v) == 0 {
		return dst, fieldErr(f, errEmpty)
	}
	if IsSHA256Hex(v) {
		return appendLower(dst, v), nil
	}
	var buf [MaxValueBytes + 1]byte
	n, err := normalize(buf[:0], p, f, v)
	if err != nil {
		return dst, err
	}
	sum := sha256.Sum256(n)
	return hex.AppendEncode(dst, sum[:]), nil
}

// AppendNormalized appends the normalised form of v by p's rules for field
// f, in clear: for the fields a platform takes unhashed (Google's city, zip
// and country), and for tests. It does not allocate when dst has room.
func AppendNormalized(dst []byte, p Platform, f Field, v []byte) ([]byte, error) {
	if p >= numPlatforms || f >= numFields {
		return dst, ErrUnsupported
	}
	v = trimSpace(v)
	if len(v) == 0 {
		return dst, fieldErr(f, errEmpty)
	}
	var buf [MaxValueBytes + 1]byte
	n, err := normalize(buf[:0], p, f, v)
	if err != nil {
		return dst, err
	}
	return append(dst, n...), nil
}

func normalize(buf []byte, p Platform, f Field, v []byte) ([]byte, error) {
	if len(v) > MaxValueBytes {
		return nil, fieldErr(f, errTooLong)
	}
	n, kind := rule(buf, p, f, v)
	if kind >= 0 {
		return nil, fieldErr(f, kind)
	}
	if len(n) == 0 {
		return nil, fieldErr(f, errEmpty)
	}
	return n, nil
}

// IsSHA256Hex reports whether v is 64 hex digits (either case).
func IsSHA256Hex(v []byte) bool {
	if len(v) != 64 {
		return false
	}
	for _, c := range v {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// IsLowerSHA256Hex reports whether v is 64 lowercase hex digits: the form
// every platform expects a hashed value in.
func IsLowerSHA256Hex(v []byte) bool {
	if len(v) != 64 {
		return false
	}
	for _, c := range v {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// AppendMeta is AppendHashed with Meta's rules (Conversions API user_data).
func AppendMeta(dst []byte, f Field, v []byte) ([]byte, error) { return AppendHashed(dst, Meta, f, v) }

// AppendGoogle is AppendHashed with Google's rules (GA4 Measurement
// Protocol user_data, Google Ads enhanced conversions).
func AppendGoogle(dst []byte, f Field, v []byte) ([]byte, error) {
	return AppendHashed(dst, Google, f, v)
}

// AppendTikTok is AppendHashed with TikTok's rules (Events API user).
func AppendTikTok(dst []byte, f Field, v []byte) ([]byte, error) {
	return AppendHashed(dst, TikTok, f, v)
}
