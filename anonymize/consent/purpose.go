package consent

import (
	"errors"
	"math/bits"
	"strconv"
)

// Purpose is one of our processing purposes. The zero value is not a purpose.
type Purpose uint8

// Our purposes. Their names (String, ParsePurpose) are used in config, in the
// explicit consent field and in JSON.
const (
	Analytics       Purpose = iota + 1 // "analytics": measurement, statistics
	Ads                                // "ads": advertising and retargeting
	Personalization                    // "personalization": content personalised from a profile
	PreciseGeo                         // "precise_geo": location more precise than city level
	DeviceStorage                      // "device_storage": storing or reading identifiers on the device
	numPurposes     = iota
)

var purposeNames = [numPurposes + 1]string{"", "analytics", "ads", "personalization", "precise_geo", "device_storage"}

// String returns the purpose's config name, e.g. "precise_geo".
func (p Purpose) String() string {
	if p >= 1 && int(p) <= numPurposes {
		return purposeNames[p]
	}
	return "purpose(" + strconv.Itoa(int(p)) + ")"
}

// Purposes is a set of our purposes, one bit each. The zero value is the
// empty set: nothing personal is allowed.
type Purposes uint8

// AllPurposes holds every purpose.
const AllPurposes Purposes = 1<<numPurposes - 1

// Of returns the set holding ps.
func Of(ps ...Purpose) Purposes {
	var s Purposes
	for _, p := range ps {
		s = s.With(p)
	}
	return s
}

func (p Purpose) bit() Purposes {
	if p < 1 || int(p) > numPurposes {
		return 0
	}
	return 1 << (p - 1)
}

// Has reports whether p is in s.
func (s Purposes) Has(p Purpose) bool { return s&p.bit() != 0 }

// With returns s with p added.
func (s Purposes) With(p Purpose) Purposes { return s | p.bit() }

// Without returns s with p removed.
func (s Purposes) Without(p Purpose) Purposes { return s &^ p.bit() }

// Len returns the number of purposes in s.
func (s Purposes) Len() int { return bits.OnesCount8(uint8(s & AllPurposes)) }

// AppendText appends s as comma-separated names in a fixed order, or "none"
// for the empty set. It does not allocate when dst has room.
func (s Purposes) AppendText(dst []byte) ([]byte, error) {
	s &= AllPurposes
	if s == 0 {
		return append(dst, "none"...), nil
	}
	first := true
	for p := Purpose(1); int(p) <= numPurposes; p++ {
		if s.Has(p) {
			if !first {
				dst = append(dst, ',')
			}
			dst = append(dst, purposeNames[p]...)
			first = false
		}
	}
	return dst, nil
}

// String returns s as comma-separated names, e.g. "analytics,ads", or "none".
func (s Purposes) String() string {
	b, _ := s.AppendText(make([]byte, 0, 64))
	return string(b)
}

// MarshalText implements encoding.TextMarshaler, as String.
func (s Purposes) MarshalText() ([]byte, error) { return s.AppendText(nil) }

// UnmarshalText implements encoding.TextUnmarshaler, as ParsePurposes.
func (s *Purposes) UnmarshalText(b []byte) error {
	v, err := parseList(b)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ErrUnknownPurpose is returned for a name that is not one of our purposes.
var ErrUnknownPurpose = errors.New("consent: unknown purpose (want analytics, ads, personalization, precise_geo or device_storage)")

// ErrPurposeList is returned for a malformed purpose list: an empty item, or
// "none" together with purposes.
var ErrPurposeList = errors.New("consent: malformed purpose list (want comma-separated purpose names, or none)")

// ParsePurpose parses one purpose name, e.g. "ads". It is for config.
func ParsePurpose(s string) (Purpose, error) {
	p, ok := lookupPurpose(s)
	if !ok {
		return 0, ErrUnknownPurpose
	}
	return p, nil
}

// ParsePurposes parses a comma-separated list of purpose names, e.g.
// "analytics,ads"; "none" and "" are the empty set. It is for config.
func ParsePurposes(s string) (Purposes, error) {
	if s == "" {
		return 0, nil
	}
	return parseList(s)
}

// ParseExplicit parses the explicit consent field sent by a site whose own
// banner decides: comma-separated purpose names ("analytics,ads"), or "none"
// for a visitor who refused everything. Names match case-insensitively
// ("Analytics"), spaces around them are ignored; unknown names, empty items
// and an empty field are errors. b is only read during the call; it does
// not allocate.
func ParseExplicit(b []byte) (Purposes, error) { return parseListFold(b, true) }

func parseList[T string | []byte](b T) (Purposes, error) { return parseListFold(b, false) }

// maxPurposeName is the longest name lookupPurpose knows, "device_storage",
// rounded up: a longer item cannot match.
const maxPurposeName = 16

func parseListFold[T string | []byte](b T, fold bool) (Purposes, error) {
	var s Purposes
	none := false
	for i := 0; i <= len(b); {
		j := i
		for j < len(b) && b[j] != ',' {
			j++
		}
		lo, hi := i, j
		for lo < hi && b[lo] == ' ' {
			lo++
		}
		for hi > lo && b[hi-1] == ' ' {
			hi--
		}
		if lo == hi {
			return 0, ErrPurposeList
		}
		name := b[lo:hi]
		var lower [maxPurposeName]byte
		if fold {
			if len(name) > maxPurposeName {
				return 0, ErrUnknownPurpose
			}
			for k := 0; k < len(name); k++ {
				c := name[k]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				lower[k] = c
			}
			name = T(lower[:len(name)])
		}
		if string(name) == "none" {
			none = true
		} else if p, ok := lookupPurpose(name); ok {
			s = s.With(p)
		} else {
			return 0, ErrUnknownPurpose
		}
		i = j + 1
	}
	if none && s != 0 {
		return 0, ErrPurposeList
	}
	return s, nil
}

func lookupPurpose[T string | []byte](name T) (Purpose, bool) {
	switch string(name) { // no allocation: the conversion is only compared
	case "analytics":
		return Analytics, true
	case "ads":
		return Ads, true
	case "personalization":
		return Personalization, true
	case "precise_geo":
		return PreciseGeo, true
	case "device_storage":
		return DeviceStorage, true
	}
	return 0, false
}
