package scrub

import (
	"bytes"
	"testing"
)

// reduceCleaners are the cleaners the reduction is checked with: a site
// with hosts and routes, and one with every option that adds names.
var reduceCleaners = []*Cleaner{
	siteCleaner,
	MustNew(Options{ExtraClickIDs: []string{"ref", "xid"}, DropParams: []string{"session"}, DropUTM: true,
		Sites: []Site{shopSite}}),
}

// checkURLKey fails t unless AppendURLKey keeps its promises for raw in
// every mode with cleaner c, and returns the keys of the three modes
// (each nil when none) and what the URLClean key's names removed.
func checkURLKey(t *testing.T, c *Cleaner, raw []byte) (keys [3][]byte, removed Found) {
	t.Helper()
	prefix := []byte("key:")
	for _, mode := range []URLMode{URLOrigin, URLPath, URLClean} {
		key, rm, ok := c.AppendURLKey(append([]byte(nil), prefix...), raw, mode)
		if !bytes.HasPrefix(key, prefix) {
			t.Fatalf("%s: %q: prefix of dst overwritten: %q", mode, raw, key)
		}
		key = key[len(prefix):]
		if !ok {
			if len(key) != 0 || rm != 0 {
				t.Fatalf("%s: %q: no key but %q %s", mode, raw, key, rm)
			}
			continue
		}
		if mode != URLClean && rm != 0 {
			t.Fatalf("%s: %q: removed %s; want none", mode, raw, rm)
		}
		if rm&^(KindClickID.bit()|KindParam.bit()) != 0 {
			t.Fatalf("%q: removed %s; want click_id or param", raw, rm)
		}
		keys[mode], removed = key, removed|rm
		for _, site := range [][]byte{nil, []byte(shopSite.ID)} {
			wantOut, wantFound := c.AppendPageURL(nil, raw, mode, site)
			gotOut, gotFound := c.AppendPageURL(nil, key, mode, site)
			if !bytes.Equal(gotOut, wantOut) {
				t.Fatalf("%s, site %q: %q has key %q, which cleans to\n %q\nwant %q", mode, site, raw, key, gotOut, wantOut)
			}
			if mode != URLClean && gotFound != wantFound {
				t.Fatalf("%s, site %q: %q has key %q: found %s; want %s", mode, site, raw, key, gotFound, wantFound)
			}
			if mode == URLClean && gotFound&StopsBeforeQuery == 0 && gotFound|rm != wantFound {
				t.Fatalf("site %q: %q has key %q: found %s + removed %s; want %s", site, raw, key, gotFound, rm, wantFound)
			}
		}
	}
	return keys, removed
}

func TestAppendURLKey(t *testing.T) {
	for _, tc := range []struct {
		raw, want string
		removed   Found
	}{
		{"https://a.example/p?gclid=Cj0KCQiA&b=1", "https://a.example/p?b=1", KindClickID.bit()},
		{"https://a.example/p?b=1&fbclid=IwAR1#top", "https://a.example/p?b=1#top", KindClickID.bit()},
		{" https://a.example/p?gclid=1&&password=x&b=1 ", "https://a.example/p?b=1", KindClickID.bit() | KindParam.bit()},
		{"https://a.example/p?GCLID=1", "https://a.example/p?", KindClickID.bit()},
		{"https://a.example/p?gcl%69d=1&b=2", "https://a.example/p?b=2", KindClickID.bit()},
		{"https://a.example/p?x?gclid=1&b=2", "https://a.example/p?b=2", KindClickID.bit()},
		{"//a.example/?gclid=1&q=jane@example.org", "//a.example/?q=jane@example.org", KindClickID.bit()},
		{"/p?msclkid=1", "/p?", KindClickID.bit()},
		{"https://a?gclid=1@b.example/", "https://a?", KindClickID.bit()},
		// Nothing to take out, or no query judged parameter by parameter.
		{"https://a.example/p?b=1", "", 0},
		{"https://a.example/p#gclid=1", "", 0},
		{"https://a.example/p#x?gclid=1", "", 0},
		{"ftp://a.example/p?gclid=1", "ftp://a.example", 0}, // not http(s): the origin is all that is read
		{"android-app://com.google.android.gm/?email=a@b.example", "android-app://com.google.android.gm", 0},
		{"https://a.example/p?gclid=1&b=a b", "", 0},
		{"mailto:x@y.z?gclid=1", "", 0},
		{"", "", 0},
	} {
		keys, removed := checkURLKey(t, siteCleaner, []byte(tc.raw))
		if reduced := keys[URLClean]; string(reduced) != tc.want || removed != tc.removed {
			t.Errorf("%q: %q %s; want %q %s", tc.raw, reduced, removed, tc.want, tc.removed)
		}
	}
}

func TestAppendURLKeyCuts(t *testing.T) {
	for _, tc := range []struct {
		raw          string
		origin, path string // "": no key
	}{
		{"https://A.example:8443/p/q?gclid=1#f", "https://A.example:8443", "https://A.example:8443/p/q"},
		{"//a.example?x=1", "//a.example", "//a.example"},
		{"https://u:pw@a.example#x", "https://u:pw@a.example", "https://u:pw@a.example"},
		{"/p/q?x=1", "", "/p/q"},
		{"/p//q?x=1", "", "/p//q"},
		{"ftp://a.example/p?x=1", "ftp://a.example", "ftp://a.example"},
		{"https://a.example/p q?x=1", "", ""},
		{"javascript:alert(1)", "", ""},
	} {
		for _, m := range []struct {
			mode URLMode
			want string
		}{{URLOrigin, tc.origin}, {URLPath, tc.path}} {
			key, removed, ok := siteCleaner.AppendURLKey(nil, []byte(tc.raw), m.mode)
			if string(key) != m.want || ok != (m.want != "") || removed != 0 {
				t.Errorf("%s: %q: %q %v %s; want %q", m.mode, tc.raw, key, ok, removed, m.want)
			}
		}
		checkURLKey(t, siteCleaner, []byte(tc.raw))
	}
}

func TestAppendURLKeyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	raw := []byte("https://www.shop-example.com/p?utm_source=x&gcl%69d=Cj0KCQiA&b=1&fbclid=IwAR&c=%40")
	dst := make([]byte, 0, 2*len(raw))
	if n := testing.AllocsPerRun(100, func() { dst, _, _ = siteCleaner.AppendURLKey(dst[:0], raw, URLClean) }); n != 0 {
		t.Fatalf("%v allocs per call with dst of twice the URL's capacity; want 0", n)
	}
}

// FuzzURLKey checks AppendURLKey's promises for any URL, and that a click
// id added to the query never reaches a key.
func FuzzURLKey(f *testing.F) {
	fuzzSeeds(f)
	for _, s := range []string{
		"https://a.example/p?gclid=1&b=2", "https://shop.example/products/1?fbclid=x&utm_source=y#/r?gclid=2",
		"https://evil.example/?gclid=1", "https://10.0.0.1/?gclid=1", "https://u@shop.example/?ref=1&session=2",
		"/a;gclid=1?gclid=2", "//shop.example?gclid=1#a=b", "https://a.example/?X%3fY=1&x=2&%3Fgclid=3",
		"https://shop.example/?q=jane@example.org&gclid=1", "https://sub.shop.example/?gclid=1&a=%2540",
		"https://shop.example/?email=jane&#64;example.org", "https://shop.example/?gclid=1&to=jane&commat;x.org",
	} {
		f.Add([]byte(s), uint16(len(s)))
	}
	const planted = "PLANTEDclickid"
	f.Fuzz(func(t *testing.T, data []byte, _ uint16) {
		for _, c := range reduceCleaners {
			checkURLKey(t, c, data)
			if bytes.Contains(data, []byte(planted)) {
				continue
			}
			// Into the query: before the fragment, after a '?'.
			at := len(data)
			if h := bytes.IndexByte(data, '#'); h >= 0 {
				at = h
			}
			param := "&gclid=" + planted
			if bytes.IndexByte(data[:at], '?') < 0 {
				param = "?gclid=" + planted
			}
			with := append(append(append([]byte(nil), data[:at]...), param...), data[at:]...)
			keys, _ := checkURLKey(t, c, with)
			for mode, key := range keys {
				if bytes.Contains(key, []byte(planted)) {
					t.Fatalf("%q: the click id reached the %s key %q", with, URLMode(mode), key)
				}
			}
		}
	})
}

func BenchmarkURLKey(b *testing.B) {
	raw := []byte("https://www.shop-example.com/de-de/damen/schuhe/sneaker/runner-pro-2-black-white-p-4711081542.html?utm_source=newsletter&utm_medium=email&utm_campaign=2024_11_black_friday_early_access_segment_b&utm_content=hero_banner_cta_2&gclid=Cj0KCQiAabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz_BwE&color=black&size=42&sort=price_asc&page=2")
	dst := make([]byte, 0, 2*len(raw))
	for b.Loop() {
		dst, _, _ = siteCleaner.AppendURLKey(dst[:0], raw, URLClean)
	}
}

// TestIndexBadMatchesBytes: the word-at-a-time search finds the first bad
// byte at every position, in every length, around every byte value.
func TestIndexBadMatchesBytes(t *testing.T) {
	naive := func(s []byte) int {
		for i, ch := range s {
			if ch <= ' ' || ch == 0x7f {
				return i
			}
		}
		return -1
	}
	for n := range 20 {
		for at := range n + 1 {
			for v := range 256 {
				s := bytes.Repeat([]byte{'a'}, n)
				if at < n {
					s[at] = byte(v)
					if at+1 < n {
						s[at+1] = byte(255 - v) // a neighbour across the borrow
					}
				}
				if got, want := indexBad(s), naive(s); got != want {
					t.Fatalf("indexBad(%q) = %d; want %d", s, got, want)
				}
			}
		}
	}
}
