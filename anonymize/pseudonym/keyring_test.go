package pseudonym

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
)

var testSecretBytes = []byte("0123456789abcdef0123456789ABCDEF-test-secret")

func testSecret(t testing.TB) Secret {
	t.Helper()
	s, err := NewSecret(testSecretBytes)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newKeyring builds a keyring whose clock reads day0 unless opts names
// another, so that no test depends on the day it runs.
func newKeyring(t testing.TB, opts Options) *Keyring {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = clock.Fixed(day0)
	}
	k, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// day0 is a UTC midnight: the start of a 24h period.
var day0 = time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)

// refKey is the reference derivation of a derived-mode key, written out
// from the documentation rather than calling the code under test.
func refKey(purpose string, period time.Duration, now time.Time) []byte {
	idx := now.Unix() / int64(period/time.Second)
	if now.Unix() < 0 && now.Unix()%int64(period/time.Second) != 0 {
		idx--
	}
	info := "beacongate/" + purpose + "/v1 period=" + strconv.FormatInt(int64(period/time.Second), 10) + "s index=" + strconv.FormatInt(idx, 10)
	key, err := hkdf.Key(sha256.New, testSecretBytes, []byte("beacongate pseudonym keys"), info, 32)
	if err != nil {
		panic(err)
	}
	return key
}

// refMAC is crypto/hmac over the documented message, encoded as documented.
func refMAC(key []byte, parts ...[]byte) string {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

func u32(n int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(n)) }

func refPseudonym(key []byte, site, id string) string {
	return refMAC(key, []byte{'p'}, u32(len(site)), []byte(site), []byte(id))
}

func refVisitor(key []byte, site, ip, ua string) string {
	return refMAC(key, []byte{'v'}, u32(len(site)), []byte(site), u32(len(ip)), []byte(ip), []byte(ua))
}

func TestMatchesCryptoHMAC(t *testing.T) {
	for _, period := range []time.Duration{24 * time.Hour, time.Hour, 7 * 24 * time.Hour} {
		k := newKeyring(t, Options{Mode: Derived, Secret: testSecret(t), Period: period})
		f := func(site, id string, now time.Time) {
			t.Helper()
			got := string(k.AppendPseudonym(nil, []byte(site), []byte(id), now))
			want := refPseudonym(refKey("pseudonym", period, now), site, id)
			if got != want {
				t.Fatalf("period %v, %q %q at %v: %s; want %s", period, site, id, now, got, want)
			}
			if len(got) != EncodedLen {
				t.Fatalf("length %d; want %d", len(got), EncodedLen)
			}
		}
		f("shop.example", "user-42", day0)
		f("shop.example", "user-42", day0.Add(13*time.Hour+7*time.Minute))
		f("", "x", day0)
		f("a", strings.Repeat("long identifier ", 40), day0) // several hash blocks
		f("blog.example", "ble:AA:BB:CC:DD:EE:FF", day0.Add(-time.Second))
		f("s", "before 1970", time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC))
	}
}

func TestVisitorHashMatchesCryptoHMAC(t *testing.T) {
	// VisitorPeriod is independent of Period.
	k := newKeyring(t, Options{Mode: Derived, Secret: testSecret(t), Period: time.Hour})
	f := func(site, ip, ua string, now time.Time) {
		t.Helper()
		got := string(k.AppendVisitorHash([]byte("prefix "), []byte(site), []byte(ip), []byte(ua), now))
		want := "prefix " + refVisitor(refKey("visitor", 24*time.Hour, now), site, ip, ua)
		if got != want {
			t.Fatalf("%q %q %q: %s; want %s", site, ip, ua, got, want)
		}
	}
	f("shop.example", "203.0.113.0", "Firefox 128/Windows/desktop", day0.Add(5*time.Hour))
	f("shop.example", "2001:db8::", "", day0.Add(23*time.Hour))
	f("", "1.2.3.0", "curl", day0)

	// Same visitor, same day: same hash across the day; next day: different.
	site, ip, ua := []byte("s"), []byte("203.0.113.0"), []byte("Chrome 126/Android/mobile")
	a := string(k.AppendVisitorHash(nil, site, ip, ua, day0.Add(time.Minute)))
	b := string(k.AppendVisitorHash(nil, site, ip, ua, day0.Add(23*time.Hour)))
	c := string(k.AppendVisitorHash(nil, site, ip, ua, day0.Add(24*time.Hour)))
	if a != b || a == c {
		t.Fatalf("daily rotation: %s %s %s", a, b, c)
	}
	// Pseudonym and visitor hash of the same bytes differ (own key and label).
	if string(k.AppendPseudonym(nil, site, ip, day0)) == string(k.AppendVisitorHash(nil, site, ip, nil, day0)) {
		t.Fatal("pseudonym equals visitor hash")
	}
	if got := k.AppendVisitorHash([]byte("x"), site, nil, ua, day0); string(got) != "x" {
		t.Fatalf("empty address: appended %q", got[1:])
	}
}

func TestSiteScoping(t *testing.T) {
	for _, mode := range []Mode{Derived, Ephemeral} {
		opts := Options{Mode: mode}
		if mode == Derived {
			opts.Secret = testSecret(t)
		}
		k := newKeyring(t, opts)
		now := day0.Add(10 * time.Hour) // the keyring's clock reads day0
		p := func(site, id string) string {
			return string(k.AppendPseudonym(nil, []byte(site), []byte(id), now))
		}
		if p("a.example", "u1") == p("b.example", "u1") {
			t.Fatalf("%v: same id on two sites gives the same pseudonym", mode)
		}
		// Moving bytes between site and id must change the pseudonym
		// (the length prefix makes the split unambiguous).
		if p("ab", "c") == p("a", "bc") {
			t.Fatalf("%v: (ab,c) and (a,bc) collide", mode)
		}
		first, again := p("a.example", "u1"), p("a.example", "u1")
		if first != again || first == p("a.example", "u2") {
			t.Fatalf("%v: not a function of (site, id)", mode)
		}
	}
}

func TestDerivedDeterministicAcrossKeyrings(t *testing.T) {
	k1 := newKeyring(t, Options{Mode: Derived, Secret: testSecret(t)})
	k2 := newKeyring(t, Options{Mode: Derived, Secret: testSecret(t)})
	other, _ := NewSecret(bytes.Repeat([]byte{7}, 40))
	k3 := newKeyring(t, Options{Mode: Derived, Secret: other})
	site, id := []byte("shop.example"), []byte("user-42")
	for _, now := range []time.Time{day0, day0.Add(12 * time.Hour), day0.AddDate(0, 0, 5)} {
		a, b := k1.AppendPseudonym(nil, site, id, now), k2.AppendPseudonym(nil, site, id, now)
		if !bytes.Equal(a, b) {
			t.Fatalf("two nodes with one secret disagree at %v: %s %s", now, a, b)
		}
		if bytes.Equal(a, k3.AppendPseudonym(nil, site, id, now)) {
			t.Fatal("another secret gives the same pseudonym")
		}
	}
	if bytes.Equal(k1.AppendPseudonym(nil, site, id, day0), k1.AppendPseudonym(nil, site, id, day0.Add(24*time.Hour))) {
		t.Fatal("derived: same pseudonym on two days")
	}
	// A period length change gives new keys, even for the same index.
	k4 := newKeyring(t, Options{Mode: Derived, Secret: testSecret(t), Period: 48 * time.Hour})
	epoch := time.Unix(0, 0)
	if bytes.Equal(k1.AppendPseudonym(nil, site, id, epoch), k4.AppendPseudonym(nil, site, id, epoch)) {
		t.Fatal("periods of 24h and 48h share the key of index 0")
	}
}

func TestEphemeral(t *testing.T) {
	k1 := newKeyring(t, Options{})
	k2 := newKeyring(t, Options{})
	site, id := []byte("shop.example"), []byte("user-42")
	now := day0.Add(36 * time.Hour) // noon UTC the day after the keyring's clock
	a := k1.AppendPseudonym(nil, site, id, now)
	if !bytes.Equal(a, k1.AppendPseudonym(nil, site, id, now)) {
		t.Fatal("ephemeral: not stable within a period")
	}
	if bytes.Equal(a, k2.AppendPseudonym(nil, site, id, now)) {
		t.Fatal("ephemeral: two keyrings agree")
	}
	next := k1.AppendPseudonym(nil, site, id, now.Add(24*time.Hour))
	if len(next) != EncodedLen || bytes.Equal(a, next) {
		t.Fatalf("ephemeral: next period %q vs %q", next, a)
	}
	// Yesterday's key is forgotten: nothing is appended for it any more.
	if got := k1.AppendPseudonym([]byte("x"), site, id, now); string(got) != "x" {
		t.Fatalf("forgotten period: appended %q", got[1:])
	}
	if k1.Mode() != Ephemeral || k1.Mode().String() != "ephemeral" {
		t.Fatal("mode")
	}
}

// TestEphemeralMatchesCryptoHMAC fixes the random source to check the
// ephemeral computation against crypto/hmac too.
func TestEphemeralMatchesCryptoHMAC(t *testing.T) {
	k := newKeyring(t, Options{})
	key := bytes.Repeat([]byte{0xA7}, 32)
	k.rand = bytes.NewReader(append(append([]byte(nil), key...), key...))
	now := day0.Add(72 * time.Hour) // a period not built yet
	got := string(k.AppendPseudonym(nil, []byte("s"), []byte("id"), now))
	if want := refPseudonym(key, "s", "id"); got != want {
		t.Fatalf("%s; want %s", got, want)
	}
	// A failing random source yields no pseudonym, not a weak one.
	k.rand = io.MultiReader()
	if got := k.AppendPseudonym(nil, []byte("s"), []byte("id"), now.Add(48*time.Hour)); len(got) != 0 {
		t.Fatalf("failed random source: %q", got)
	}
}

func TestPeriodBoundary(t *testing.T) {
	site, id := []byte("s"), []byte("u")
	boundary := day0.Add(24 * time.Hour)
	before, after := boundary.Add(-time.Nanosecond), boundary

	t.Run("derived", func(t *testing.T) {
		k := newKeyring(t, Options{Mode: Derived, Secret: testSecret(t)})
		wantBefore := refPseudonym(refKey("pseudonym", 24*time.Hour, day0), "s", "u")
		wantAfter := refPseudonym(refKey("pseudonym", 24*time.Hour, boundary), "s", "u")
		f := func(now time.Time, want string) {
			t.Helper()
			if got := string(k.AppendPseudonym(nil, site, id, now)); got != want {
				t.Fatalf("%v: %s; want %s", now, got, want)
			}
		}
		f(before, wantBefore)
		f(after, wantAfter)
		f(before, wantBefore)              // late event, kept previous state
		f(after.Add(time.Hour), wantAfter) // past the grace: derived mode keeps the previous state
		f(before, wantBefore)
		f(day0.AddDate(0, 0, -30), refPseudonym(refKey("pseudonym", 24*time.Hour, day0.AddDate(0, 0, -30)), "s", "u"))
		f(after.Add(time.Minute), wantAfter) // the old request did not move the current period
	})

	t.Run("ephemeral", func(t *testing.T) {
		// Ephemeral keys exist only from the keyring's clock on (day0).
		k := newKeyring(t, Options{Grace: 10 * time.Second})
		p := func(now time.Time) string { return string(k.AppendPseudonym(nil, site, id, now)) }
		b1 := p(before)
		a1 := p(after)
		if b1 == "" || a1 == "" || b1 == a1 {
			t.Fatalf("boundary: %q %q", b1, a1)
		}
		if got := p(before); got != b1 {
			t.Fatalf("late event within grace: %q; want %q", got, b1)
		}
		if got := p(after.Add(9 * time.Second)); got != a1 {
			t.Fatalf("same period: %q; want %q", got, a1)
		}
		if got := p(before); got != b1 {
			t.Fatalf("late event within grace (2): %q; want %q", got, b1)
		}
		k.Rotate(after.Add(10 * time.Second)) // grace over: previous key dropped
		if got := p(before); got != "" {
			t.Fatalf("late event after grace: %q; want nothing", got)
		}
		if got := p(after.Add(time.Hour)); got != a1 {
			t.Fatalf("current period changed: %q; want %q", got, a1)
		}
	})
}

// TestConcurrentRotation races many goroutines over a period boundary in
// ephemeral mode: all must see one key per period. Run with -race.
func TestConcurrentRotation(t *testing.T) {
	k := newKeyring(t, Options{})
	site, id := []byte("s"), []byte("u")
	base := day0.Add(24 * time.Hour) // the UTC midnight after the keyring's clock
	const goroutines, periods = 8, 20
	results := make([][periods]string, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for p := range periods {
				now := base.Add(time.Duration(p) * 24 * time.Hour)
				results[g][p] = string(k.AppendPseudonym(nil, site, id, now))
			}
		})
	}
	wg.Wait()
	for p := range periods {
		for g := 1; g < goroutines; g++ {
			if results[g][p] != results[0][p] {
				// A goroutine that fell a full period behind finds the key
				// forgotten and writes nothing; anything else is a bug.
				if results[g][p] == "" || results[0][p] == "" {
					continue
				}
				t.Fatalf("period %d: goroutines disagree: %q %q", p, results[g][p], results[0][p])
			}
		}
	}
}

func TestEmptyIdentifier(t *testing.T) {
	k := newKeyring(t, Options{Mode: Derived, Secret: testSecret(t)})
	if got := k.AppendPseudonym([]byte("x"), []byte("s"), nil, day0); string(got) != "x" {
		t.Fatalf("empty id: appended %q", got[1:])
	}
}

func TestNewValidation(t *testing.T) {
	short, err := NewSecret([]byte("short"))
	if err == nil || !errors.Is(err, ErrSecretTooShort) || !short.IsZero() {
		t.Fatalf("NewSecret(short) = %v, %v", short, err)
	}
	f := func(opts Options, wantIn ...string) {
		t.Helper()
		k, err := New(opts)
		if err == nil {
			t.Fatalf("New(%+v) = %v; want an error", opts, k)
		}
		for _, w := range wantIn {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("error %q does not mention %q", err, w)
			}
		}
	}
	f(Options{Mode: Derived}, "needs a Secret")
	f(Options{Mode: Ephemeral, Secret: testSecret(t)}, "Mode is ephemeral")
	f(Options{Mode: 7}, "unknown Mode(7)")
	f(Options{Period: time.Second}, "Period 1s")
	f(Options{Period: 90*time.Second + time.Millisecond}, "whole seconds")
	f(Options{VisitorPeriod: 400 * 24 * time.Hour}, "VisitorPeriod")
	f(Options{Grace: -time.Second}, "Grace")
	f(Options{Period: time.Minute, Grace: time.Minute}, "Grace")
	// Several problems are reported together.
	f(Options{Mode: Derived, Period: time.Second, Grace: -1}, "needs a Secret", "Period 1s", "Grace")

	for _, s := range []string{"ephemeral", "derived"} {
		m, err := ParseMode(s)
		if err != nil || m.String() != s {
			t.Fatalf("ParseMode(%q) = %v, %v", s, m, err)
		}
	}
	if _, err := ParseMode("Derived"); err == nil {
		t.Fatal("ParseMode accepted Derived")
	}
	k := newKeyring(t, Options{Mode: Derived, Secret: testSecret(t), Period: time.Hour})
	if s := k.String(); s != "pseudonym.Keyring(mode=derived, period=1h0m0s, visitorPeriod=24h0m0s)" {
		t.Fatalf("String() = %s", s)
	}
}

func TestFloorDiv(t *testing.T) {
	f := func(a, b, want int64) {
		t.Helper()
		if got := floorDiv(a, b); got != want {
			t.Fatalf("floorDiv(%d, %d) = %d; want %d", a, b, got, want)
		}
	}
	f(0, 86400, 0)
	f(86399, 86400, 0)
	f(86400, 86400, 1)
	f(-1, 86400, -1)
	f(-86400, 86400, -1)
	f(-86401, 86400, -2)
}

// TestRotationAtEveryInstant runs key rotation at each clock-shift instant:
// derived keys match the reference derivation for the instant's period and
// the next, and ephemeral keys rotate at the next boundary, stay usable for
// late events within the grace and are forgotten after it.
func TestRotationAtEveryInstant(t *testing.T) {
	for _, in := range clocktest.Instants {
		t.Run(in.Name, func(t *testing.T) {
			now := in.Time
			for _, period := range []time.Duration{time.Hour, 24 * time.Hour} {
				start := now.Truncate(period)
				boundary := start.Add(period)
				site, id := []byte("shop.example"), []byte("user-42")

				d := newKeyring(t, Options{Mode: Derived, Secret: testSecret(t), Period: period, Clock: clock.Fixed(now)})
				for _, at := range []time.Time{now, start, boundary.Add(-time.Nanosecond), boundary, boundary.Add(period / 2), start.Add(-time.Second)} {
					want := refPseudonym(refKey("pseudonym", period, at), "shop.example", "user-42")
					if got := string(d.AppendPseudonym(nil, site, id, at)); got != want {
						t.Fatalf("derived, period %v, at %v: %s; want %s", period, at, got, want)
					}
				}

				e := newKeyring(t, Options{Period: period, Clock: clock.Fixed(now)})
				p := func(at time.Time) string { return string(e.AppendPseudonym(nil, site, id, at)) }
				cur := p(now)
				if len(cur) != EncodedLen || p(start) != cur {
					t.Fatalf("ephemeral, period %v: %q is not one key for the period", period, cur)
				}
				next := p(boundary)
				if len(next) != EncodedLen || next == cur {
					t.Fatalf("ephemeral, period %v: boundary %v did not rotate (%q, %q)", period, boundary, cur, next)
				}
				if got := p(boundary.Add(-time.Second)); got != cur {
					t.Fatalf("ephemeral, period %v: late event within grace: %q; want %q", period, got, cur)
				}
				e.Rotate(boundary.Add(DefaultGrace))
				if got := p(boundary.Add(-time.Second)); got != "" {
					t.Fatalf("ephemeral, period %v: late event after grace: %q; want nothing", period, got)
				}
				if got := p(boundary.Add(period - time.Nanosecond)); got != next {
					t.Fatalf("ephemeral, period %v: %q; want %q", period, got, next)
				}
			}
		})
	}
}

// TestKeyErrWhenTheClockStepsBackAcrossABoundary: in ephemeral mode a
// clock stepped back (NTP) across a period boundary, past the grace, lands
// in a period whose key is forgotten for good: events are written without
// pseudonyms and visitor hashes until the clock reaches the period it had
// left. KeyErr must say so, as it does for every other period without a
// key, or the gateway's beacongate_pseudonym_keys_unavailable stays 0 and
// nothing tells the operator. Once the clock is back in the current
// period, KeyErr is nil again.
func TestKeyErrWhenTheClockStepsBackAcrossABoundary(t *testing.T) {
	boundary := day0.Add(24 * time.Hour)
	k := newKeyring(t, Options{Clock: clock.Fixed(boundary.Add(time.Hour))})
	if err := k.KeyErr(boundary.Add(time.Hour)); err != nil {
		t.Fatalf("current period: KeyErr = %v", err)
	}
	back := boundary.Add(-5 * time.Minute) // stepped back an hour and 5 minutes
	k.Rotate(back)
	if got := k.AppendPseudonym(nil, []byte("s"), []byte("u"), back); len(got) != 0 {
		t.Fatalf("a forgotten period gives the pseudonym %q", got)
	}
	err := k.KeyErr(back)
	if err == nil || !strings.Contains(err.Error(), "pseudonym key") || !strings.Contains(err.Error(), "visitor key") ||
		!strings.Contains(err.Error(), "clock") {
		t.Fatalf("clock stepped back into a forgotten period: KeyErr = %v; want both keys named, and the clock", err)
	}
	k.Rotate(boundary)
	if err := k.KeyErr(boundary); err != nil {
		t.Fatalf("back in the current period: KeyErr = %v", err)
	}
	// Stepped back within the grace, the previous period still has its
	// key: no error.
	k2 := newKeyring(t, Options{Clock: clock.Fixed(boundary.Add(-time.Minute))})
	k2.Rotate(boundary.Add(2 * time.Second))
	if err := k2.KeyErr(boundary.Add(-time.Second)); err != nil || len(k2.AppendPseudonym(nil, []byte("s"), []byte("u"), boundary.Add(-time.Second))) == 0 {
		t.Fatalf("within the grace: KeyErr = %v", err)
	}
}
