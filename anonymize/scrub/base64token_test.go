package scrub

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
)

// TestBase64DigestsAndTokens: a hashed e-mail address or a session id
// written in base64 (standard, with '+', '/' and '=' padding, or base64url)
// is a long token, as the hex form of the same digest is. Until 2026-12-07
// most such values reached every destination whole: '+' and '/' split the
// run, and '-' and '_' its chunks, into parts too short for the token rule
// (an MD5 digest in base64 was kept 8 times in 10, a SHA-256 digest in
// standard base64 2 times in 10).
func TestBase64DigestsAndTokens(t *testing.T) {
	var values []string
	for _, addr := range []string{"jane.doe@example.org", "john@example.com", "j.smith@mail.example.co.uk", "max.mustermann@web.de"} {
		s2 := sha256.Sum256([]byte(addr))
		s1 := sha1.Sum([]byte(addr))
		m5 := md5.Sum([]byte(addr))
		for _, d := range [][]byte{s2[:], s1[:], m5[:]} {
			values = append(values, base64.StdEncoding.EncodeToString(d), base64.RawURLEncoding.EncodeToString(d))
		}
	}
	// Those the old rule kept, as found (SHA-256, SHA-1 and MD5 digests).
	values = append(values, "hV+W6YPx+Oi+lEaStvcZ/VQymCbLYumAFe/uji4HHdQ=", "hV-W6YPx-Oi-lEaStvcZ_VQymCbLYumAFe_uji4HHdQ",
		"A0e7DXP2e9KihGpCB+4iet/hFxE=", "1MdFlNhBE5MoaVdWZItr1g==", "tJvkxtW2CRi/J9EYnY8ybQ==")
	missed := 0
	for _, v := range values {
		u := "https://shop.example/p?em=" + url.QueryEscape(v) + "&page=2"
		raw := "https://shop.example/p?em=" + v + "&page=2"
		out, _ := defaultCleaner.AppendURL(nil, []byte(u), URLClean)
		outRaw, _ := defaultCleaner.AppendURL(nil, []byte(raw), URLClean)
		text, found := defaultCleaner.AppendText(nil, []byte("hash "+v+" sent"))
		if string(out) != "https://shop.example/p?page=2" || string(outRaw) != "https://shop.example/p?page=2" ||
			strings.Contains(string(text), strings.TrimRight(v, "=")) || !found.Has(KindToken) {
			missed++
			t.Logf("%s: %q, %q, %q", v, out, outRaw, text)
		}
	}
	// Digests are random bytes: a few read like words and stay.
	if missed > len(values)/10 {
		t.Errorf("%d of %d base64 digests kept; want at most a tenth", missed, len(values))
	}
	// Random values of 16, 20 and 32 bytes (the seed fixes the outcome).
	r := rand.New(rand.NewPCG(12, 7))
	for _, tc := range []struct{ n, maxKept int }{{16, 150}, {20, 40}, {32, 15}} {
		kept := 0
		for k := 0; k < 1000; k++ {
			b := make([]byte, tc.n)
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			v := base64.StdEncoding.EncodeToString(b)
			if k%2 == 1 {
				v = base64.RawURLEncoding.EncodeToString(b)
			}
			if out, _ := defaultCleaner.AppendText(nil, []byte(v)); string(out) == v {
				kept++
			}
		}
		if kept > tc.maxKept {
			t.Errorf("%d bytes: %d of 1000 random values in base64 kept; want at most %d", tc.n, kept, tc.maxKept)
		}
	}
	// Words, Title Case queries, camelCase names, paths and product names stay.
	for _, s := range []string{
		"Red+Running+Shoes+Size+42+Men", "Women/Shoes/Sneaker/Nike/AirMax90", "getUserProfileByIdAndName2",
		"Summer-Sale-2024-Women-Shoes-Red", "docs/API/Reference/v2/GettingStarted/Index2024",
		"de_DE/Damen/Schuhe/Sneaker/Nike/AirMax90", "iOS17/iPadOS17/macOS14/watchOS10", "productDetailViewAddToCart",
		"Galaxy+S24+Ultra+512GB+Titanium+Gray", "Hauptstrasse+12/Hinterhaus+3.OG", "checkout_step_2_payment_Visa",
	} {
		if out, found := defaultCleaner.AppendText(nil, []byte(s)); string(out) != s {
			t.Errorf("AppendText(%q) = %q %s; want it unchanged", s, out, found)
		}
		u := "https://shop.example/s?q=" + s + "&page=2"
		if out, found := defaultCleaner.AppendURL(nil, []byte(u), URLClean); string(out) != u {
			t.Errorf("AppendURL(%q) = %q %s; want it unchanged", u, out, found)
		}
	}
}
