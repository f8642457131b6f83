package pseudonym

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
)

// upgradeAt is when the key store is created in these tests: the middle of
// the UTC day 2026-03-10.
var upgradeAt = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func storeRing(t *testing.T, ks KeySource, now time.Time) *Keyring {
	t.Helper()
	o := Options{Mode: Derived, Secret: testSecret(t), Clock: clock.Fixed(now)}
	if ks != nil {
		o.Keys = ks
	}
	k, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pseudo(k *Keyring, id string, at time.Time) string {
	return string(k.AppendPseudonym(nil, []byte("shop"), []byte(id), at))
}

// TestKeyStoreKeepsPseudonymsAcrossUpgrade: a derived-mode deployment that
// turns the key store on keeps the pseudonyms of the running period and of
// earlier ones; the periods after the upgrade get fresh random keys.
func TestKeyStoreKeepsPseudonymsAcrossUpgrade(t *testing.T) {
	before := storeRing(t, nil, upgradeAt)
	ks, err := OpenKeyStore(t.TempDir(), testSecret(t), upgradeAt, false)
	if err != nil {
		t.Fatal(err)
	}
	after := storeRing(t, ks, upgradeAt)
	for _, at := range []time.Time{upgradeAt, upgradeAt.Add(-11 * time.Hour), upgradeAt.Add(-30 * 24 * time.Hour)} {
		if a, b := pseudo(before, "4711", at), pseudo(after, "4711", at); a != b || a == "" {
			t.Errorf("%v: pseudonym %q before the upgrade, %q after", at, a, b)
		}
	}
	next := upgradeAt.Add(24 * time.Hour)
	if a, b := pseudo(before, "4711", next), pseudo(after, "4711", next); a == b || b == "" {
		t.Errorf("the day after the upgrade still uses the derived key: %q %q", a, b)
	}
	if st := ks.State("pseudonym", 86400, next.Unix()/86400); st != KeyStored {
		t.Errorf("state of the next day = %v, want stored", st)
	}
}

// TestKeyStoreSharedByInstances: two instances on one directory agree on
// a new period's random key; one with another secret is refused.
func TestKeyStoreSharedByInstances(t *testing.T) {
	dir := t.TempDir()
	var created []string
	ks1, err := OpenKeyStore(dir, testSecret(t), upgradeAt, false)
	if err != nil {
		t.Fatal(err)
	}
	ks1.OnCreate = func(n string) { created = append(created, n) }
	ks2, err := OpenKeyStore(dir, testSecret(t), upgradeAt.Add(time.Hour), false)
	if err != nil {
		t.Fatal(err)
	}
	if !ks2.Created().Equal(upgradeAt) {
		t.Errorf("second instance sees creation %v, want %v", ks2.Created(), upgradeAt)
	}
	at := upgradeAt.Add(72 * time.Hour)
	a, b := pseudo(storeRing(t, ks1, at), "4711", at), pseudo(storeRing(t, ks2, at), "4711", at)
	if a != b || a == "" {
		t.Errorf("instances disagree: %q %q", a, b)
	}
	ks1.Flush()            // OnCreate runs on the store's goroutine
	if len(created) != 2 { // pseudonym and visitor keys of that day
		t.Errorf("keys created by instance 1: %v", created)
	}
	other, _ := NewSecret(bytes.Repeat([]byte{7}, 40))
	if _, err := OpenKeyStore(dir, other, at, false); err == nil {
		t.Error("a store made with another secret opened")
	}
}

// TestKeyStoreForget: after Forget no one computes a forgotten period's
// pseudonyms again: the key file is gone, the gateway writes none, and
// even resetting the watermark only makes a new, unrelated key.
func TestKeyStoreForget(t *testing.T) {
	dir := t.TempDir()
	ks, err := OpenKeyStore(dir, testSecret(t), upgradeAt, false)
	if err != nil {
		t.Fatal(err)
	}
	day1, day2 := upgradeAt.Add(24*time.Hour), upgradeAt.Add(48*time.Hour)
	p1 := pseudo(storeRing(t, ks, day1), "4711", day1)
	p2 := pseudo(storeRing(t, ks, day2), "4711", day2)
	midnight2 := day2.Truncate(24 * time.Hour)
	gone, err := ks.Forget(midnight2)
	if err != nil {
		t.Fatal(err)
	}
	if len(gone) != 2 {
		t.Errorf("Forget destroyed %v, want day 1's two keys", gone)
	}
	if got := pseudo(storeRing(t, ks, day2), "4711", day1); got != "" {
		t.Errorf("forgotten day still gives a pseudonym %q", got)
	}
	if got := pseudo(storeRing(t, ks, day2), "4711", day2); got != p2 {
		t.Errorf("day 2 changed: %q, want %q", got, p2)
	}
	if st := ks.State("pseudonym", 86400, day1.Unix()/86400); st != KeyDestroyed {
		t.Errorf("state %v, want destroyed", st)
	}
	if st := ks.State("pseudonym", 86400, upgradeAt.Unix()/86400); st != KeyDestroyed {
		t.Errorf("upgrade day (derived) state %v, want destroyed", st)
	}
	// An earlier date never brings keys back.
	if _, err := ks.Forget(upgradeAt); err != nil || !ks.Forgotten().Equal(midnight2) {
		t.Errorf("watermark lowered to %v (%v)", ks.Forgotten(), err)
	}
	// Someone with the secret deletes the watermark: day 1 gets a new key,
	// never the old pseudonym.
	os.Remove(filepath.Join(dir, "forgotten"))
	if got := pseudo(storeRing(t, ks, day1), "4711", day1); got == p1 || got == "" {
		t.Errorf("after resetting the watermark day 1 gives %q; the old pseudonym was %q", got, p1)
	}
}

// TestKeyStoreReadOnly never creates a key: a lookup for a day without
// events finds none.
func TestKeyStoreReadOnly(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenKeyStore(dir, testSecret(t), upgradeAt, true); err == nil {
		t.Fatal("read-only open of a missing store succeeded")
	}
	if _, err := OpenKeyStore(dir, testSecret(t), upgradeAt, false); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenKeyStore(dir, testSecret(t), upgradeAt, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.PeriodKey("pseudonym", 86400, upgradeAt.Unix()/86400+5); err != ErrKeyMissing {
		t.Errorf("read-only PeriodKey of a future day: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("read-only store wrote files: %v", ents)
	}
}

// FuzzParseKeyName: a name parses only as keyName spells it (so Forget
// destroys exactly the files PeriodKey reads and writes, never a look-alike
// such as pseudonym-+86400s-020522.key), and every name keyName makes for a
// period that can end parses back to its parts.
func FuzzParseKeyName(f *testing.F) {
	f.Add("pseudonym-86400s-20522.key", "pseudonym", int64(86400), int64(20522))
	f.Add("visitor-60s--3.key", "visitor", int64(60), int64(-3))
	f.Add("x-0s-1.key", "x", int64(0), int64(1))
	f.Add("pseudonym-+86400s-020522.key", "", int64(1), int64(0))
	f.Add("pseudonym-86400s-9223372036854775807.key", "pseudonym", int64(86400), int64(9223372036854775807/86400-1))
	f.Fuzz(func(t *testing.T, name, purpose string, period, idx int64) {
		if p, per, i, ok := parseKeyName(name); ok {
			if keyName(p, per, i) != name {
				t.Fatalf("%q parsed as %q %d %d, which is %q", name, p, per, i, keyName(p, per, i))
			}
			if per <= 0 || i < 0 || i >= math.MaxInt64/per {
				t.Fatalf("%q: period %d, index %d", name, per, i)
			}
		}
		if strings.Contains(purpose, "-") || period <= 0 || idx < 0 || idx >= math.MaxInt64/period {
			return
		}
		n := keyName(purpose, period, idx)
		if p, per, i, ok := parseKeyName(n); !ok || p != purpose || per != period || i != idx {
			t.Fatalf("%q parsed as %q %d %d %v", n, p, per, i, ok)
		}
	})
}

// TestDropBeforeStopsARunningKeyring: a keyring that cached yesterday's
// key stops using it once the key was destroyed in the store and
// DropBefore is called.
func TestDropBeforeStopsARunningKeyring(t *testing.T) {
	ks, err := OpenKeyStore(t.TempDir(), testSecret(t), upgradeAt, false)
	if err != nil {
		t.Fatal(err)
	}
	day1, day2 := upgradeAt.Add(24*time.Hour), upgradeAt.Add(48*time.Hour)
	k := storeRing(t, ks, day1)
	if pseudo(k, "4711", day1) == "" || pseudo(k, "4711", day2) == "" {
		t.Fatal("no pseudonyms")
	}
	midnight2 := day2.Truncate(24 * time.Hour)
	if _, err := ks.Forget(midnight2); err != nil {
		t.Fatal(err)
	}
	if pseudo(k, "4711", day1) == "" {
		t.Fatal("the cached key was dropped without DropBefore; this test no longer tests anything")
	}
	k.DropBefore(midnight2)
	if got := pseudo(k, "4711", day1); got != "" {
		t.Errorf("after DropBefore the destroyed day still gives %q", got)
	}
	if pseudo(k, "4711", day2) == "" {
		t.Error("DropBefore dropped the current day")
	}
}

// TestForgetDestroysLeftTemporaryKeys: a key is written to a temporary
// file and linked under its name; a crash before the temporary file is
// removed leaves a second copy of the wrapped key. Forget must destroy that
// copy too, or whoever holds the secret can still unwrap the key of a
// period the officer was told was destroyed.
func TestForgetDestroysLeftTemporaryKeys(t *testing.T) {
	dir := t.TempDir()
	ks, err := OpenKeyStore(dir, testSecret(t), upgradeAt, false)
	if err != nil {
		t.Fatal(err)
	}
	day := upgradeAt.Add(48*time.Hour).Unix() / 86400
	if _, err := ks.PeriodKey("pseudonym", 86400, day); err != nil {
		t.Fatal(err)
	}
	name := keyName("pseudonym", 86400, day)
	wrapped, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	// What createOnce leaves when the process dies after the link.
	left := filepath.Join(dir, name+".4242.tmp")
	if err := os.WriteFile(left, wrapped, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Forget(time.Unix((day+1)*86400, 0)); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != "meta.json" && e.Name() != "forgotten" && e.Name() != "forgotten.lock" {
			t.Errorf("%s is left after its period was forgotten", e.Name())
		}
	}
}

// TestDamagedWatermarkFailsClosed: the forgotten watermark is what keeps
// the keys of destroyed periods that began before the store was created
// (derived from the secret) from being derived again. A watermark file
// that cannot be read as a number (damaged, half-restored from a backup)
// was read as "nothing forgotten": the store derived those keys again
// and reported them "derived", and the next Forget wrote a lower
// watermark over it. A damaged watermark now makes PeriodKey and Forget
// fail, and State say destroyed, until it is repaired.
func TestDamagedWatermarkFailsClosed(t *testing.T) {
	dir := t.TempDir()
	ks, err := OpenKeyStore(dir, testSecret(t), upgradeAt, false)
	if err != nil {
		t.Fatal(err)
	}
	day := int64(86400)
	old := upgradeAt.Add(-5*24*time.Hour).Unix() / day // a day before the store, keyed from the secret
	if _, err := ks.Forget(upgradeAt.Add(-24 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.PeriodKey("pseudonym", day, old); err != ErrKeyDestroyed {
		t.Fatalf("PeriodKey of a forgotten day = %v; want ErrKeyDestroyed", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "forgotten"), []byte("17733\x00\x00\n"), 0o600); err != nil { // damaged
		t.Fatal(err)
	}
	if k, err := ks.PeriodKey("pseudonym", day, old); err == nil {
		t.Errorf("PeriodKey of a forgotten day with a damaged watermark = %x, nil; want an error (derived again)", k)
	}
	if st := ks.State("pseudonym", day, old); st != KeyDestroyed {
		t.Errorf("State of a forgotten day with a damaged watermark = %v; want destroyed", st)
	}
	if _, err := ks.Forget(upgradeAt.Add(-10 * 24 * time.Hour)); err == nil {
		t.Error("Forget over a damaged watermark succeeded (and wrote a lower one)")
	}
	b, _ := os.ReadFile(filepath.Join(dir, "forgotten"))
	if !bytes.Contains(b, []byte{0}) {
		t.Errorf("Forget rewrote the damaged watermark: %q", b)
	}
}

// TestConcurrentForgetsNeverLowerTheWatermark: keys forget (the CLI) and
// the key_retention sweep of one or more gateways sharing the store can
// Forget at the same time. Each read the watermark, took the larger of it
// and its own -before, and renamed one shared forgotten.tmp over it: the
// one that wrote last won, so a sweep's older limit could replace the
// officer's newer one, and the forgotten periods keyed from the secret
// were derived again (or a Forget failed: the other had renamed the
// .tmp away). The watermark must end at the largest -before.
func TestConcurrentForgetsNeverLowerTheWatermark(t *testing.T) {
	dir := t.TempDir()
	ks, err := OpenKeyStore(dir, testSecret(t), upgradeAt, false)
	if err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		const n = 8
		errs := make(chan error, n)
		top := upgradeAt.Add(-time.Duration(round) * time.Hour)
		for i := range n {
			go func() {
				// One of them (i == 0) forgets the most.
				_, err := ks.Forget(top.Add(-time.Duration(i) * 24 * time.Hour))
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: concurrent Forget: %v", round, err)
			}
		}
		// The largest -before of all rounds is round 0's first.
		if got := ks.Forgotten(); !got.Equal(upgradeAt) {
			t.Fatalf("round %d: watermark %v after concurrent Forgets; want the largest, %v", round, got, upgradeAt)
		}
	}
}

// TestKeyErrSaysWhyThereIsNoKey: a key store whose watermark lies past now
// (key_retention ran while the clock was ahead, then the clock was set
// right) refuses the current period's key, and the keyring writes no
// pseudonym and no visitor hash; KeyErr says so, so that the gateway can
// tell the operator, and is nil again once a period has its key.
func TestKeyErrSaysWhyThereIsNoKey(t *testing.T) {
	ks, err := OpenKeyStore(t.TempDir(), testSecret(t), upgradeAt, false)
	if err != nil {
		t.Fatal(err)
	}
	ahead := upgradeAt.Add(72 * time.Hour)
	if _, err := ks.Forget(ahead); err != nil {
		t.Fatal(err)
	}
	now := upgradeAt.Add(time.Hour)
	k := storeRing(t, ks, now)
	if got := pseudo(k, "4711", now); got != "" {
		t.Fatalf("a destroyed period gives the pseudonym %q", got)
	}
	err = k.KeyErr(now)
	if !errors.Is(err, ErrKeyDestroyed) || !strings.Contains(err.Error(), "pseudonym key") || !strings.Contains(err.Error(), "visitor key") {
		t.Fatalf("KeyErr = %v; want both keys destroyed", err)
	}
	later := ahead.Add(time.Hour)
	k.Rotate(later)
	if err := k.KeyErr(later); err != nil || pseudo(k, "4711", later) == "" {
		t.Fatalf("after the watermark: KeyErr = %v, pseudonym %q", err, pseudo(k, "4711", later))
	}
	// A keyring with its keys says nothing.
	if err := storeRing(t, nil, now).KeyErr(now); err != nil {
		t.Fatalf("derived keys without a store: KeyErr = %v", err)
	}
}
