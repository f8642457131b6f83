package pseudonym

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/beacongate/beacongate/internal/atomicfile"
	"github.com/beacongate/beacongate/internal/flock"
)

// KeySource supplies the period keys of derived mode instead of deriving
// them all from the Secret (Options.Keys). A KeyStore is one.
type KeySource interface {
	// PeriodKey returns the 32-byte key of period index (of length period
	// seconds) for purpose ("pseudonym" or "visitor"). An error means the
	// key does not exist (any more): no pseudonym is written.
	PeriodKey(purpose string, period, index int64) ([]byte, error)
}

// ErrKeyDestroyed is returned for a period whose key was destroyed.
var ErrKeyDestroyed = errors.New("pseudonym: the key of this period was destroyed")

// ErrKeyMissing is returned by a read-only KeyStore for a period that never
// had a key (no event was pseudonymized in it).
var ErrKeyMissing = errors.New("pseudonym: no key was made for this period")

// deriveKey is the derived-mode key of one period: HKDF-SHA256 of the
// secret. Every release before the key store used it for every period, and
// the key store still uses it for the periods that began before the store
// was created, so that pseudonyms do not change across the upgrade.
func deriveKey(secret Secret, purpose string, period, idx int64) ([]byte, error) {
	// info names the use, the period length and the period number, so
	// each (use, period) pair gets an independent key, and changing the
	// period length cannot reuse a key.
	info := "beacongate/" + purpose + "/v1 period=" + strconv.FormatInt(period, 10) +
		"s index=" + strconv.FormatInt(idx, 10)
	return hkdf.Key(sha256.New, secret.bytes(), []byte("beacongate pseudonym keys"), info, sha256.Size)
}

// KeyStore keeps one key per period in a directory, so that a period's key
// can be destroyed for good (Forget). Keys of periods that begin after the
// store was created are random and written to the directory wrapped
// (AES-256-GCM) by a key derived from the Secret: every instance that
// shares the directory (a shared volume) and holds the secret reads the
// same key, and once the file is deleted no one, not even the secret's
// holder, can recompute the period's pseudonyms. Periods that began before
// the store was created keep their HKDF keys, so existing pseudonyms stay
// the same; Forget makes the gateway refuse them, but whoever holds the
// secret can still derive them until the secret is retired.
//
// Layout: meta.json (creation time, a check value of the secret),
// forgotten (the destruction watermark, unix seconds), and one
// <purpose>-<period>s-<index>.key file per period.
type KeyStore struct {
	dir      string
	secret   Secret
	wrap     cipher.AEAD
	created  int64 // unix seconds
	readOnly bool
	// OnCreate, if set, is called after this process wrote a new key
	// (the audit log). It runs on a goroutine of the store, one call at a
	// time in creation order, never on the caller of PeriodKey: an audit
	// line is fsynced, and PeriodKey can be on a request's path. Set it
	// before the first PeriodKey; Flush waits for the calls pending.
	OnCreate func(name string)

	mu      sync.Mutex
	idle    sync.Cond // signalled when the notifier stops; L is &mu
	pending []string  // key names waiting for OnCreate
	running bool      // a notifier goroutine is draining pending
}

type storeMeta struct {
	Version int    `json:"version"`
	Created int64  `json:"created"`
	Check   string `json:"check"`
}

// OpenKeyStore opens the store in dir, creating it (stamped with now) if
// needed. It fails when the store was made with a different secret. A
// readOnly store never creates a directory or a key (for lookups).
func OpenKeyStore(dir string, secret Secret, now time.Time, readOnly bool) (*KeyStore, error) {
	if secret.Len() < MinSecretLen {
		return nil, errors.New("pseudonym: the key store needs the derived-mode secret")
	}
	wk, err := hkdf.Key(sha256.New, secret.bytes(), []byte("beacongate key store"), "wrap/v1", 32)
	if err != nil {
		return nil, err
	}
	blk, err := aes.NewCipher(wk)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, wk)
	m.Write([]byte("beacongate key store check"))
	check := hex.EncodeToString(m.Sum(nil)[:16])
	clear(wk)
	ks := &KeyStore{dir: dir, secret: secret, wrap: aead, readOnly: readOnly}
	ks.idle.L = &ks.mu
	metaPath := filepath.Join(dir, "meta.json")
	b, err := os.ReadFile(metaPath)
	if errors.Is(err, os.ErrNotExist) && !readOnly {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("pseudonym: cannot create the key store: %w", err)
		}
		nb, _ := json.Marshal(storeMeta{Version: 1, Created: now.Unix(), Check: check})
		if err := createOnce(metaPath, nb); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("pseudonym: cannot create the key store: %w", err)
		}
		b, err = os.ReadFile(metaPath) // another instance may have won the race
	}
	if err != nil {
		return nil, fmt.Errorf("pseudonym: cannot read the key store: %w", err)
	}
	var meta storeMeta
	if err := json.Unmarshal(b, &meta); err != nil || meta.Version != 1 {
		return nil, fmt.Errorf("pseudonym: %s is not a key store's meta.json", metaPath)
	}
	if !hmac.Equal([]byte(meta.Check), []byte(check)) {
		return nil, fmt.Errorf("pseudonym: the key store %s was made with another secret; use that secret, or another directory", dir)
	}
	ks.created = meta.Created
	return ks, nil
}

// Created returns when the store was created: periods that began earlier
// use keys derived from the secret.
func (ks *KeyStore) Created() time.Time { return time.Unix(ks.created, 0).UTC() }

// Dir returns the store's directory.
func (ks *KeyStore) Dir() string { return ks.dir }

func keyName(purpose string, period, idx int64) string {
	return purpose + "-" + strconv.FormatInt(period, 10) + "s-" + strconv.FormatInt(idx, 10) + ".key"
}

// KeyState says where a period's key comes from.
type KeyState uint8

const (
	// KeyDerived: the period began before the store was created; its key
	// is derived from the secret.
	KeyDerived KeyState = iota
	// KeyStored: a random key is in the store.
	KeyStored
	// KeyAbsent: no key was made (no event in that period, or one to come).
	KeyAbsent
	// KeyDestroyed: the key was destroyed (Forget).
	KeyDestroyed
)

// String returns derived, stored, absent or destroyed.
func (s KeyState) String() string {
	return [...]string{"derived", "stored", "absent", "destroyed"}[s]
}

// State returns where the key of period idx comes from. With a damaged
// watermark every period counts as destroyed, as PeriodKey refuses them.
func (ks *KeyStore) State(purpose string, period, idx int64) KeyState {
	if f, err := ks.forgotten(); err != nil || (idx+1)*period <= f {
		return KeyDestroyed
	}
	if idx*period < ks.created {
		return KeyDerived
	}
	if _, err := os.Stat(filepath.Join(ks.dir, keyName(purpose, period, idx))); err == nil {
		return KeyStored
	}
	return KeyAbsent
}

// PeriodKey implements KeySource.
func (ks *KeyStore) PeriodKey(purpose string, period, idx int64) ([]byte, error) {
	f, err := ks.forgotten()
	if err != nil {
		return nil, err // fail closed: the period may have been destroyed
	}
	if (idx+1)*period <= f {
		return nil, ErrKeyDestroyed
	}
	if idx*period < ks.created {
		return deriveKey(ks.secret, purpose, period, idx)
	}
	name := keyName(purpose, period, idx)
	path := filepath.Join(ks.dir, name)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if ks.readOnly {
			return nil, ErrKeyMissing
		}
		key := make([]byte, sha256.Size)
		if _, err := io.ReadFull(rand.Reader, key); err != nil {
			return nil, err
		}
		nonce := make([]byte, ks.wrap.NonceSize())
		if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
			return nil, err
		}
		err = createOnce(path, ks.wrap.Seal(nonce, nonce, key, []byte(name)))
		clear(key)
		switch {
		case err == nil:
			ks.announce(name)
		case !errors.Is(err, os.ErrExist):
			return nil, fmt.Errorf("pseudonym: cannot write key %s: %w", name, err)
		}
		b, err = os.ReadFile(path) // ours, or the one another instance wrote first
	}
	if err != nil {
		return nil, fmt.Errorf("pseudonym: cannot read key %s: %w", name, err)
	}
	ns := ks.wrap.NonceSize()
	if len(b) < ns {
		return nil, fmt.Errorf("pseudonym: key file %s is damaged", name)
	}
	key, err := ks.wrap.Open(nil, b[:ns], b[ns:], []byte(name))
	if err != nil {
		return nil, fmt.Errorf("pseudonym: key file %s does not open with this secret or is damaged", name)
	}
	return key, nil
}

// announce hands the name of a key this process wrote to OnCreate, on the
// notifier goroutine, starting it if none runs. It never waits for
// OnCreate.
func (ks *KeyStore) announce(name string) {
	if ks.OnCreate == nil {
		return
	}
	ks.mu.Lock()
	ks.pending = append(ks.pending, name)
	if !ks.running {
		ks.running = true
		go ks.notify()
	}
	ks.mu.Unlock()
}

// notify calls OnCreate for each pending name in order, then stops.
func (ks *KeyStore) notify() {
	ks.mu.Lock()
	for len(ks.pending) > 0 {
		name := ks.pending[0]
		ks.pending = ks.pending[1:]
		ks.mu.Unlock()
		ks.OnCreate(name)
		ks.mu.Lock()
	}
	ks.pending = nil
	ks.running = false
	ks.idle.Broadcast()
	ks.mu.Unlock()
}

// Flush waits until OnCreate has been called for every key created by the
// PeriodKey calls that have returned (at shutdown, so that no audit line is
// lost).
func (ks *KeyStore) Flush() {
	ks.mu.Lock()
	for ks.running {
		ks.idle.Wait()
	}
	ks.mu.Unlock()
}

// forgotten returns the destruction watermark: every period that ended at
// or before it has no key. 0 when nothing was forgotten. A watermark that
// cannot be read or is not a number is an error, never "nothing
// forgotten": reading it so would derive destroyed keys again.
func (ks *KeyStore) forgotten() (int64, error) {
	b, err := os.ReadFile(filepath.Join(ks.dir, "forgotten"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pseudonym: cannot read the key store's destruction watermark: %w", err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("pseudonym: the key store's destruction watermark %s is damaged; no key is given out until it is repaired (the unix seconds of the last -before)", filepath.Join(ks.dir, "forgotten"))
	}
	return n, nil
}

// Forgotten returns the destruction watermark (zero time: none, or a
// watermark that cannot be read, which PeriodKey refuses).
func (ks *KeyStore) Forgotten() time.Time {
	if f, err := ks.forgotten(); err == nil && f > 0 {
		return time.Unix(f, 0).UTC()
	}
	return time.Time{}
}

// Forget destroys the keys of every period that ended at or before
// before: it raises the watermark (never lowers it) and deletes their key
// files, and the temporary copies a crash left of them. It returns the
// names of the key files deleted.
func (ks *KeyStore) Forget(before time.Time) ([]string, error) {
	if ks.readOnly {
		return nil, errors.New("pseudonym: the key store was opened read-only")
	}
	// keys forget and the key_retention sweeps of the instances sharing
	// the store may Forget at once: each reads the watermark and writes a
	// larger one under this lock, so that none lowers another's.
	lf, err := os.OpenFile(filepath.Join(ks.dir, "forgotten.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pseudonym: cannot lock the forgotten periods: %w", err)
	}
	defer lf.Close() // releases the lock
	if err := flock.Lock(lf); err != nil {
		return nil, fmt.Errorf("pseudonym: cannot lock the forgotten periods: %w", err)
	}
	f, err := ks.forgotten()
	if err != nil {
		return nil, err // never lower it
	}
	w := max(before.Unix(), f)
	if err := atomicfile.Write(filepath.Join(ks.dir, "forgotten"), []byte(strconv.FormatInt(w, 10)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("pseudonym: cannot record the forgotten periods: %w", err)
	}
	ents, err := os.ReadDir(ks.dir)
	if err != nil {
		return nil, err
	}
	var gone []string
	for _, e := range ents {
		// A copy createOnce left (<key>.<random>.tmp, after a crash) is
		// the same wrapped key, or one never used: it goes with its
		// period, but is not counted as a key.
		name, copied := strings.CutSuffix(e.Name(), ".tmp")
		if i := strings.LastIndexByte(name, '.'); copied && i >= 0 {
			name = name[:i]
		}
		purpose, period, idx, ok := parseKeyName(name)
		if !ok || (idx+1)*period > w {
			continue
		}
		_ = purpose
		if err := os.Remove(filepath.Join(ks.dir, e.Name())); err != nil {
			return gone, fmt.Errorf("pseudonym: cannot destroy key %s: %w", e.Name(), err)
		}
		if !copied {
			gone = append(gone, e.Name())
		}
	}
	return gone, atomicfile.SyncDir(ks.dir)
}

func parseKeyName(n string) (purpose string, period, idx int64, ok bool) {
	base, found := strings.CutSuffix(n, ".key")
	if !found {
		return "", 0, 0, false
	}
	parts := strings.Split(base, "-")
	if len(parts) != 3 || !strings.HasSuffix(parts[1], "s") {
		return "", 0, 0, false
	}
	p, err1 := strconv.ParseInt(strings.TrimSuffix(parts[1], "s"), 10, 64)
	i, err2 := strconv.ParseInt(parts[2], 10, 64)
	// Only the names keyName makes, for a period whose end (i+1)*p is a
	// number: a look-alike (a sign, a leading zero) is not a key file
	// PeriodKey reads, and an index past that end compared as a period
	// ended long ago (the product wraps) in Forget.
	if err1 != nil || err2 != nil || p <= 0 || i < 0 || i >= math.MaxInt64/p || keyName(parts[0], p, i) != n {
		return "", 0, 0, false
	}
	return parts[0], p, i, true
}

// createOnce writes data to path unless path exists (os.ErrExist): through
// a temporary file and a hard link, so that no reader sees a partial file
// and of two instances racing exactly one wins. The temporary file,
// <path>.<random>.tmp, is created anew (O_EXCL, mode 0600) by each call: a
// name made of the process id alone was one file for instances sharing
// the store from containers, where each is process 1, so one instance
// truncated and rewrote the key another had just linked and used.
func createOnce(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if err := errors.Join(err, f.Close()); err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(path))
}

// DropBefore forgets the in-memory keys of periods that ended at or before
// t, so that a running gateway stops computing pseudonyms of periods whose
// keys were destroyed in the key store (by another process: beacongate keys
// forget). A derived keyring keeps the previous period's key for the whole
// current period; this is what drops it.
func (k *Keyring) DropBefore(t time.Time) {
	for _, s := range []*schedule{&k.ids, &k.visitor} {
		for {
			st := s.cur.Load()
			if st == nil || st.prev == nil || st.start > t.Unix() {
				break
			}
			p := *st
			p.prev = nil
			if s.cur.CompareAndSwap(st, &p) {
				break
			}
		}
	}
}
