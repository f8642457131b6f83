package suppress

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/event"
)

func testKey(t testing.TB) *pseudonym.SubjectKey {
	k, err := pseudonym.NewSubjectKey(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ev(site, user, client, device string) *event.Event {
	return &event.Event{Site: []byte(site), UserID: []byte(user), ClientID: []byte(client),
		Sighting: event.Sighting{DeviceID: []byte(device)}}
}

// TestSuppressedOnArrival: once a subject is added to the file, its events
// are recognized by user, client or device id on that site only, without
// a restart; removing it lets them through again.
func TestSuppressedOnArrival(t *testing.T) {
	key := testKey(t)
	path := filepath.Join(t.TempDir(), "suppressed.txt")
	l, err := Open(path, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.Suppressed(ev("shop", "4711", "", "")) {
		t.Fatal("empty list suppressed an event")
	}
	if changed, err := Edit(path, key.Sum([]byte("shop"), []byte("4711")), true); !changed || err != nil {
		t.Fatalf("Edit add = %v, %v", changed, err)
	}
	Edit(path, key.Sum([]byte("shop"), []byte("aa:bb:cc:dd:ee:ff")), true)
	if changed, err := l.Reload(); !changed || err != nil {
		t.Fatalf("Reload = %v, %v", changed, err)
	}
	for _, tc := range []struct {
		e    *event.Event
		want bool
	}{
		{ev("shop", "4711", "", ""), true},
		{ev("shop", "", "4711", ""), true},
		{ev("shop", "", "", "aa:bb:cc:dd:ee:ff"), true},
		{ev("shop", "4712", "c1", ""), false},
		{ev("blog", "4711", "", ""), false},
	} {
		if got := l.Suppressed(tc.e); got != tc.want {
			t.Errorf("Suppressed(%s %q %q %q) = %v", tc.e.Site, tc.e.UserID, tc.e.ClientID, tc.e.Sighting.DeviceID, got)
		}
	}
	if got := testutil.ToFloat64(l.suppressed); got != 3 {
		t.Errorf("suppressed counter = %v, want 3", got)
	}
	b, _ := os.ReadFile(path)
	if bytes.Contains(b, []byte("4711")) || bytes.Contains(b, []byte("aa:bb")) {
		t.Fatalf("the list file holds an identifier:\n%s", b)
	}
	Edit(path, key.Sum([]byte("shop"), []byte("4711")), false)
	if changed, _ := l.Reload(); !changed || l.Suppressed(ev("shop", "4711", "", "")) || l.Len() != 1 {
		t.Errorf("after removal: changed %v, len %d", changed, l.Len())
	}
}

func TestParseErrorsNameTheLineNotTheValue(t *testing.T) {
	_, err := Parse([]byte("# ok\n\n00112233445566778899aabbccddeeff\njohn@example.com\n"))
	if err == nil || !strings.Contains(err.Error(), "line 4") || strings.Contains(err.Error(), "john") {
		t.Errorf("Parse = %v", err)
	}
}

// FuzzParse: a list parses to the hashes of its lines (against a
// strings.Split reference: blank lines and # comments skipped, spaces
// around a hash ignored, hex in either case), or is refused with an error
// naming the first bad line, never its content.
func FuzzParse(f *testing.F) {
	f.Add([]byte("00112233445566778899aabbccddeeff\n"))
	f.Add([]byte("# comment\n\n  00112233445566778899AABBCCDDEEFF  \n"))
	f.Add([]byte("zz112233445566778899aabbccddeeff"))
	f.Add([]byte("# " + strings.Repeat("long comment ", 6000) + "\n00112233445566778899aabbccddeeff\n"))
	bad := regexp.MustCompile(`^line ([0-9]+): not a subject hash \(32 hexadecimal digits\)$`)
	f.Fuzz(func(t *testing.T, b []byte) {
		set, err := Parse(b)
		want, wantLine := map[Hash]struct{}{}, 0
		for i, l := range strings.Split(string(b), "\n") {
			l = strings.TrimSpace(l)
			if l == "" || l[0] == '#' {
				continue
			}
			var h Hash
			if len(l) != 32 {
				wantLine = i + 1
				break
			}
			if _, err := hex.Decode(h[:], []byte(l)); err != nil {
				wantLine = i + 1
				break
			}
			want[h] = struct{}{}
		}
		if wantLine > 0 {
			m := bad.FindStringSubmatch(fmt.Sprint(err))
			if m == nil || m[1] != strconv.Itoa(wantLine) {
				t.Fatalf("error %v; want one naming line %d", err, wantLine)
			}
			return
		}
		if err != nil || !maps.Equal(set, want) {
			t.Fatalf("Parse = %d hashes, %v; the reference reads %d", len(set), err, len(want))
		}
	})
}

// TestDeviceSuppressedOnEverySite: a store device on the list is dropped on
// every site, whichever MAC notation or letter case the sensor sends; a
// subject hash of the same id on one site does not suppress it elsewhere,
// and a device hash never matches a user id.
func TestDeviceSuppressedOnEverySite(t *testing.T) {
	key := testKey(t)
	path := filepath.Join(t.TempDir(), "suppressed.txt")
	if _, err := Edit(path, DeviceHash(key, []byte("A4:5E:60:C1:0D:2F")), true); err != nil {
		t.Fatal(err)
	}
	if _, err := Edit(path, DeviceHash(key, []byte("6D92078A-8246-4BA4-AE5B-76104861E7DC")), true); err != nil {
		t.Fatal(err)
	}
	l, err := Open(path, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		e    *event.Event
		want bool
	}{
		{ev("shop", "", "", "a4-5e-60-c1-0d-2f"), true},
		{ev("other-store", "", "", "a45e.60c1.0d2f"), true},
		{ev("shop", "", "", "6d92078a-8246-4ba4-ae5b-76104861e7dc"), true},
		{ev("shop", "", "", "a4:5e:60:c1:0d:30"), false},
		{ev("shop", "a4:5e:60:c1:0d:2f", "", ""), false}, // a user id, not a device
	} {
		if got := l.Suppressed(c.e); got != c.want {
			t.Errorf("device %q user %q on %s: suppressed %v, want %v", c.e.Sighting.DeviceID, c.e.UserID, c.e.Site, got, c.want)
		}
	}
	if got := testutil.ToFloat64(l.Collector()); got != 3 {
		t.Errorf("counted %v, want 3", got)
	}
}

// TestConcurrentEditsKeepEverySubject: two officers (two beacongate subject
// suppress processes, or instances sharing the list on a volume) adding
// subjects at the same time must both end up on the list: each Edit reads
// the file, adds its line and writes it back, and without a lock one
// overwrote the other's addition while both were told "now suppressed".
func TestConcurrentEditsKeepEverySubject(t *testing.T) {
	key := testKey(t)
	path := filepath.Join(t.TempDir(), "suppressed.txt")
	const writers, each = 8, 25
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			for i := range each {
				id := []byte{byte(w), byte(i)}
				if _, err := Edit(path, key.Sum([]byte("shop"), id), true); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	set, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(set) != writers*each {
		t.Fatalf("the list holds %d subjects after %d concurrent additions: suppressions were lost", len(set), writers*each)
	}
}

// TestReloadSeesAnEditOfTheSameSizeAndTime: unsuppress A then suppress B
// leaves a file of the same size; on a file system whose timestamps are
// coarse (a second on many network volumes, which instances sharing the
// list use) both edits can carry the modification time the gateway saw
// last. Reload compared size and time only, so B was never applied (and A
// stayed suppressed) until some later edit changed either.
func TestReloadSeesAnEditOfTheSameSizeAndTime(t *testing.T) {
	key := testKey(t)
	path := filepath.Join(t.TempDir(), "suppressed.txt")
	a, b := key.Sum([]byte("shop"), []byte("4711")), key.Sum([]byte("shop"), []byte("4712"))
	if _, err := Edit(path, a, true); err != nil {
		t.Fatal(err)
	}
	l, err := Open(path, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Edit(path, a, false); err != nil {
		t.Fatal(err)
	}
	if _, err := Edit(path, b, true); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil { // the same tick
		t.Fatal(err)
	}
	if changed, err := l.Reload(); !changed || err != nil {
		t.Errorf("Reload = %v, %v; want the new list", changed, err)
	}
	if !l.Suppressed(ev("shop", "4712", "", "")) || l.Suppressed(ev("shop", "4711", "", "")) {
		t.Errorf("after the edit: 4712 suppressed %v, 4711 suppressed %v; want true, false",
			l.Suppressed(ev("shop", "4712", "", "")), l.Suppressed(ev("shop", "4711", "", "")))
	}
	if changed, err := l.Reload(); changed || err != nil {
		t.Errorf("Reload of an unchanged file = %v, %v; want false", changed, err)
	}
}

// TestUnsuppressRemovesAnyLetterCase: the list takes a hash in upper case
// (Parse reads hex in either case: a line written by hand or by another
// tool), but a removal compared lines with the lower-case spelling: the
// line stayed, the subject stayed suppressed, and Edit said it changed the
// file (subject unsuppress printed "now unsuppressed" and wrote an audit
// entry saying so).
func TestUnsuppressRemovesAnyLetterCase(t *testing.T) {
	key := testKey(t)
	h := SubjectHash(key, []byte("shop"), []byte("4711"))
	path := filepath.Join(t.TempDir(), "suppressed.txt")
	upper := strings.ToUpper(hex.EncodeToString(h[:]))
	if err := os.WriteFile(path, []byte("# by hand\n  "+upper+"\t\r\n00112233445566778899aabbccddeeff\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	changed, err := Edit(path, h, false)
	if err != nil || !changed {
		t.Fatalf("Edit(remove) = %v, %v", changed, err)
	}
	b, _ := os.ReadFile(path)
	set, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, still := set[h]; still || len(set) != 1 {
		t.Errorf("after the removal the list holds %d hashes, the removed one %v:\n%s", len(set), still, b)
	}
	if !bytes.HasPrefix(b, []byte("# by hand\n")) {
		t.Errorf("the comment was not kept:\n%s", b)
	}
}

// FuzzEdit: after Edit adds or removes a hash, the list Parse reads holds
// that hash exactly when it was added, and every other hash as before;
// Edit reports a change exactly when the set changed.
func FuzzEdit(f *testing.F) {
	h := Hash{0xaa, 0xbb}
	lower := hex.EncodeToString(h[:])
	f.Add([]byte(lower+"\n"), h[:], false)
	f.Add([]byte("# c\n\n  "+strings.ToUpper(lower)+"  \r\n"+lower), h[:], false)
	f.Add([]byte("00112233445566778899aabbccddeeff"), h[:], true)
	f.Add([]byte{}, h[:], true)
	f.Fuzz(func(t *testing.T, data, hb []byte, add bool) {
		before, err := Parse(data)
		if err != nil {
			return
		}
		var h Hash
		copy(h[:], hb)
		path := filepath.Join(t.TempDir(), "suppressed.txt")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		changed, err := Edit(path, h, add)
		if err != nil {
			t.Fatalf("Edit of a list Parse reads: %v", err)
		}
		b, _ := os.ReadFile(path)
		after, err := Parse(b)
		if err != nil {
			t.Fatalf("Edit wrote a list Parse refuses: %v\n%q", err, b)
		}
		_, had := before[h]
		if _, has := after[h]; has != add {
			t.Fatalf("add %v: the hash is on the list after Edit: %v\n%q", add, has, b)
		}
		if changed != (had != add) {
			t.Fatalf("Edit reported changed %v; the hash was on the list %v, add %v", changed, had, add)
		}
		delete(before, h)
		delete(after, h)
		if len(before) != len(after) {
			t.Fatalf("other hashes: %d before, %d after", len(before), len(after))
		}
		for k := range before {
			if _, ok := after[k]; !ok {
				t.Fatalf("Edit dropped another hash %x", k)
			}
		}
	})
}

// TestReloadKeepsTheListWhenItsFileIsGone: a list file that disappears
// while the gateway runs (a network volume that is not mounted for a
// while, a file moved or deleted by hand) was read as an empty list: every
// suppressed subject's events were stored and sent again until the file
// came back. Nothing an officer runs removes the file (unsuppress leaves
// an empty one), so a running list whose file is gone stays, with an
// error that names the path and not the subjects; an empty file still
// empties it.
func TestReloadKeepsTheListWhenItsFileIsGone(t *testing.T) {
	key := testKey(t)
	path := filepath.Join(t.TempDir(), "suppressed.txt")
	if _, err := Edit(path, SubjectHash(key, []byte("shop"), []byte("4711")), true); err != nil {
		t.Fatal(err)
	}
	l, err := Open(path, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, path+".moved"); err != nil {
		t.Fatal(err)
	}
	changed, err := l.Reload()
	if err == nil || changed {
		t.Errorf("Reload with the file gone = %v, %v; want the running list kept, and an error", changed, err)
	} else if !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "4711") {
		t.Errorf("the error should name the file, never a subject: %v", err)
	}
	if !l.Suppressed(ev("shop", "4711", "", "")) || l.Len() != 1 {
		t.Fatalf("with the file gone the subject is no longer suppressed (len %d)", l.Len())
	}
	// Back again: nothing changed. Emptied by hand: the list empties.
	if err := os.Rename(path+".moved", path); err != nil {
		t.Fatal(err)
	}
	if changed, err := l.Reload(); changed || err != nil {
		t.Errorf("Reload of the file back unchanged = %v, %v; want false, nil", changed, err)
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if changed, err := l.Reload(); !changed || err != nil || l.Len() != 0 {
		t.Errorf("Reload of an emptied file = %v, %v, len %d; want the list emptied", changed, err, l.Len())
	}
}
