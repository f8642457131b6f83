// Package suppress holds the list of suppressed subjects: people whose
// events are dropped on arrival, before anything else, after an erasure or
// objection request. The list file holds keyed hashes only (see
// pseudonym.SubjectKey), one per line in hexadecimal; the identifiers
// themselves are never stored.
//
// Two kinds of hash share the list and its format: a subject on one site
// (SubjectHash: a user, client or device id exactly as sent, matched on
// that site only), and a store device on every site (DeviceHash: a MAC in
// any notation or an advertising id in any case, for shoppers who asked
// not to be counted; this replaces the retail opt-out list). They cannot
// collide: a device hash is keyed with the site "*", which no site id can
// be.
package suppress

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/internal/atomicfile"
	"github.com/beacongate/beacongate/internal/flock"
	"github.com/beacongate/beacongate/retail"
)

// Hash is a subject's keyed hash.
type Hash [pseudonym.SubjectSumLen]byte

// SubjectHash is the hash of identifier id (user, client or device id,
// exactly as sent) on site.
func SubjectHash(key *pseudonym.SubjectKey, site, id []byte) Hash {
	return Hash(key.Sum(site, id))
}

// deviceSite keys device hashes: site ids start with a letter or digit
// (config validation), so "*" is no site's.
var deviceSite = []byte("*")

// maxDeviceID is the longest device id normalised before hashing; a
// longer one (no MAC, no advertising id is) is hashed as sent.
const maxDeviceID = 128

// DeviceHash is the hash of a store device on every site: a MAC address in
// any notation (normalised to aa:bb:cc:dd:ee:ff) or another device id
// (advertising or app instance id) with ASCII letters lower-cased, as the
// BLE endpoint normalises them. It does not allocate (the normalised id
// goes to a pooled buffer: the hash's Write would move a local one to the
// heap).
func DeviceHash(key *pseudonym.SubjectKey, id []byte) Hash {
	buf := deviceBufs.Get().(*[maxDeviceID]byte)
	n, ok := retail.AppendMAC(buf[:0], id)
	if !ok {
		n = id
		if len(id) <= maxDeviceID {
			n = retail.AppendLowerASCII(buf[:0], id)
		}
	}
	h := Hash(key.Sum(deviceSite, n))
	clear(buf[:]) // a device id is personal data
	deviceBufs.Put(buf)
	return h
}

var deviceBufs = sync.Pool{New: func() any { return new([maxDeviceID]byte) }}

// maxFileSize bounds the list file: 4 MiB is about 120,000 subjects.
const maxFileSize = 4 << 20

// List answers whether an event belongs to a suppressed subject. It is
// safe for concurrent use; Suppressed takes no lock and does not allocate.
type List struct {
	key  *pseudonym.SubjectKey
	path string
	set  atomic.Pointer[map[Hash]struct{}]

	mu  sync.Mutex        // serializes Reload
	sum [sha256.Size]byte // of the file last read; zero: none

	suppressed prometheus.Counter
}

// Open reads the list at path (a missing file is an empty list) and
// registers beacongate_anonymize_suppressed_events_total with reg (nil: not
// registered).
func Open(path string, key *pseudonym.SubjectKey, reg prometheus.Registerer) (*List, error) {
	l := &List{key: key, path: path,
		suppressed: prometheus.NewCounter(prometheus.CounterOpts{Name: "beacongate_anonymize_suppressed_events_total",
			Help: "Events dropped on arrival because their user, client or device id is on the suppression list (subjects and store devices)."})}
	empty := map[Hash]struct{}{}
	l.set.Store(&empty)
	if _, err := l.Reload(); err != nil {
		return nil, err
	}
	if reg != nil {
		if err := reg.Register(l.suppressed); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Key returns the list's subject key.
func (l *List) Key() *pseudonym.SubjectKey { return l.key }

// Len returns how many subjects are suppressed.
func (l *List) Len() int { return len(*l.set.Load()) }

// Suppressed reports whether e's user id, client id or BLE device id is on
// the list as a subject of e's site, or its device id as a store device,
// and counts it. With an empty list it hashes nothing.
func (l *List) Suppressed(e *event.Event) bool {
	set := *l.set.Load()
	if len(set) == 0 {
		return false
	}
	for _, id := range [...][]byte{e.UserID, e.ClientID, e.Sighting.DeviceID} {
		if len(id) == 0 {
			continue
		}
		if _, ok := set[Hash(l.key.Sum(e.Site, id))]; ok {
			l.suppressed.Inc()
			return true
		}
	}
	if len(e.Sighting.DeviceID) > 0 {
		if _, ok := set[DeviceHash(l.key, e.Sighting.DeviceID)]; ok {
			l.suppressed.Inc()
			return true
		}
	}
	return false
}

// Reload re-reads the file and applies it if its content changed, and
// reports whether it did. On error the previous list stays; so it does
// when the file is gone while the list holds subjects (an error too): a
// missing file is an empty list only for a list that is empty. It compares
// the content, not the size and modification time: an edit that leaves
// the size alone (unsuppress one subject, suppress another) can keep the
// time too on a file system with coarse timestamps (a network volume).
func (l *List) Reload() (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.Open(l.path)
	if errors.Is(err, os.ErrNotExist) {
		if n := l.Len(); n > 0 {
			// Fail closed: nothing an officer runs removes the file
			// (unsuppress leaves an empty one), so a file gone is a
			// volume not mounted or a file moved, and an empty list
			// would track every suppressed subject again.
			return false, fmt.Errorf("suppress: %s does not exist, while the running list suppresses %d subject(s); the running list stays: restore the file (an empty file empties the list)", l.path, n)
		}
		l.sum = [sha256.Size]byte{}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("suppress: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return false, fmt.Errorf("suppress: %w", err)
	}
	if len(b) > maxFileSize {
		return false, fmt.Errorf("suppress: %s is larger than %d bytes", l.path, maxFileSize)
	}
	sum := sha256.Sum256(b)
	if sum == l.sum {
		return false, nil
	}
	set, err := Parse(b)
	if err != nil {
		return false, fmt.Errorf("suppress: %s: %w", l.path, err)
	}
	l.set.Store(&set)
	l.sum = sum
	return true, nil
}

// Parse reads a list: one hash per line in hexadecimal; blank lines and
// lines starting with '#' are ignored. Errors give the line number, never
// its content.
func Parse(b []byte) (map[Hash]struct{}, error) {
	set := map[Hash]struct{}{}
	// Lines are cut at each newline, whatever their length: a scanner's
	// token limit made a comment longer than 64 KiB refuse the whole list
	// with "bufio.Scanner: token too long", naming no line.
	for n := 1; len(b) > 0; n++ {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		var h Hash
		if len(line) != 2*len(h) {
			return nil, fmt.Errorf("line %d: not a subject hash (%d hexadecimal digits)", n, 2*len(h))
		}
		if _, err := hex.Decode(h[:], line); err != nil {
			return nil, fmt.Errorf("line %d: not a subject hash (%d hexadecimal digits)", n, 2*len(h))
		}
		set[h] = struct{}{}
	}
	return set, nil
}

// Edit adds (add true) or removes a hash in the file at path, atomically
// (a running gateway never reads half a file) and durably (the file and
// its directory are fsynced before it returns). It reports whether the
// file changed. Edits are serialized by an exclusive lock on path+".lock",
// so that two officers, or two instances sharing the list, editing at
// once both keep their change.
func Edit(path string, h Hash, add bool) (bool, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, fmt.Errorf("suppress: %w", err)
	}
	lf, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return false, fmt.Errorf("suppress: %w", err)
	}
	defer lf.Close() // releases the lock
	if err := flock.Lock(lf); err != nil {
		return false, fmt.Errorf("suppress: cannot lock %s: %w", lf.Name(), err)
	}
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("suppress: %w", err)
	}
	set, err := Parse(b)
	if err != nil {
		return false, fmt.Errorf("suppress: %s: %w", path, err)
	}
	if _, has := set[h]; has == add {
		return false, nil
	}
	line := hex.EncodeToString(h[:])
	var out strings.Builder
	if add {
		out.Write(b)
		if len(b) > 0 && b[len(b)-1] != '\n' {
			out.WriteByte('\n')
		}
		out.WriteString(line + "\n")
	} else {
		for _, l := range strings.SplitAfter(string(b), "\n") {
			// Parse reads hex in either letter case: a line written
			// in upper case (by hand, by another tool) is the same
			// hash, and must go too.
			if !strings.EqualFold(strings.TrimSpace(l), line) {
				out.WriteString(l)
			}
		}
	}
	if err := atomicfile.Write(path, []byte(out.String()), 0o600); err != nil {
		return false, fmt.Errorf("suppress: %w", err)
	}
	return true, nil
}

// Watch calls Reload every interval until stop is closed, and onChange
// (with the new length) after each reload that changed the list or failed.
func (l *List) Watch(stop <-chan struct{}, every time.Duration, onChange func(n int, err error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if changed, err := l.Reload(); changed || err != nil {
				onChange(l.Len(), err)
			}
		}
	}
}

// Collector returns the suppressed-events counter.
func (l *List) Collector() prometheus.Collector { return l.suppressed }
