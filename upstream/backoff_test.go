package upstream

import (
	"errors"
	"testing"
	"time"
)

// TestBackoffOverAnHour adds up the shipper's waits between the attempts of
// one batch through a simulated hour of failures (no real time passes):
// the waits grow to RetryOptions.Max and stay below it, jittered, so that
// an hour costs about 150 attempts with the defaults, never a tight loop;
// a destination's Retry-After is waited out, up to MaxRetryAfter.
func TestBackoffOverAnHour(t *testing.T) {
	newSh := func(r RetryOptions) *shipper {
		r.resolve()
		return &shipper{opts: DestinationOptions{Retry: r}}
	}
	hour := func(sh *shipper, err error) (attempts int, shortest, longest time.Duration, distinct int) {
		seen := map[time.Duration]bool{}
		shortest = time.Hour
		for total := time.Duration(0); total < time.Hour; attempts++ {
			d := sh.backoff(attempts, err)
			if d <= 0 {
				t.Fatalf("attempt %d: wait %v", attempts, d)
			}
			total += d
			shortest, longest = min(shortest, d), max(longest, d)
			seen[d] = true
		}
		return attempts, shortest, longest, len(seen)
	}

	sh := newSh(RetryOptions{}) // 100 ms doubling to 30 s, half of each random
	n, lo, hi, distinct := hour(sh, errors.New("HTTP 503"))
	if n < 110 || n > 260 || lo < 50*time.Millisecond || hi > 30*time.Second || distinct < n/2 {
		t.Fatalf("defaults: %d attempts in an hour, waits %v..%v, %d distinct; want about 150 of 50ms..30s, jittered", n, lo, hi, distinct)
	}
	t.Logf("defaults: %d attempts in a simulated hour, waits %v..%v", n, lo, hi)

	// The waits stay at the cap however long the outage (attempt counts
	// of days), and are never 0: no shift overflows into a tight loop.
	for _, r := range []RetryOptions{{}, {Initial: time.Minute, Max: time.Hour}, {Initial: time.Millisecond, Max: time.Millisecond}} {
		sh := newSh(r)
		for _, attempt := range []int{30, 31, 62, 63, 64, 1000, 1 << 20} {
			if d := sh.backoff(attempt, nil); d < sh.opts.Retry.Max/2 || d > sh.opts.Retry.Max {
				t.Fatalf("%+v: attempt %d waits %v; want %v..%v", r, attempt, d, sh.opts.Retry.Max/2, sh.opts.Retry.Max)
			}
		}
	}

	// Retry-After is honoured as sent, and bounded by MaxRetryAfter.
	f := func(ra, want time.Duration) {
		t.Helper()
		if d := sh.backoff(3, RetryAfter(errors.New("HTTP 429"), ra)); d != want {
			t.Fatalf("Retry-After %v: wait %v, want %v", ra, d, want)
		}
	}
	f(90*time.Second, 90*time.Second)
	f(10*time.Minute, 10*time.Minute)
	f(6*time.Hour, 10*time.Minute) // MaxRetryAfter's default
	// A Retry-After of 0 (or in the past) leaves the backoff: attempt 3
	// waits 400..800 ms.
	if d := sh.backoff(3, RetryAfter(errors.New("HTTP 429"), 0)); d < 400*time.Millisecond || d > 800*time.Millisecond {
		t.Fatalf("Retry-After 0: wait %v, want the backoff's 400ms..800ms", d)
	}
	if n, _, hi, _ := hour(sh, RetryAfter(errors.New("HTTP 503"), 6*time.Hour)); n != 6 || hi != 10*time.Minute {
		t.Fatalf("Retry-After: 6h: %d attempts an hour, longest wait %v; want 6 of 10m", n, hi)
	}
}
