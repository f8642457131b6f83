// Package suppress holds the list of suppressed subjects: people whose
// events are dropped on arrival, before anything else, after an erasure or
// objection request. The list file holds keyed hashes only (see
// pseudonym.SubjectKey), one per line in hexadecimal; the identifiers
// themselves are never stored.
package suppress

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/event"
)

// Hash is a subject's keyed hash.
type Hash [pseudonym.SubjectSumLen]byte

// maxFileSize bounds the list file: 4 MiB is about 120,000 subjects.
const maxFileSize = 4 << 20

// List answers whether an event belongs to a suppressed subject. It is
// safe for concurrent use; Suppressed takes no lock and does not allocate.
type List struct {
	key  *pseudonym.SubjectKey
	path string
	set  atomic.Pointer[map[Hash]struct{}]

	mu      sync.Mutex // serializes Reload
	modTime time.Time
	size    int64

	suppressed prometheus.Counter
}

// Open reads the list at path (a missing file is an empty list) and
// registers beacongate_anonymize_suppressed_events_total with reg (nil: not
// registered).
func Open(path string, key *pseudonym.SubjectKey, reg prometheus.Registerer) (*List, error) {
	l := &List{key: key, path: path,
		suppressed: prometheus.NewCounter(prometheus.CounterOpts{Name: "beacongate_anonymize_suppressed_events_total",
			Help: "Events dropped on arrival because their user, client or device id is on the suppression list."})}
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
// the list, and counts it. With an empty list it hashes nothing.
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
	return false
}

// Reload re-reads the file if its size or modification time changed, and
// reports whether it did. On error the previous list stays.
func (l *List) Reload() (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fi, err := os.Stat(l.path)
	if errors.Is(err, os.ErrNotExist) {
		if l.Len() == 0 {
			return false, nil
		}
		empty := map[Hash]struct{}{}
		l.set.Store(&empty)
		l.modTime, l.size = time.Time{}, 0
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("suppress: %w", err)
	}
	if fi.ModTime().Equal(l.modTime) && fi.Size() == l.size {
		return false, nil
	}
	if fi.Size() > maxFileSize {
		return false, fmt.Errorf("suppress: %s is larger than %d bytes", l.path, maxFileSize)
	}
	b, err := os.ReadFile(l.path)
	if err != nil {
		return false, fmt.Errorf("suppress: %w", err)
	}
	set, err := Parse(b)
	if err != nil {
		return false, fmt.Errorf("suppress: %s: %w", l.path, err)
	}
	l.set.Store(&set)
	l.modTime, l.size = fi.ModTime(), fi.Size()
	return true, nil
}

// Parse reads a list: one hash per line in hexadecimal; blank lines and
// lines starting with '#' are ignored. Errors give the line number, never
// its content.
func Parse(b []byte) (map[Hash]struct{}, error) {
	set := map[Hash]struct{}{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
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
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return set, nil
}

// Edit adds (add true) or removes a hash in the file at path, atomically
// (a running gateway never reads half a file). It reports whether the
// file changed.
func Edit(path string, h Hash, add bool) (bool, error) {
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
			if strings.TrimSpace(l) != line {
				out.WriteString(l)
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(out.String()), 0o600); err != nil {
		return false, fmt.Errorf("suppress: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
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
