package consent

import (
	"errors"
	"strconv"
	"time"
)

// Signal names a kind of consent signal.
type Signal uint8

// The signals. SignalNone stands for "no signal: the configured default".
const (
	SignalNone        Signal = iota // no signal decided: Options.Default applied
	SignalExplicit                  // the explicit consent field (our purpose names)
	SignalTCF                       // IAB TCF v2 TC string (gdpr_consent / euconsent-v2)
	SignalConsentMode               // Google Consent Mode v2 (gcs / gcd)
	SignalUSPrivacy                 // IAB US Privacy string (us_privacy)
	SignalGPP                       // IAB GPP string (gpp, gpp_sid)
	SignalGPC                       // Global Privacy Control (Sec-GPC: 1)
	SignalDNT                       // Do Not Track (DNT: 1)
	numSignals
)

var signalNames = [numSignals]string{"none", "explicit", "tcf", "consent_mode", "us_privacy", "gpp", "gpc", "dnt"}

// String returns the signal's config name, e.g. "consent_mode".
func (s Signal) String() string {
	if s < numSignals {
		return signalNames[s]
	}
	return "signal(" + strconv.Itoa(int(s)) + ")"
}

// ErrUnknownSignal is returned by ParseSignal for an unknown name.
var ErrUnknownSignal = errors.New("consent: unknown signal (want explicit, tcf, consent_mode, us_privacy, gpp, gpc or dnt)")

// ParseSignal parses a signal's config name. It is for config.
func ParseSignal(s string) (Signal, error) {
	for i := SignalExplicit; i < numSignals; i++ {
		if signalNames[i] == s {
			return i, nil
		}
	}
	return 0, ErrUnknownSignal
}

// SignalSet is a set of signals, one bit each.
type SignalSet uint16

// Has reports whether sig is in s.
func (s SignalSet) Has(sig Signal) bool { return s&(1<<sig) != 0 }

// With returns s with sig added.
func (s SignalSet) With(sig Signal) SignalSet { return s | 1<<sig }

// AppendText appends the names in s, comma-separated, or "none".
func (s SignalSet) AppendText(dst []byte) ([]byte, error) {
	first := true
	for i := SignalExplicit; i < numSignals; i++ {
		if s.Has(i) {
			if !first {
				dst = append(dst, ',')
			}
			dst = append(dst, signalNames[i]...)
			first = false
		}
	}
	if first {
		dst = append(dst, "none"...)
	}
	return dst, nil
}

// String returns the names in s, comma-separated, or "none".
func (s SignalSet) String() string {
	b, _ := s.AppendText(nil)
	return string(b)
}

// GDPRApplies is the gdpr flag sent with a TC string.
type GDPRApplies uint8

// Values of the gdpr flag.
const (
	GDPRUnknown GDPRApplies = iota // absent or not 0/1 (e.g. an unexpanded ${GDPR} macro)
	GDPRNo                         // gdpr=0
	GDPRYes                        // gdpr=1
)

// String returns "unknown", "no" or "yes".
func (g GDPRApplies) String() string {
	switch g {
	case GDPRNo:
		return "no"
	case GDPRYes:
		return "yes"
	}
	return "unknown"
}

// Signals holds the raw consent inputs of one event, as the gateway found
// them. The byte slices belong to the caller and are only read during
// Evaluate; Evaluate keeps nothing. An empty or nil slice means the signal
// is absent (so a site refusing everything must send consent=none, not an
// empty field).
type Signals struct {
	GDPR      []byte // gdpr query parameter: "1", "0"; anything else is unknown
	TCString  []byte // gdpr_consent parameter or euconsent-v2 cookie (copies that differ conflict)
	GCS       []byte // Consent Mode gcs parameter, e.g. "G111"
	GCD       []byte // Consent Mode gcd parameter, e.g. "13r3r3r3r5"
	USPrivacy []byte // us_privacy parameter, e.g. "1YNN" (the gateway reads no usprivacy cookie)
	GPP       []byte // gpp parameter: header~section~...
	GPPSID    []byte // gpp_sid parameter: applicable section ids, e.g. "2,6"
	Consent   []byte // explicit consent field: our purpose names, e.g. "analytics,ads"
	GPC       bool   // a Sec-GPC header with value exactly "1" (any of several)
	DNT       bool   // a DNT header with value "1"
	// ReceivedAt is when the request arrived, from the caller's clock; the
	// TC string's dates are judged against it. Zero: they are not.
	ReceivedAt time.Time
}

// Reset clears s for reuse, dropping its references to the caller's bytes.
func (s *Signals) Reset() { *s = Signals{} }

func parseGDPR(b []byte) GDPRApplies {
	if len(b) == 1 {
		switch b[0] {
		case '0':
			return GDPRNo
		case '1':
			return GDPRYes
		}
	}
	return GDPRUnknown
}
