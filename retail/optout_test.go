package retail

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"regexp"
	"strings"
	"testing"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func TestOptOut(t *testing.T) {
	o, err := NewOptOut(testKey)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Add([]byte("A4:5E:60:C1:0D:2F")) || o.Add([]byte("a45e.60c1.0d2f")) {
		t.Fatal("one MAC in two notations added twice")
	}
	o.Add([]byte("6D92078A-8246-4BA4-AE5B-76104861E7DC"))
	for _, id := range []string{"a4-5e-60-c1-0d-2f", "A45E60C10D2F", "6d92078a-8246-4ba4-ae5b-76104861e7dc"} {
		if !o.Contains([]byte(id)) {
			t.Errorf("%s not found", id)
		}
	}
	if o.Contains([]byte("a4:5e:60:c1:0d:30")) || o.Contains(nil) {
		t.Fatal("an id not on the list is")
	}
	file := o.AppendFile(nil)
	if bytes.Contains(bytes.ToLower(file), []byte("a4:5e")) || bytes.Contains(bytes.ToLower(file), []byte("6d92078a")) {
		t.Fatalf("file holds an id in clear:\n%s", file)
	}
	p, err := ParseOptOut(testKey, file)
	if err != nil || p.Len() != 2 || !p.Contains([]byte("a4:5e:60:c1:0d:2f")) {
		t.Fatalf("reparsed: %v, %d", err, p.Len())
	}
	other, _ := ParseOptOut([]byte(strings.Repeat("k", 32)), file)
	if other.Contains([]byte("a4:5e:60:c1:0d:2f")) {
		t.Fatal("another key finds the id")
	}
	if !p.Remove([]byte("A4:5E:60:C1:0D:2F")) || p.Contains([]byte("a4:5e:60:c1:0d:2f")) || p.Len() != 1 {
		t.Fatal("remove")
	}
	if _, err := ParseOptOut(testKey, []byte("# c\n\nzz\n")); err == nil || !strings.Contains(err.Error(), "line 3") || strings.Contains(err.Error(), "zz") {
		t.Fatalf("bad line: %v", err)
	}
	// The hand-made HMAC is HMAC-SHA256.
	m := hmac.New(sha256.New, testKey)
	m.Write([]byte("optouta4:5e:60:c1:0d:2f"))
	if h := o.Hash([]byte("A4-5E-60-C1-0D-2F")); !bytes.Equal(h[:], m.Sum(nil)[:16]) {
		t.Fatal("Hash is not HMAC-SHA256(key, \"optout\" || normalised id)")
	}
	if _, err := NewOptOut([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
	var nilList *OptOut
	if nilList.Contains([]byte("x")) {
		t.Fatal("nil list contains")
	}
}

var badLine = regexp.MustCompile(`^opt-out file line [0-9]+: not a hash of 32 hex digits$`)

// FuzzParseOptOut: any file either parses into a list that writes back to
// the same set of hashes, or is refused without echoing its content.
func FuzzParseOptOut(f *testing.F) {
	o, _ := NewOptOut(testKey)
	o.Add([]byte("a4:5e:60:c1:0d:2f"))
	f.Add(o.AppendFile(nil))
	f.Add([]byte("# x\n\n00112233445566778899aabbccddeeff\r\n"))
	f.Add([]byte("zz"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseOptOut(testKey, data)
		if err != nil {
			if !badLine.MatchString(err.Error()) {
				t.Fatalf("error is not the fixed message (it may echo the file): %v", err)
			}
			return
		}
		q, err := ParseOptOut(testKey, p.AppendFile(nil))
		if err != nil || q.Len() != p.Len() {
			t.Fatalf("round trip: %v, %d vs %d", err, q.Len(), p.Len())
		}
	})
}
