package contact

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// Known answers. Each normalised form is the one the cited page gives (as
// an example, or by its rule applied to the input); the hash is SHA-256 of
// that form, checked against an independent sha256sum.
func TestKnownAnswers(t *testing.T) {
	f := func(p Platform, fld Field, in, normalised, hash string) {
		t.Helper()
		n, err := AppendNormalized(nil, p, fld, []byte(in))
		if err != nil || string(n) != normalised {
			t.Fatalf("%v %v %q: normalised %q, %v; want %q", p, fld, in, n, err, normalised)
		}
		if !Hashed(p, fld) {
			return
		}
		h, err := AppendHashed([]byte("x"), p, fld, []byte(in))
		if err != nil || string(h) != "x"+hash {
			t.Fatalf("%v %v %q: hashed %q, %v; want x%s", p, fld, in, h, err, hash)
		}
		if sum := sha256.Sum256([]byte(normalised)); hex.EncodeToString(sum[:]) != hash {
			t.Fatalf("%v %v: vector's hash is not SHA-256 of %q", p, fld, normalised)
		}
	}
	// Meta: https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/customer-information-parameters
	// (em "trim leading and trailing white space, convert to lowercase";
	// ph "remove symbols, letters, and any leading zeros ... include a
	// country code", example 16505551212; ct example menlopark; zp
	// examples 94035, m11ae; country example us; fn/ln lowercase, no
	// punctuation).
	f(Meta, Email, "  Jane.Doe@Example.COM ", "jane.doe@example.com", "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d")
	f(Meta, Phone, "+1 (650) 555-1212", "16505551212", "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176")
	f(Meta, Phone, "001 650 555 1212", "16505551212", "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176")
	// The hashed ph of Meta's example payload, https://developers.facebook.com/docs/marketing-api/conversions-api/using-the-api
	f(Meta, Phone, "+1 234 567 8901", "12345678901", "254aa248acb47dd654ca3ea53f48c2c26d641d23d7e2e93a1ec56258df7674c4")
	f(Meta, FirstName, "John", "john", "96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a")
	f(Meta, LastName, "O'Brien", "obrien", "b4cb6cb33fe4b865868de825023a1e2790dc12ac01ecc8d7c5afe8254071c8ba")
	f(Meta, City, "Menlo Park", "menlopark", "0007a3d64c01e23d5075203c5977c14e4f7e01a3fc570686fcc50b5e1dd42685")
	f(Meta, Zip, "94035-1234", "94035", "1794327a4d443904421f5ca1f3d72d0a62ba2f0770d80755ec2220fc0efb052e")
	f(Meta, Zip, "M1 1AE", "m11ae", "1dc694c2070e697769fb959b50671d76cafd430d8ca191fbdd0affcaea344ac5")
	f(Meta, Country, "US", "us", "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621")
	f(Meta, ExternalID, " user-123 ", "user-123", "fcdec6df4d44dbc637c7c5b58efface52a7f8a88535423430255be0bb89bedd8")

	// Google: https://developers.google.com/analytics/devguides/collection/ga4/uid-data
	// and https://developers.google.com/google-ads/api/docs/conversions/enhance-conversions#normalization_and_hashing
	// (trim, lowercase, E.164 phones such as +12125650000 and
	// +442070313000, dots removed before the domain of gmail.com and
	// googlemail.com addresses; names: digits and symbols removed).
	f(Google, Email, " Jane.Doe@GMail.com", "janedoe@gmail.com", "d6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69")
	f(Google, Email, "Jane.Doe@googlemail.com", "janedoe@googlemail.com", "338abf9ef1c8793cadc7bcf51ed595338eb727ed9e06ce3d91d566d60b975937")
	f(Google, Email, "Jane.Doe@example.com", "jane.doe@example.com", "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d")
	f(Google, Phone, "+1 (212) 565-0000", "+12125650000", "d360a79e746532a6a1e7b8164440b04cdd8797e23126f7a4de7a4b67fdcdba98")
	f(Google, Phone, "0044 20 7031 3000", "+442070313000", "f3d7e96c73fb0de1b66acfce541d7af758fbd4f3fa3af0ea4e10110000d3625e")
	f(Google, FirstName, " Mary  Ann2 ", "mary ann", "343b97011010c3549fe7fcd6c226ed9431ea37b0b77ed78f6300a0098925faf1")
	f(Google, LastName, "Smith!", "smith", "6627835f988e2c5e50533d491163072d3f4f41f5c8b04630150debb3722ca2dd")
	f(Google, City, "Paris", "paris", "")
	f(Google, Zip, "75018", "75018", "")
	f(Google, Country, "FR", "fr", "")

	// TikTok: https://business-api.tiktok.com/portal/docs?id=1771101303285761
	// (Events API 2.0 parameters: email trimmed and lowercased; phone in
	// E.164 with the '+', for example +12133734253; both SHA-256), as also
	// quoted at https://github.com/managed-components/tiktok.
	f(TikTok, Email, "TikTok@Example.com ", "tiktok@example.com", "3b9ef222b3814b5d1d5c4a02c06dd65f929967942066bcfef99a76c5e30a88c9")
	f(TikTok, Phone, "+1 213-373-4253", "+12133734253", "9f7ec22d72092cd3c0b58726ed9c2d91b92e51a3f29837508fb2948bb22dd2fd")
	f(TikTok, FirstName, "Mary Ann", "maryann", "16b3f07f0ec2f9dd127b71dc2e6c791b7d93116a1c3bc99d057eaa7a8a077e73")
	f(TikTok, City, "Paris", "paris", "1670f2e42fefa5044d59a65349e47c566009488fc57d7b4376dd5787b59e3c57")
	f(TikTok, Zip, "75018", "75018", "8dc3075ea745609c169d1c120d3fcd1c42673d16f18b423f4374e894d34a098a")
	f(TikTok, Country, "FR", "fr", "67ad8f41a7bb0a18c45f3efd8f6a32bdcd832bcf8f3f2eb44006c03d53076e18")
	f(TikTok, ExternalID, "user-123", "user-123", "fcdec6df4d44dbc637c7c5b58efface52a7f8a88535423430255be0bb89bedd8")
}

// The platforms disagree on the same phone: Google and TikTok hash the '+',
// Meta does not. One normaliser for all would miss two of three matches.
func TestPhoneDiffersByPlatform(t *testing.T) {
	in := []byte("+1 650 555 1212")
	m, _ := AppendMeta(nil, Phone, in)
	g, _ := AppendGoogle(nil, Phone, in)
	tt, _ := AppendTikTok(nil, Phone, in)
	if bytes.Equal(m, g) || !bytes.Equal(g, tt) {
		t.Fatalf("meta %s, google %s, tiktok %s: want meta ≠ google = tiktok", m, g, tt)
	}
}

func TestAlreadyHashedPassesThrough(t *testing.T) {
	const h = "254AA248ACB47DD654CA3EA53F48C2C26D641D23D7E2E93A1EC56258DF7674C4"
	for p := range numPlatforms {
		for _, fld := range []Field{Email, Phone, FirstName, ExternalID} {
			got, err := AppendHashed(nil, p, fld, []byte(" "+h+" "))
			if err != nil || string(got) != strings.ToLower(h) {
				t.Fatalf("%v %v: %q, %v; want the digest lowercased, not hashed again", p, fld, got, err)
			}
		}
	}
}

func TestRefused(t *testing.T) {
	f := func(p Platform, fld Field, in string, want error) {
		t.Helper()
		got, err := AppendHashed([]byte("keep"), p, fld, []byte(in))
		if !errors.Is(err, want) || string(got) != "keep" {
			t.Fatalf("%v %v %q: %q, %v; want dst unchanged and %v", p, fld, in, got, err, want)
		}
		if strings.Contains(err.Error(), in) && in != "" {
			t.Fatalf("error %q leaks the value", err)
		}
		if !strings.Contains(err.Error(), fld.String()) {
			t.Fatalf("error %q does not name the field %v", err, fld)
		}
	}
	f(Meta, Email, "", ErrEmpty)
	f(Meta, Email, "   ", ErrEmpty)
	f(Meta, FirstName, "1234 !!", ErrEmpty) // empty once normalised
	f(Meta, Email, "no-at-sign", ErrInvalid)
	f(Meta, Email, "a@b@c", ErrInvalid)
	f(Meta, Email, "@example.com", ErrInvalid)
	f(Google, Email, "...@gmail.com", ErrInvalid)
	f(Meta, Phone, "call me maybe", ErrInvalid)
	f(Meta, Phone, "12345", ErrInvalid)
	f(TikTok, Phone, "+1 234 567 890 123 456", ErrInvalid)
	f(Meta, Country, "USA", ErrInvalid)
	f(Meta, Zip, "94035;", ErrInvalid)
	f(TikTok, Zip, strings.Repeat("0", 35)+" "+strings.Repeat("0", 29), ErrInvalid) // fuzz finding: 64 digits looked like a digest once normalised
	f(Meta, Zip, strings.Repeat("1", 17), ErrInvalid)
	f(Google, City, "Paris", ErrUnsupported) // Google takes cities in clear
	f(Meta, Email, strings.Repeat("a", MaxValueBytes)+"@example.com", ErrTooLong)
}

func TestParseField(t *testing.T) {
	for f := range numFields {
		got, ok := ParseField([]byte(f.String()))
		if !ok || got != f {
			t.Fatalf("ParseField(%q) = %v, %v", f, got, ok)
		}
	}
	if _, ok := ParseField([]byte("street")); ok {
		t.Fatal("ParseField(street) ok")
	}
}

// TestTrunkZeroAndUnicodeCase: "+49 (0)151 ..." loses the trunk 0 written
// after the country code, as an international number does; a name's
// non-ASCII capitals are lower-cased as the pixels' toLowerCase() does.
func TestTrunkZeroAndUnicodeCase(t *testing.T) {
	for _, c := range []struct {
		p    Platform
		f    Field
		in   string
		want string
	}{
		{Meta, Phone, "+49 (0)151 1234567", "491511234567"},
		{Google, Phone, "+49 (0)151 1234567", "+491511234567"},
		{Meta, Phone, "(030) 1234567", "301234567"},
		{Meta, FirstName, "Émile", "émile"},
		{TikTok, City, "ÖREBRO", "örebro"},
		{Meta, LastName, "Ⱥrne", "Ⱥrne"}, // lower case would be longer in UTF-8: kept as sent
	} {
		got, err := AppendNormalized(nil, c.p, c.f, []byte(c.in))
		if err != nil || string(got) != c.want {
			t.Errorf("%v %v %q: %q, %v; want %q", c.p, c.f, c.in, got, err, c.want)
		}
	}
}

// TestGoogleUnicodeCase: Google's names and city are lower-cased as its
// tag's toLowerCase() does, non-ASCII capitals included ("Émile" →
// "émile", "ZÜRICH" → "zürich"), as Meta's and TikTok's are. Before the
// fix only ASCII was lower-cased for Google: the hash of "Émile" was not
// the one Google computes, so the visitor never matched, and GA4 got the
// city "zÜrich" in clear.
func TestGoogleUnicodeCase(t *testing.T) {
	for _, c := range []struct {
		f        Field
		in, want string
	}{
		{FirstName, "Émile", "émile"},
		{LastName, "ÖZTÜRK", "öztürk"},
		{FirstName, " Jean  Émile ", "jean émile"},
		{City, "ZÜRICH", "zürich"},
		{City, "São Paulo", "são paulo"},
	} {
		got, err := AppendNormalized(nil, Google, c.f, []byte(c.in))
		if err != nil || string(got) != c.want {
			t.Errorf("google %v %q: %q, %v; want %q", c.f, c.in, got, err, c.want)
		}
	}
	a, _ := AppendGoogle(nil, FirstName, []byte("Émile"))
	b, _ := AppendGoogle(nil, FirstName, []byte("émile"))
	if string(a) != string(b) {
		t.Errorf("google fn: Émile and émile hash apart: %s, %s", a, b)
	}
}

// TestNonASCIIPunctuationRemoved: names and cities lose punctuation and
// symbols whatever their script, as the platforms' rules say (Meta: "no
// punctuation", Google: "digits and symbols removed"): the typographic
// apostrophe phones type ("O’Brien"), dashes, the middle dot and the
// no-break space go as their ASCII forms do, so "O’Brien" hashes as
// "O'Brien" does. Before the fix every non-ASCII character was kept:
// "o’brien" was hashed, which no platform computes, and the visitor never
// matched. Letters and combining marks of every script stay.
func TestNonASCIIPunctuationRemoved(t *testing.T) {
	for _, c := range []struct {
		p        Platform
		f        Field
		in, want string
	}{
		{Meta, LastName, "O’Brien", "obrien"},
		{Meta, City, "Saint‑Étienne", "saintétienne"}, // U+2011 non-breaking hyphen
		{Meta, City, "Saint–Étienne", "saintétienne"}, // U+2013 en dash
		{Meta, FirstName, "Jean\u00a0Luc", "jeanluc"},
		{TikTok, City, "L·Hospitalet", "lhospitalet"},
		{Meta, FirstName, "Jose\u0301", "jose\u0301"}, // e + combining acute: a mark, kept
		{Meta, FirstName, "Юлия", "юлия"},
		{Google, LastName, "O’Brien", "obrien"},
		{Google, FirstName, "Jean\u00a0Luc", "jean luc"},
		{Google, City, "Saint–Étienne", "saintétienne"},
	} {
		got, err := AppendNormalized(nil, c.p, c.f, []byte(c.in))
		if err != nil || string(got) != c.want {
			t.Errorf("%v %v %q: %q, %v; want %q", c.p, c.f, c.in, got, err, c.want)
		}
	}
	a, _ := AppendMeta(nil, LastName, []byte("O’Brien"))
	b, _ := AppendMeta(nil, LastName, []byte("O'Brien"))
	if string(a) != string(b) {
		t.Errorf("meta ln: O’Brien and O'Brien hash apart: %s, %s", a, b)
	}
}
