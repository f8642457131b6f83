package pseudonym

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beacongate/beacongate/clock"
)

// slowSink is an audit sink that does not return until released, like an
// audit log stuck in fsync on a slow disk.
type slowSink struct {
	release chan struct{}
	mu      sync.Mutex
	names   []string
}

func (s *slowSink) create(name string) {
	<-s.release
	s.mu.Lock()
	s.names = append(s.names, name)
	s.mu.Unlock()
}

// countingKeys counts the key lookups that reach the store.
type countingKeys struct {
	KeySource
	n atomic.Int64
}

func (c *countingKeys) PeriodKey(purpose string, period, idx int64) ([]byte, error) {
	c.n.Add(1)
	return c.KeySource.PeriodKey(purpose, period, idx)
}

// noBlock fails the test if fn does not return while the sink is held: a
// guard against a deadlock, not a measure of speed.
func noBlock(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { fn(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s is still waiting for the audit sink after 30 s: the audit write is on the request path", what)
	}
}

// TestKeyStoreAuditOffRequestPath: the audit line of a new key is written
// by a goroutine of the store, never by the request that needed the key,
// and Rotate makes the next period's key ahead of need, so that the first
// request of a period neither waits for the audit sink nor touches the
// store. Flush waits for the sink and the lines come in creation order.
func TestKeyStoreAuditOffRequestPath(t *testing.T) {
	ks, err := OpenKeyStore(t.TempDir(), testSecret(t), upgradeAt, false)
	if err != nil {
		t.Fatal(err)
	}
	sink := &slowSink{release: make(chan struct{})}
	ks.OnCreate = sink.create
	keys := &countingKeys{KeySource: ks}
	day := 24 * time.Hour
	day1 := upgradeAt.Truncate(day).Add(day) // the first period with stored keys
	clk := clock.NewManual(day1.Add(time.Hour))
	var k *Keyring
	noBlock(t, "New", func() {
		k, err = New(Options{Mode: Derived, Secret: testSecret(t), Keys: keys, Clock: clk})
	})
	if err != nil {
		t.Fatal(err)
	}
	site, id := []byte("shop"), []byte("4711")

	// Fallback: a period nobody prepared (no Rotate ran) makes its key on
	// the request path, but still does not wait for the audit line.
	day2 := day1.Add(day)
	var p2 string
	noBlock(t, "the first request of an unprepared period", func() {
		p2 = string(k.AppendPseudonym(nil, site, id, day2.Add(time.Hour)))
	})
	if p2 == "" {
		t.Fatal("no pseudonym in the unprepared period")
	}

	// Ahead of need: near the end of day 2 the ticker's Rotate makes day 3's
	// keys; the first request of day 3 finds them ready.
	clk.Set(day2.Add(day - time.Minute))
	noBlock(t, "Rotate", func() { k.Rotate(clk.Now()) })
	before := keys.n.Load()
	day3 := day2.Add(day)
	var p3 string
	noBlock(t, "the first request of a prepared period", func() {
		p3 = string(k.AppendPseudonym(nil, site, id, day3))
		k.AppendVisitorHash(nil, site, []byte("203.0.113.0"), []byte("ua"), day3)
	})
	if n := keys.n.Load() - before; n != 0 {
		t.Errorf("the first request of a prepared period made %d key store lookups, want 0", n)
	}
	if p3 == "" || p3 == p2 {
		t.Errorf("day 3 pseudonym %q (day 2: %q)", p3, p2)
	}
	if st := ks.State("pseudonym", 86400, day3.Unix()/86400); st != KeyStored {
		t.Errorf("day 3's key is %v, want stored", st)
	}
	// The prepared key is the stored one: another instance agrees.
	if other := storeRing(t, ks, day3); pseudo(other, "4711", day3) != p3 {
		t.Error("the prepared key differs from the key in the store")
	}
	// The previous period still works right after the boundary.
	if got := pseudo(k, "4711", day3.Add(-time.Second)); got != pseudo(k, "4711", day2.Add(time.Hour)) || got == "" {
		t.Errorf("day 2 after the boundary gives %q", got)
	}

	close(sink.release)
	ks.Flush()
	sink.mu.Lock()
	defer sink.mu.Unlock()
	want := []string{
		keyName("pseudonym", 86400, day1.Unix()/86400), keyName("visitor", 86400, day1.Unix()/86400),
		keyName("pseudonym", 86400, day2.Unix()/86400), keyName("visitor", 86400, day2.Unix()/86400), // Rotate in day 2
		keyName("pseudonym", 86400, day3.Unix()/86400), keyName("visitor", 86400, day3.Unix()/86400),
	}
	if len(sink.names) != len(want) {
		t.Fatalf("audit lines %v, want %v", sink.names, want)
	}
	for i := range want {
		if sink.names[i] != want[i] {
			t.Errorf("audit line %d = %s, want %s", i, sink.names[i], want[i])
		}
	}
}
