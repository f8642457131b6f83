package scrub

// Kind is one kind of personal data (or one reason for a removal) that the
// scanner reports.
type Kind uint8

// Kinds reported in a [Found] set. KindEmail to KindCoordinates are kinds
// of value and have a marker; the others name removals that leave no
// marker.
const (
	KindNone        Kind = iota
	KindEmail            // e-mail address
	KindPhone            // phone number
	KindCard             // payment card number (Luhn-checked)
	KindIBAN             // IBAN (mod-97 checked)
	KindToken            // long token, hash or UUID
	KindIP               // IPv4 or IPv6 address
	KindMAC              // MAC address (colons, dashes, dots or 12 hex digits)
	KindNationalID       // national id with a check (DE Steuer-ID, ES DNI/NIE, UK NINO, FR NIR, IT codice fiscale, NL BSN)
	KindDevice           // a device named after its owner ("Jane's iPhone")
	KindCoordinates      // a latitude and longitude to 4 decimals or more ("52.520008,13.404954")
	KindClickID          // click identifier parameter (gclid, fbclid, ...)
	KindParam            // parameter removed by its name (sensitive names, Options.DropParams, utm_* with DropUTM)
	KindUserinfo         // "user:password@" in a URL authority
	KindMalformed        // input that could not be parsed safely; dropped or cut to its origin
	KindHost             // page URL host outside the site's hosts (dropped) or a sub-domain of one (reduced)
	KindSegment          // path segment replaced by "{id}": a route placeholder or the path-shape rule

	// KindLast is the last valid Kind, for loops over all kinds:
	// for k := KindEmail; k <= KindLast; k++.
	KindLast = KindSegment
)

var kindNames = [...]string{
	KindNone:        "none",
	KindEmail:       "email",
	KindPhone:       "phone",
	KindCard:        "card",
	KindIBAN:        "iban",
	KindToken:       "token",
	KindIP:          "ip",
	KindMAC:         "mac",
	KindNationalID:  "national_id",
	KindDevice:      "device_name",
	KindCoordinates: "coordinates",
	KindClickID:     "click_id",
	KindParam:       "param",
	KindUserinfo:    "userinfo",
	KindMalformed:   "malformed",
	KindHost:        "host",
	KindSegment:     "segment",
}

// String returns the kind's lower-case name, usable as a metric label.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

var kindMarkers = [...]string{
	KindEmail:       "[email]",
	KindPhone:       "[phone]",
	KindCard:        "[card]",
	KindIBAN:        "[iban]",
	KindToken:       "[token]",
	KindIP:          "[ip]",
	KindMAC:         "[mac]",
	KindNationalID:  "[id]",
	KindDevice:      "[device]",
	KindCoordinates: "[geo]",
}

// Marker returns the text that replaces a value of kind k in a path
// segment or in free text, such as "[email]". Kinds that are removed
// without a trace return "".
func (k Kind) Marker() string {
	if int(k) < len(kindMarkers) {
		return kindMarkers[k]
	}
	return ""
}

// Found is a set of kinds, reported by the cleaning functions so that
// metrics can count what was removed.
type Found uint32

// valueKinds are the kinds detected in values; each has a marker.
const valueKinds = Found(1<<KindEmail | 1<<KindPhone | 1<<KindCard | 1<<KindIBAN | 1<<KindToken |
	1<<KindIP | 1<<KindMAC | 1<<KindNationalID | 1<<KindDevice | 1<<KindCoordinates)

func (k Kind) bit() Found { return 1 << k }

// Has reports whether k is in the set.
func (f Found) Has(k Kind) bool { return f&k.bit() != 0 }

// Structural reports whether f holds only kinds that a site's URL structure
// produces (KindSegment, KindHost), or none: nothing was found in the
// value's own text, so the same page's cleaned URL repeats for every visitor.
func (f Found) Structural() bool { return f&^(KindSegment.bit()|KindHost.bit()) == 0 }

// first returns the lowest value kind in f, or KindNone.
func (f Found) first() Kind {
	for k := KindEmail; k <= KindCoordinates; k++ {
		if f.Has(k) {
			return k
		}
	}
	return KindNone
}

// String lists the kinds in the set, separated by '|', such as
// "email|click_id". It allocates and is meant for tests and logs.
func (f Found) String() string {
	if f == 0 {
		return "none"
	}
	var b []byte
	for k := KindEmail; k <= KindLast; k++ {
		if f.Has(k) {
			if len(b) > 0 {
				b = append(b, '|')
			}
			b = append(b, k.String()...)
		}
	}
	return string(b)
}
