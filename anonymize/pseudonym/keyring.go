package pseudonym

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/beacongate/beacongate/clock"
)

// Mode selects where each period's key comes from. See the package
// documentation for what each mode means for re-identification.
type Mode uint8

const (
	// Ephemeral draws a random key for each period from crypto/rand, keeps it
	// only in memory and drops it when the period ends. It is the zero value
	// because it is the stricter choice and needs no secret.
	Ephemeral Mode = iota
	// Derived derives each period's key from a Secret with HKDF-SHA256, so
	// that every node holding the secret computes the same pseudonyms.
	Derived
)

// String returns "ephemeral" or "derived".
func (m Mode) String() string {
	switch m {
	case Ephemeral:
		return "ephemeral"
	case Derived:
		return "derived"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// ParseMode parses "ephemeral" or "derived".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "ephemeral":
		return Ephemeral, nil
	case "derived":
		return Derived, nil
	}
	return 0, fmt.Errorf("pseudonym: unknown mode %q; want ephemeral or derived", s)
}

// Defaults and bounds of Options.
const (
	// DefaultPeriod is one UTC day: pseudonyms link a visitor's events within
	// a day, not across days.
	DefaultPeriod = 24 * time.Hour
	// DefaultVisitorPeriod is one UTC day, as in the daily salts of
	// cookieless analytics tools: unique visitors are counted per day.
	DefaultVisitorPeriod = 24 * time.Hour
	// DefaultGrace covers events stamped just before a period boundary and
	// hashed just after it (concurrent requests). Ten seconds is far more
	// than a request takes and keeps an ended period's ephemeral key alive
	// only briefly.
	DefaultGrace = 10 * time.Second

	// MinPeriod keeps key churn sane; MaxPeriod caps how long one key links.
	MinPeriod = time.Minute
	MaxPeriod = 366 * 24 * time.Hour
)

// Options configures a Keyring. A zero field means its default.
type Options struct {
	// Mode is Ephemeral (default) or Derived.
	Mode Mode
	// Period is how long one pseudonym key lasts (default 24h). It must be a
	// whole number of seconds between MinPeriod and MaxPeriod. Periods are
	// counted from the Unix epoch, so a period that divides 24h starts at
	// UTC midnight.
	Period time.Duration
	// VisitorPeriod is how long one visitor-hash key (the "daily salt")
	// lasts; default 24h, same rules as Period.
	VisitorPeriod time.Duration
	// Grace is how long after a period ends its key is still used for
	// events stamped inside that period (default 10s; must be shorter than
	// both periods). In ephemeral mode it is also how long the ended key
	// stays in memory.
	Grace time.Duration
	// Secret is required in Derived mode and must be empty in Ephemeral mode,
	// so that a forgotten Mode cannot silently ignore a configured secret.
	Secret Secret
	// Keys, in Derived mode, supplies the period keys instead of deriving
	// every one from Secret: a KeyStore, whose keys can be destroyed. Nil
	// derives them all from Secret (HKDF-SHA256).
	Keys KeySource
	// Clock tells New which periods are current, so that their keys are
	// ready before the first request. Nil means clock.Real. The lookups
	// themselves take the event's receive time, never a clock reading.
	Clock clock.Clock
}

// Keyring computes pseudonyms and visitor hashes with period keys that
// rotate on their own. It is safe for concurrent use; its methods take no
// lock (see schedule).
type Keyring struct {
	mode    Mode
	secret  Secret
	keys    KeySource // nil: HKDF from secret
	rand    io.Reader // crypto/rand.Reader; replaced only by tests
	ids     schedule
	visitor schedule
}

// New validates opts, applies defaults and returns a Keyring, reporting
// every problem at once. It prepares the keys of the current periods so
// the first requests do not pay for it.
func New(opts Options) (*Keyring, error) {
	if opts.Period == 0 {
		opts.Period = DefaultPeriod
	}
	if opts.VisitorPeriod == 0 {
		opts.VisitorPeriod = DefaultVisitorPeriod
	}
	if opts.Grace == 0 {
		opts.Grace = DefaultGrace
	}
	var errs []error
	errs = checkPeriod(errs, "Period", opts.Period)
	errs = checkPeriod(errs, "VisitorPeriod", opts.VisitorPeriod)
	if opts.Grace < 0 || opts.Grace >= min(opts.Period, opts.VisitorPeriod) {
		errs = append(errs, fmt.Errorf("pseudonym: Grace %v must be at least 0 and shorter than the periods", opts.Grace))
	}
	switch opts.Mode {
	case Derived:
		if opts.Secret.IsZero() {
			errs = append(errs, errors.New("pseudonym: derived mode needs a Secret (LoadSecretFile or SecretFromEnv)"))
		} else if opts.Secret.Len() < MinSecretLen {
			errs = append(errs, tooShort(opts.Secret.Len()))
		}
	case Ephemeral:
		if opts.Keys != nil {
			errs = append(errs, errors.New("pseudonym: Keys are set but Mode is ephemeral, whose keys are never stored; set Mode to Derived or remove Keys"))
		}
		if !opts.Secret.IsZero() {
			errs = append(errs, errors.New("pseudonym: a Secret is set but Mode is ephemeral, which would ignore it; set Mode to Derived or remove the secret"))
		}
	default:
		errs = append(errs, fmt.Errorf("pseudonym: unknown %v", opts.Mode))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	k := &Keyring{mode: opts.Mode, secret: opts.Secret, keys: opts.Keys, rand: rand.Reader}
	grace := int64(opts.Grace / time.Second)
	k.ids = schedule{k: k, purpose: "pseudonym", period: int64(opts.Period / time.Second), grace: grace}
	k.visitor = schedule{k: k, purpose: "visitor", period: int64(opts.VisitorPeriod / time.Second), grace: grace}
	k.Rotate(clock.Or(opts.Clock).Now())
	return k, nil
}

func checkPeriod(errs []error, name string, d time.Duration) []error {
	if d < MinPeriod || d > MaxPeriod || d%time.Second != 0 {
		return append(errs, fmt.Errorf("pseudonym: %s %v must be whole seconds between %v and %v", name, d, MinPeriod, MaxPeriod))
	}
	return errs
}

// Mode returns the keyring's key mode.
func (k *Keyring) Mode() Mode { return k.mode }

// String describes the keyring without any key material.
func (k *Keyring) String() string {
	return "pseudonym.Keyring(mode=" + k.mode.String() +
		", period=" + (time.Duration(k.ids.period) * time.Second).String() +
		", visitorPeriod=" + (time.Duration(k.visitor.period) * time.Second).String() + ")"
}

// GoString is String, so that %#v does not dump internals.
func (k *Keyring) GoString() string { return k.String() }

// Rotate moves both key schedules to the period of now and drops ended
// keys whose grace has passed; in derived mode, near the end of a period it
// also makes the next period's keys (from a KeyStore: read, or created,
// fsynced and audited), so that no request waits for that. Lookups rotate
// on their own; call Rotate from a ticker (every few seconds) so that in
// ephemeral mode an ended key is forgotten on time even when no request
// arrives, and in derived mode the next keys are ready in time.
func (k *Keyring) Rotate(now time.Time) {
	k.ids.state(now.Unix())
	k.visitor.state(now.Unix())
	if k.mode == Derived {
		k.ids.prepare(now.Unix())
		k.visitor.prepare(now.Unix())
	}
}

// ErrClockBehind is KeyErr's reason in ephemeral mode when now lies in a
// period before the latest one the keyring has keyed, whose key is gone:
// the clock was stepped back across a period boundary (past Grace), and an
// ephemeral key is never made again once its period was left.
var ErrClockBehind = errors.New("pseudonym: the clock is back in an earlier period, whose ephemeral key was forgotten " +
	"(the clock was stepped back across a period boundary); pseudonyms resume when the clock reaches the period it had left")

// KeyErr returns why the periods containing now have no pseudonym or no
// visitor key, or nil when both have one. Without a key the gateway writes
// no pseudonym or visitor hash (it fails closed): a key store that refuses
// the period (its key was destroyed, e.g. by key_retention after the
// clock ran ahead) or cannot be read, a failing random source, or in
// ephemeral mode a clock stepped back into a period whose key was
// forgotten (ErrClockBehind). Call it after Rotate, which makes the
// current keys.
func (k *Keyring) KeyErr(now time.Time) error {
	var errs []error
	if err := k.ids.keyErr(now.Unix()); err != nil {
		errs = append(errs, fmt.Errorf("pseudonym key: %w", err))
	}
	if err := k.visitor.keyErr(now.Unix()); err != nil {
		errs = append(errs, fmt.Errorf("visitor key: %w", err))
	}
	return errors.Join(errs...)
}

// sumBytes is how much of the HMAC-SHA256 is kept: 128 bits, so that a
// collision among a billion identifiers has odds of about 1 in 10^21.
const sumBytes = 16

// EncodedLen is the length of every pseudonym and visitor hash: sumBytes in
// unpadded base64url, 22 characters that are safe in JSON, URLs and file
// names without escaping.
const EncodedLen = 22

// Labels that separate the two uses of a key in the HMAC input, in addition
// to their separate keys.
const (
	kindPseudonym = 'p'
	kindVisitor   = 'v'
)

// AppendPseudonym appends to dst the pseudonym of identifier id on site at
// time now: EncodedLen characters of base64url (no padding) holding the
// first 16 bytes of
//
//	HMAC-SHA256(key of now's period, 'p' || uint32be(len(site)) || site || id)
//
// The length prefix makes the (site, id) split unambiguous, so the same id on
// two sites gives unrelated pseudonyms. now must be the server's receive
// time, never a time sent by the client.
//
// It appends nothing (returns dst) when id is empty, and in ephemeral mode
// when now lies in a period whose key has been forgotten (ended more than
// Grace ago); the caller then writes no pseudonym. It does not allocate
// once the period's key exists, provided dst has EncodedLen bytes of room.
func (k *Keyring) AppendPseudonym(dst []byte, site, id []byte, now time.Time) []byte {
	if len(id) == 0 {
		return dst
	}
	st := k.ids.state(now.Unix())
	if st == nil {
		return dst
	}
	h := getHasher(st)
	h.header(kindPseudonym, len(site))
	h.write(site)
	h.write(id)
	return h.finish(st, dst)
}

// AppendVisitorHash appends to dst the cookieless visitor hash of a client
// on site during the visitor period (a UTC day by default) that contains
// now: EncodedLen characters, the first 16 bytes of
//
//	HMAC-SHA256(visitor key of now's period,
//	            'v' || uint32be(len(site)) || site || uint32be(len(ip)) || ip || ua)
//
// truncatedIP should be the already truncated address text (ipmask) and
// reducedUA the reduced user agent, so that the hash carries no more than
// the record does. The same client on the same site on the same day gives
// the same hash, which counts unique visitors with no identifier stored; the
// next day's key makes it unrelated. It appends nothing when truncatedIP is
// empty or, in ephemeral mode, when the period's key has been forgotten.
// It does not allocate once the key exists and dst has room.
func (k *Keyring) AppendVisitorHash(dst []byte, site, truncatedIP, reducedUA []byte, now time.Time) []byte {
	if len(truncatedIP) == 0 {
		return dst
	}
	st := k.visitor.state(now.Unix())
	if st == nil {
		return dst
	}
	h := getHasher(st)
	h.header(kindVisitor, len(site))
	h.write(site)
	h.length(len(truncatedIP))
	h.write(truncatedIP)
	h.write(reducedUA)
	return h.finish(st, dst)
}

var b64 = base64.RawURLEncoding
