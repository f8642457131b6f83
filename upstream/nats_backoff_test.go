package upstream

import (
	"testing"
	"time"
)

// TestNATSReconnectBacksOff: while every NATS server is down, the
// connection tried again every 250 ms (and up to 100 ms of jitter): some
// 12,000 attempts an hour per gateway against a server that is down. The
// wait now doubles from 250 ms to 5 s, each with up to a quarter more at
// random, so an hour takes about 720-900 rounds and a recovered server is
// found within 6.25 s.
func TestNATSReconnectBacksOff(t *testing.T) {
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i, w := range want {
		if got := natsReconnectDelay(i+1, 0); got != w {
			t.Errorf("round %d: %v; want %v", i+1, got, w)
		}
		if got := natsReconnectDelay(i+1, 0.999); got <= w || got > w+w/4 {
			t.Errorf("round %d with jitter: %v; want in (%v, %v]", i+1, got, w, w+w/4)
		}
	}
	for _, n := range []int{0, -1, 1 << 30} {
		if got := natsReconnectDelay(n, 0); got < 250*time.Millisecond || got > 5*time.Second {
			t.Errorf("round %d: %v", n, got)
		}
	}
	rounds, elapsed := 0, time.Duration(0)
	for elapsed < time.Hour {
		rounds++
		elapsed += natsReconnectDelay(rounds, 0)
	}
	if rounds > 800 {
		t.Errorf("%d rounds in an hour without jitter; want at most 800", rounds)
	}
}
