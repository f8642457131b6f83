package consent

import "errors"

// ModeState is the state of one Google Consent Mode type.
type ModeState uint8

// Consent Mode states.
const (
	ModeAbsent  ModeState = iota // not carried by the parameter (gcs has no ad_user_data or ad_personalization)
	ModeDenied                   // denied, or never set (Consent Mode treats unset as denied)
	ModeGranted                  // granted
)

// String returns "absent", "denied" or "granted".
func (m ModeState) String() string {
	switch m {
	case ModeDenied:
		return "denied"
	case ModeGranted:
		return "granted"
	}
	return "absent"
}

// ConsentMode is a decoded Google Consent Mode v2 signal.
type ConsentMode struct {
	AdStorage         ModeState
	AnalyticsStorage  ModeState
	AdUserData        ModeState
	AdPersonalization ModeState
}

// Errors of ParseGCS and ParseGCD.
var (
	ErrGCS = errors.New("consent: malformed gcs (want G1 followed by two 0/1 digits, e.g. G111)")
	ErrGCD = errors.New("consent: malformed gcd (want 9-64 characters of 0-9a-zA-Z-_ with a state letter l-v at positions 2, 4, 6 and 8)")
)

// ParseGCS decodes the Consent Mode gcs parameter, "G1xy": x is ad_storage
// and y analytics_storage, 1 granted, 0 denied. The format is not published
// by Google; it is the one reverse-engineered in public server-side GTM
// consent parsers. It does not allocate.
func ParseGCS(b []byte) (ConsentMode, error) {
	if len(b) != 4 || b[0] != 'G' || b[1] != '1' {
		return ConsentMode{}, ErrGCS
	}
	ad, ok1 := gcsDigit(b[2])
	an, ok2 := gcsDigit(b[3])
	if !ok1 || !ok2 {
		return ConsentMode{}, ErrGCS
	}
	return ConsentMode{AdStorage: ad, AnalyticsStorage: an}, nil
}

func gcsDigit(c byte) (ModeState, bool) {
	switch c {
	case '0':
		return ModeDenied, true
	case '1':
		return ModeGranted, true
	}
	return ModeAbsent, false
}

// gcdAlphabet is the alphabet gcd letters index into.
const gcdAlphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"

var gcdIndex = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(gcdAlphabet); i++ {
		t[gcdAlphabet[i]] = int8(i)
	}
	return t
}()

// ParseGCD decodes the Consent Mode v2 gcd parameter (reverse-engineered
// like gcs). The letters at 0-based positions 2, 4, 6 and 8 are ad_storage,
// analytics_storage, ad_user_data and ad_personalization. Each is an index v
// into 0-9a-zA-Z-_ with a default state (v>>2)&3 and an update state v&3,
// where 1 is unset, 2 denied and 3 granted; the effective state is the
// update if set, else the default if set, else denied. Only the nine letters
// l, m, n, p, q, r, t, u, v (v in 16..31 with both states non-zero) are
// valid. The string must be 9 to 64 characters (real ones are 10-12);
// characters after position 8 are checked against the alphabet but otherwise
// ignored. It does not allocate.
func ParseGCD(b []byte) (ConsentMode, error) {
	if len(b) < 9 || len(b) > 64 {
		return ConsentMode{}, ErrGCD
	}
	for _, c := range b {
		if gcdIndex[c] < 0 {
			return ConsentMode{}, ErrGCD
		}
	}
	var st [4]ModeState
	for i := range st {
		v := gcdIndex[b[2+2*i]]
		def, upd := v>>2&3, v&3
		if v < 16 || v > 31 || def == 0 || upd == 0 {
			return ConsentMode{}, ErrGCD
		}
		eff := upd
		if eff == 1 {
			eff = def
		}
		if eff == 3 {
			st[i] = ModeGranted
		} else {
			st[i] = ModeDenied
		}
	}
	return ConsentMode{AdStorage: st[0], AnalyticsStorage: st[1], AdUserData: st[2], AdPersonalization: st[3]}, nil
}

// Merge combines two readings of Consent Mode (gcs and gcd of the same hit)
// field by field, keeping the more restrictive state: denied beats granted,
// and a state beats absent.
func (m ConsentMode) Merge(o ConsentMode) ConsentMode {
	f := func(a, b ModeState) ModeState {
		if a == ModeDenied || b == ModeDenied {
			return ModeDenied
		}
		if a == ModeGranted || b == ModeGranted {
			return ModeGranted
		}
		return ModeAbsent
	}
	return ConsentMode{
		AdStorage:         f(m.AdStorage, o.AdStorage),
		AnalyticsStorage:  f(m.AnalyticsStorage, o.AnalyticsStorage),
		AdUserData:        f(m.AdUserData, o.AdUserData),
		AdPersonalization: f(m.AdPersonalization, o.AdPersonalization),
	}
}

// consentModeCovers are the purposes Consent Mode speaks for.
const consentModeCovers = Purposes(1<<(Analytics-1) | 1<<(Ads-1) | 1<<(DeviceStorage-1))

// Purposes maps Consent Mode to our purposes. analytics needs
// analytics_storage granted; ads needs ad_storage and ad_user_data granted
// (sending user data for advertising is what ad_user_data governs; gcs
// alone does not carry it, so gcs alone never grants ads) and
// ad_personalization not denied; device_storage needs both ad_storage and
// analytics_storage granted. Consent Mode says nothing about content
// personalization or precise geolocation, so it does not cover them.
func (m ConsentMode) Purposes() Purposes {
	var p Purposes
	if m.AnalyticsStorage == ModeGranted {
		p = p.With(Analytics)
	}
	if m.AdStorage == ModeGranted && m.AdUserData == ModeGranted && m.AdPersonalization != ModeDenied {
		p = p.With(Ads)
	}
	if m.AdStorage == ModeGranted && m.AnalyticsStorage == ModeGranted {
		p = p.With(DeviceStorage)
	}
	return p
}
