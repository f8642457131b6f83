package pseudonym

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestMemoDifferential: every pseudonym and visitor hash the keyring
// returns, from its memo or not, equals the HMAC computed directly with the
// period's key, over inputs that repeat, evict one another from the memo's
// slots, and split the same bytes differently between their parts.
func TestMemoDifferential(t *testing.T) {
	for _, mode := range []Mode{Derived, Ephemeral} {
		t.Run(mode.String(), func(t *testing.T) {
			opts := Options{Mode: mode}
			if mode == Derived {
				opts.Secret = testSecret(t)
			}
			k := newKeyring(t, opts)
			now := day0.Add(12 * time.Hour)
			rng := rand.New(rand.NewPCG(1, 2))
			sites := [][]byte{[]byte("shop.example"), []byte("shop.exampl"), []byte("")}
			var ids, ips, uas [][]byte
			for i := range 6 * memoSlots { // three times the slots in distinct inputs of each kind
				ids = append(ids, fmt.Appendf(nil, "user-%d", i))
				ips = append(ips, fmt.Appendf(nil, "10.%d.%d.0", i/256, i%256))
				uas = append(uas, fmt.Appendf(nil, `{"browser":"b%d"}`, i%50))
			}
			check := func(got, want []byte, what string) {
				t.Helper()
				if !bytes.Equal(got, want) {
					t.Fatalf("%s: %q from the keyring, %q computed directly", what, got, want)
				}
			}
			// The same bytes split differently between address and
			// agent, one after the other: the second must not get the
			// first's hash from the memo.
			for _, c := range [][2]string{{"1.2.3.0{", `"x"}`}, {"1.2.3.0", `{"x"}`}} {
				ip, ua := []byte(c[0]), []byte(c[1])
				check(k.AppendVisitorHash(nil, sites[0], ip, ua, now),
					appendVisitorHashOf(nil, k.visitor.state(now.Unix()), sites[0], ip, ua), "visitor hash of a split")
			}
			for range 40000 {
				site := sites[rng.IntN(len(sites))]
				// A skewed choice: a few inputs come back often.
				i := min(rng.IntN(len(ids)), rng.IntN(len(ids)))
				j := min(rng.IntN(len(ips)), rng.IntN(len(ips)))
				u := rng.IntN(len(uas))
				check(k.AppendPseudonym(nil, site, ids[i], now),
					appendPseudonymOf(nil, k.ids.state(now.Unix()), site, ids[i]), "pseudonym")
				check(k.AppendVisitorHash(nil, site, ips[j], uas[u], now),
					appendVisitorHashOf(nil, k.visitor.state(now.Unix()), site, ips[j], uas[u]), "visitor hash")
			}
			hits, misses := k.MemoStats(now)
			if hits == 0 || misses == 0 {
				t.Fatalf("memo hits %d, misses %d: the test did not exercise both", hits, misses)
			}
		})
	}
}

// TestMemoPerPeriod: the next period's key answers with its own hashes, not
// the ones the previous period's memo holds for the same input.
func TestMemoPerPeriod(t *testing.T) {
	k := newKeyring(t, Options{Mode: Derived, Secret: testSecret(t)})
	site, ip, ua, id := []byte("shop.example"), []byte("203.0.113.0"), []byte("Firefox"), []byte("u1")
	day1, day2 := day0.Add(time.Hour), day0.Add(25*time.Hour)
	v1 := k.AppendVisitorHash(nil, site, ip, ua, day1)
	p1 := k.AppendPseudonym(nil, site, id, day1)
	if got := k.AppendVisitorHash(nil, site, ip, ua, day1); !bytes.Equal(got, v1) {
		t.Fatalf("the memo changed a visitor hash: %q, then %q", v1, got)
	}
	v2 := k.AppendVisitorHash(nil, site, ip, ua, day2)
	p2 := k.AppendPseudonym(nil, site, id, day2)
	if bytes.Equal(v1, v2) || bytes.Equal(p1, p2) {
		t.Fatal("the next period gave the previous period's hash")
	}
	if want := appendVisitorHashOf(nil, k.visitor.state(day2.Unix()), site, ip, ua); !bytes.Equal(v2, want) {
		t.Fatalf("next period's visitor hash %q, want %q", v2, want)
	}
}

// TestMemoForgottenWithKey: in ephemeral mode a period's memo goes with its
// key: once the key is forgotten, no hash of that period comes back, memo
// or not.
func TestMemoForgottenWithKey(t *testing.T) {
	k := newKeyring(t, Options{Mode: Ephemeral})
	site, ip, ua := []byte("shop.example"), []byte("203.0.113.0"), []byte("Firefox")
	day1 := day0.Add(time.Hour)
	if v := k.AppendVisitorHash(nil, site, ip, ua, day1); len(v) != EncodedLen {
		t.Fatalf("visitor hash %q", v)
	}
	k.Rotate(day0.Add(24*time.Hour + DefaultGrace + time.Second))
	if v := k.AppendVisitorHash(nil, site, ip, ua, day1); len(v) != 0 {
		t.Fatalf("a forgotten period's visitor hash came back: %q", v)
	}
}
