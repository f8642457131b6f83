package scrub

import (
	"strings"
	"testing"
)

func TestAppendText(t *testing.T) {
	f := func(in, want, wantFound string) {
		t.Helper()
		got, found := defaultCleaner.AppendText(nil, []byte(in))
		if string(got) != want || found.String() != wantFound {
			t.Fatalf("AppendText(%q)\n got %q %s\nwant %q %s", in, got, found, want, wantFound)
		}
	}
	f("", "", "none")
	f("plain words, nothing to see", "plain words, nothing to see", "none")
	f("Call me at +49 151 12345678 or mail jane.doe@example.org, card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00.",
		"Call me at [phone] or mail [email], card [card], IBAN [iban].", "email|phone|card|iban")

	// E-mail.
	f("jane@example.org", "[email]", "email")
	f("<Jane.Doe+news@mail.example.co.uk>", "<[email]>", "email")
	f("mail: jane@example.org.", "mail: [email].", "email")
	f("jane@example.org1 and jane@example.org-x", "[email]1 and [email]-x", "email")
	f("jörg@müller.de", "[email]", "email")
	f("jane@xn--mller-kva.de", "[email]", "email")
	f("a%40example.org", "[email]", "email")
	f("(jane%2540example.org)", "[email]", "email")
	f("@handle, user@localhost, a@b, x@y.z, 50@ 3 EUR", "@handle, user@localhost, a@b, x@y.z, 50@ 3 EUR", "none")

	// Phone: international, national, separators; and what is not a phone.
	f("tel:+4930123456", "tel:[phone]", "phone")
	f("+1-555-123-4567", "[phone]", "phone")
	f("+44 20 7946 0958", "[phone]", "phone")
	f("+49 (0)30 1234567", "[phone]", "phone")
	f("0049 30 1234567", "[phone]", "phone")
	f("030 12345678", "[phone]", "phone")
	f("0151/12345678", "[phone]", "phone")
	f("01511234567", "[phone]", "phone")
	f("(555) 123-4567", "[phone]", "phone")
	f("555-123-4567", "[phone]", "phone")
	f("555 1234", "555 1234", "none") // issue 18: two groups without a prefix are product codes as often as phones
	f("01.23.45.67.89", "[phone]", "phone")
	f("Ruf an: 0151 1234567!", "Ruf an: [phone]!", "phone")
	f("2024-01-15 15/01/2024 15.01.2024 2019-2024 1/2/2024", "2024-01-15 15/01/2024 15.01.2024 2019-2024 1/2/2024", "none")
	f("price 1299.00 or 1.299,00 or 1,299.00 EUR", "price 1299.00 or 1.299,00 or 1,299.00 EUR", "none")
	f("1.234.567 and 1 234 567 inhabitants", "1.234.567 and 1 234 567 inhabitants", "none")
	f("19.99 29.99 39.99", "19.99 29.99 39.99", "none")
	f("order 12345678, ticket 1700000000", "order 12345678, ticket 1700000000", "none")
	f("INV-2024-000123 SKU_555-1234", "INV-2024-000123 SKU_555-1234", "none")
	f("1111111 0000000 +1111111", "1111111 0000000 +1111111", "none")
	f("10 20 30 40 50 60", "10 20 30 40 50 60", "none")
	f("3.14159265358979", "3.14159265358979", "none")
	f("0000123456 zero-padded", "0000123456 zero-padded", "none")
	f("1234567", "1234567", "none")
	f("0151 1234567.89", "0151 1234567.89", "none")

	// Card: Luhn, 13-19 digits, spaces or dashes.
	f("4111111111111111", "[card]", "card")
	f("5500-0000-0000-0004", "[card]", "card")
	f("3782 822463 10005", "[card]", "card")
	f("4222222222222", "4222222222222", "none") // 13-digit Visa numbers are no longer issued; EAN-13 codes look the same
	f("4111.1111.1111.1111 4111  1111  1111  1111", "[card] [card]", "card")
	f("3530 4281 1951 6710", "[card]", "card")        // a group that reads as a year
	f("1473020387504479", "1473020387504479", "none") // Luhn-valid, outside every card range
	f("4111111111111112", "4111111111111112", "none")
	f("0000 0000 0000 0000", "0000 0000 0000 0000", "none")

	// IBAN: mod 97, compact or grouped, case-insensitive.
	f("DE89370400440532013000", "[iban]", "iban")
	f("IBAN: gb82 west 1234 5698 7654 32, thanks", "IBAN: [iban], thanks", "iban")
	f("NO9386011117947", "[iban]", "iban") // shortest (15)
	f("MT84MALT011000012345MTLCAST001S", "[iban]", "iban")
	f("GB82WEST12345698765433", "GB82WEST12345698765433", "none")
	f("GB00WEST12345698765432", "GB00WEST12345698765432", "none") // check digits 00 are never valid

	// Tokens.
	f("session 5f2b8a1c9d3e4f6a7b8c9d0e1f2a3b4c ok", "session [token] ok", "token")
	f("id=550e8400-e29b-41d4-a716-446655440000", "id=[token]", "token")
	f("user-550E8400-E29B-41D4-A716-446655440000-x", "[token]", "token")
	f("key sk_live_51HqLyjWDarjtT1zdp7dcXYZabc123", "key [token]", "token")
	// A JWT: every part goes; the short header (20 characters of base64
	// in random case) reads as a letter token.
	f("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
		"[token].[token].[token]", "token")
	f("top-10-products-for-summer-2024 internationalization-2024-edition", "top-10-products-for-summer-2024 internationalization-2024-edition", "none")
	// Issue 18: 32 letters in a row are a token (reset tokens made only
	// of letters); shorter mixed words stay.
	f("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef deadbeef dQw4w9WgXcQ", "[token] deadbeef dQw4w9WgXcQ", "token")
	f("SuperLightRunningShoe QmVyLkFqZXRaWFlCUGdVFR", "SuperLightRunningShoe [token]", "token")

	// Issue 18 detectors, and what they leave alone.
	f("from 192.0.2.7 or 2001:db8::1 via fe80::1", "from [ip] or [ip] via [ip]", "ip")
	f("ip:fe80::ab:1 ::a:1:2", "ip:[ip] [ip]", "ip")
	// A run of three or more colons starts no address (found by FuzzAppendText:
	// "::0:00" matched inside it, and the second pass then took the rest).
	f("00:0:00:0::::0:00", "00:0:00:0::::0:00", "none")
	// An address found inside a run of groups takes the run with it: the
	// prefix left would read as an address on a second pass.
	f("00:0::0::0:00 x", "[ip] x", "ip")
	f("g12:fe80::1", "g12:[ip]", "ip")
	// An IPv6 address ending in a dotted quad goes whole: "[ip].2.69.142"
	// would keep the host part of the address.
	f("client ::ffff:81.2.69.142 and 64:ff9b::81.2.69.142.", "client [ip] and [ip].", "ip")
	f("1:2:3:4:5:6:81.2.69.142 ::FFFF:192.0.2.7", "[ip] [ip]", "ip")
	f("::ffff:ab.2.69.142", "[ip].2.69.142", "ip") // not a dotted quad: the hex groups only
	f("Chrome/120.0.0.0 Safari/537.36 v1.2.3.4.5 at 12:30:45", "Chrome/120.0.0.0 Safari/537.36 v1.2.3.4.5 at 12:30:45", "none")
	f("mac 00:1A:2B:3C:4D:5E, 00-1a-2b-3c-4d-5e, 001a.2b3c.4d5e, 001a2b3c4d5e", "mac [mac], [mac], [mac], [mac]", "mac")
	f("ids 12345678Z X1234567L AB 12 34 56 C RSSMRA85T10A562S", "ids [id] [id] [id] [id]", "national_id")
	f("Steuer-ID 86095742719, BSN 111222333, NIR 1 85 05 78 006 084 91", "Steuer-ID [id], BSN [id], NIR [id]", "national_id")
	f("Jane's iPhone, Jörg’s MacBook Pro and the iPhone 15", "[device], [device] and the iPhone 15", "device_name")
	f("Jane Doe's iPhone, Émile Zola’s Pixel 8, my Doe's iPad, Élodie's iPad", "[device], [device], my [device], [device]", "device_name")
	// The names Apple gives a watch, a speaker and a desktop Mac.
	f("Jane's Apple Watch, Jane’s HomePod mini, Jane's Mac mini and Jane's Mac Studio", "[device], [device], [device] and [device]", "device_name")
	f("amFuZS5kb2VAZXhhbXBsZS5vcmc= and SGVsbG8gd29ybGQ=", "[email] and SGVsbG8gd29ybGQ=", "email")
	f("+1 555.123.4567 4915112345678 DE89-3704-0044-0532-0130-00", "[phone] [phone] [iban]", "phone|iban")
	// Groups separated by the spaces typography uses (U+00A0 no-break,
	// U+202F narrow no-break, U+2009 thin), as copied from a page.
	f("+33\u00a06\u00a012\u00a034\u00a056\u00a078 +49\u202f151\u202f12345678", "[phone] [phone]", "phone")
	f("card 4111\u00a01111\u00a01111\u00a01111, 4111\u20091111\u20091111\u20091111.", "card [card], [card].", "card")
	f("DE89\u00a03704\u00a00044\u00a00532\u00a00130\u00a000 DE89\u202f3704\u202f0044\u202f0532\u202f0130\u202f00", "[iban] [iban]", "iban")
	f("2024\u00a0édition, 12\u00a0€, 3\u00a0000\u00a0m", "2024\u00a0édition, 12\u00a0€, 3\u00a0000\u00a0m", "none")
	// Two spaces between groups, a no-break one among them (&nbsp; and a
	// space, as pages write them).
	f("4111\u00a0\u00a01111\u00a0\u00a01111\u00a0\u00a01111 4111 \u00a01111 \u00a01111 \u00a01111", "[card] [card]", "card")
	f("4111\u00a0 1111\u00a0 1111\u00a0 1111.", "[card].", "card")
	f("DE89\u00a0 3704\u00a0 0044\u00a0 0532\u00a0 0130\u00a0 00", "[iban]", "iban")
	// Full-width forms, as Japanese, Chinese and Korean input methods type
	// digits and signs by default, the ideographic space, and the dashes
	// typed between groups (katakana ー, en dash, minus sign) are read as
	// their ASCII counterparts; the text around a span keeps its forms.
	f("電話：０９０－１２３４－５６７８まで", "電話：[phone]まで", "phone")
	f("０９０ー１２３４ー５６７８、090‐1234‐5678", "[phone]、[phone]", "phone")
	f("+49 151–2345 6789 and +49 151−2345 6789", "[phone] and [phone]", "phone")
	f("ｊａｎｅ．ｄｏｅ＠ｅｘａｍｐｌｅ．ｃｏｍ jane＠example.jp 山田＠例え.jp ＠ｈａｎｄｌｅ ５０＠ ３ EUR", "[email] [email] [email] ＠ｈａｎｄｌｅ ５０＠ ３ EUR", "email")
	f("カード ４１１１　１１１１　１１１１　１１１１ です", "カード [card] です", "card")
	f("ＤＥ８９ ３７０４ ００４４ ０５３２ ０１３０ ００", "[iban]", "iban")
	f("＋８１ ９０ １２３４ ５６７８", "[phone]", "phone")
	f("価格は１２３円、２０２４年１２月３１日、ｉＰｈｏｎｅ　１５", "価格は１２３円、２０２４年１２月３１日、ｉＰｈｏｎｅ　１５", "none")
	f("x=%EF%BC%90%EF%BC%99%EF%BC%90-1234-5678", "[phone]", "phone")
	// Arabic-Indic, Persian and Devanagari digits.
	f("اتصل بي على ٠٥٠ ١٢٣ ٤٥٦٧ أو +٩٦٦ ٥٠ ١٢٣ ٤٥٦٧", "اتصل بي على [phone] أو [phone]", "phone")
	f("شماره ۰۹۱۲ ۳۴۵ ۶۷۸۹", "شماره [phone]", "phone")
	f("फ़ोन +९१ ९८७६५ ४३२१० करें", "फ़ोन [phone] करें", "phone")
	f("٤١١١ ١١١١ ١١١١ ١١١١", "[card]", "card")
	f("سنة ٢٠٢٤، السعر ١٢٣ ريال", "سنة ٢٠٢٤، السعر ١٢٣ ريال", "none")

	// URLs in text are cleaned as URLs; other escaped words whole.
	f("see https://a.example/?gclid=1&a=2 now", "see https://a.example/?a=2 now", "click_id")
	f("see HTTPS://A.example/u/jane@example.org", "see https://a.example/u/[email]", "email")
	f("broken https:// link", "broken  link", "malformed")
	f("100% sure, 50%off", "100% sure, 50%off", "none")
	f("q=hello%20world", "q=hello%20world", "none")
	f("x=%2B49%20151%2012345678", "[phone]", "phone")

	// Non-ASCII around spans stays intact.
	f("Grüße, jane@example.org — Jörg ☎ 0151 1234567", "Grüße, [email] — Jörg ☎ [phone]", "email|phone")
}

// TestIdeographicFullStop: Chinese and Japanese input methods type '.' as
// the ideographic full stop "。" (U+3002) with their own punctuation on,
// which is how "12345678@qq。com" and "jane.doe@example。co。jp" are
// written (and written to get past filters); the half-width "｡" (U+FF61)
// and the small forms "﹒" (U+FE52) and "﹫" (U+FE6B) do the same. They
// reached every destination whole: only U+FF01..U+FF5E were folded. They
// are read as '.' and '@' now.
func TestIdeographicFullStop(t *testing.T) {
	f := func(in, want, wantFound string) {
		t.Helper()
		got, found := defaultCleaner.AppendText(nil, []byte(in))
		if string(got) != want || found.String() != wantFound {
			t.Fatalf("AppendText(%q)\n got %q %s\nwant %q %s", in, got, found, want, wantFound)
		}
	}
	f("加我 12345678@qq。com 谢谢", "加我 [email] 谢谢", "email")
	f("jane.doe@example。co。jp。", "[email]。", "email")
	f("jane.doe@example｡org", "[email]", "email")
	f("jane﹒doe﹫example﹒org", "[email]", "email")
	f("jane.doe（at）example。org", "[email]", "email")
	f("服务器 192。168。1。23", "服务器 [ip]", "ip")
	// A sentence's full stop stays one.
	f("東京に行きました。大阪も。", "東京に行きました。大阪も。", "none")
	f("mail jane@example.jp。 ありがとう", "mail [email]。 ありがとう", "email")
}

// TestInvisibleCharacters: a control character or a zero-width one inside
// an address or a number ("jane.doe\u0000@example.org" from a JSON string,
// "%00" from a query) hid it from every detector, and the value reached the
// destinations whole. Such characters are read both ways: left out, and as
// the word break they were before ("call\u0000+49 ...").
func TestInvisibleCharacters(t *testing.T) {
	f := func(in, want, wantFound string) {
		t.Helper()
		got, found := defaultCleaner.AppendText(nil, []byte(in))
		if string(got) != want || found.String() != wantFound {
			t.Fatalf("AppendText(%q)\n got %q %s\nwant %q %s", in, got, found, want, wantFound)
		}
	}
	f("jane.doe\x00@example.org", "[email]", "email")
	f("mail jane.doe@\x01example.org now", "mail [email] now", "email")
	f("j\x00a\x00n\x00e\x00@\x00e\x00x\x00a\x00m\x00p\x00l\x00e\x00.\x00o\x00r\x00g\x00", "[email]", "email")
	f("jane.doe(at)example\x7f(dot)org", "[email]", "email")
	f("+49\u200b30\u200b1234567", "[phone]", "phone")
	f("tel +49\x1f30\x1f1234567.", "tel [phone].", "phone")
	f("\ufeff4111\u200d1111\u20601111\u200c1111", "\ufeff[card]", "card")
	f("192.168\x00.1.23", "[ip]", "ip")
	// Where it parts words, it still does.
	f("call\x00+49 30 1234567", "call\x00[phone]", "phone")
	f("x\x00192.168.1.1", "x\x00[ip]", "ip")
	// Nothing to find: the value is kept as sent.
	f("a\x00b \u200bplain\u200d text", "a\x00b \u200bplain\u200d text", "none")

	// In a URL, after its escapes are decoded.
	u := "https://shop.example/u/jane.doe%00%40example.org?n=%2B49%00301234567"
	if got, found := defaultCleaner.AppendURL(nil, []byte(u), URLClean); string(got) != "https://shop.example/u/[email]" || found.String() != "email|phone" {
		t.Fatalf("AppendURL(%q)\n got %q %s", u, got, found)
	}
}

func TestAppendTextKeepsDst(t *testing.T) {
	got, _ := defaultCleaner.AppendText([]byte("prefix "), []byte("mail a@example.org"))
	if string(got) != "prefix mail [email]" {
		t.Fatalf("got %q", got)
	}
}

func TestKinds(t *testing.T) {
	for k := KindEmail; k <= KindLast; k++ {
		if k.String() == "unknown" || k.String() == "" {
			t.Fatalf("Kind(%d) has no name", k)
		}
		if hasMarker := k.Marker() != ""; hasMarker != (valueKinds.Has(k)) {
			t.Fatalf("Kind %s: marker %q", k, k.Marker())
		}
	}
	if Kind(200).String() != "unknown" || Kind(200).Marker() != "" || KindNone.String() != "none" {
		t.Fatal("out of range kinds")
	}
	f := KindEmail.bit() | KindMalformed.bit()
	if f.String() != "email|malformed" || !f.Has(KindEmail) || f.Has(KindPhone) || Found(0).String() != "none" {
		t.Fatalf("Found.String = %s", f)
	}
}

func TestDatesAndPhonesTogether(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		got, _ := defaultCleaner.AppendText(nil, []byte(in))
		if string(got) != want {
			t.Fatalf("AppendText(%q)\n got %q\nwant %q", in, got, want)
		}
	}
	f("2024-01-15 15/01/2024 15.01.2024 2019-2024 1/2/2024", "2024-01-15 15/01/2024 15.01.2024 2019-2024 1/2/2024")
	f("2024-01-15 0151 1234567", "2024-01-15 [phone]")
	f("15.01.2024 +49 151 12345678", "15.01.2024 [phone]")
	f("+49 2024 123456", "[phone]") // a leading '+' is never a date
	f("12345 0151 1234567", "12345 [phone]")
}

// TestAppendUserAgent: in-app browsers' 9-digit build numbers that pass
// the Dutch BSN's eleven test stay in a User-Agent header (AppendText
// reads them as citizen numbers); everything else is found as in text.
func TestAppendUserAgent(t *testing.T) {
	for _, ua := range []string{
		"Mozilla/5.0 (Linux; Android 13; SM-S918B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 Instagram 312.1.0.34.111 Android (33/13; 450dpi; 1080x2340; samsung; SM-S918B; dm3q; qcom; de_DE; 520702220)",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/447.0.0.45.105;FBBV/520702220;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.1;FBSS/3;FBID/phone;FBLC/de_DE;FBOP/5]",
	} {
		if _, f := defaultCleaner.AppendText(nil, []byte(ua)); !f.Has(KindNationalID) {
			t.Fatalf("AppendText no longer reads the build number as a BSN (%s): the test checks nothing; pick another", f)
		}
		if out, f := defaultCleaner.AppendUserAgent(nil, []byte(ua)); f != 0 || string(out) != ua {
			t.Errorf("AppendUserAgent(%q) = %q %s; want it unchanged", ua, out, f)
		}
	}
	for _, tc := range []struct{ in, want, found string }{
		{"MyShopApp/4.2 (iPhone; user jane.doe@example.org)", "MyShopApp/4.2 (iPhone; user [email])", "email"},
		{"MyShopApp/4.2 (iPhone; tel +49 151 12345678)", "MyShopApp/4.2 (iPhone; tel [phone])", "phone"},
		{"MyShopApp/4.2 (Android; card 4111 1111 1111 1111)", "MyShopApp/4.2 (Android; card [card])", "card"},
		{"MyShopApp/4.2 (Android; id 86095742719)", "MyShopApp/4.2 (Android; id [id])", "national_id"}, // DE Steuer-ID
	} {
		if out, f := defaultCleaner.AppendUserAgent(nil, []byte(tc.in)); string(out) != tc.want || f.String() != tc.found {
			t.Errorf("AppendUserAgent(%q) = %q %s; want %q %s", tc.in, out, f, tc.want, tc.found)
		}
	}
}

// TestObfuscatedEmail: addresses written to dodge harvesters are e-mail
// addresses, replaced whole like any other; prose with "at" and "dot" in
// it is not.
func TestObfuscatedEmail(t *testing.T) {
	f := func(in, want, wantFound string) {
		t.Helper()
		got, found := defaultCleaner.AppendText(nil, []byte(in))
		if string(got) != want || found.String() != wantFound {
			t.Fatalf("AppendText(%q)\n got %q %s\nwant %q %s", in, got, found, want, wantFound)
		}
		again, _ := defaultCleaner.AppendText(nil, got)
		if string(again) != string(got) {
			t.Fatalf("AppendText(%q) twice: %q, then %q", in, got, again)
		}
	}
	// Bracketed at sign, with or without blanks, any case, any dots.
	for _, in := range []string{
		"jane.doe(at)example.org",
		"jane.doe (at) example.org",
		"jane.doe [at] example [dot] org",
		"jane.doe{at}example.org",
		"jane.doe<at>example.org",
		"jane.doe [AT] example [DOT] org",
		"jane.doe( at )example( dot )org",
		"jane.doe (at) example (dot) co (dot) uk",
		"jane.doe(at)example(dot)org",
		"jane.doe{at}example{dot}org",
		"jane.doe<at>example<dot>org",
		"jane.doe[@]example[.]org",
		"jane.doe(@)example(.)org",
		"jane.doe @ example.org",
		"jane.doe(at)example dot org",
		"jane [at] example [dot] org",
		"jane(at)mail.example.co.uk",
		"jane.doe\t(at)\texample.org",
		// Spaced dots after a bracketed at sign, before a well-known TLD.
		"jane.doe (at) example . org",
		"jane.doe(at)example . co . uk",
		"jane.doe [at] mail . example . de",
		// "-at-" between blanks is as strong as "(at)"; glued, it is the
		// plain word (a host name reads "shop.stay-at-home.de").
		"jane.doe -at- example.org",
		"jane -AT- example . org",
		"jane.doe -at- example [dot] co [dot] uk",
		"jane.doe-at-example(dot)org",
		"jane.doe-at-example [dot] org",
		"jane.doe-at-example dot org",
		// Brackets percent-escaped, in a word of their own.
		"jane.doe %28at%29 example.org",
		"jane.doe %5Bat%5D example.org",
		"jane.doe %5bAT%5d example %5Bdot%5D org",
		"jane %5Bdot%5D doe %7Bat%7D example . org",
		// The dots of the local part written out too.
		"jane dot doe at example dot org",
		"jane [dot] doe [at] example [dot] org",
		"jane DOT doe AT example DOT org",
		// Plain " at ": a bracketed dot, or a local part that looks like one.
		"jane at example [dot] org",
		"jane at example (dot) co.uk",
		"jane.doe at example dot org",
		"jane_doe at example dot com",
		"jane.doe at example dot co dot uk",
		"jane.doe at example dot co.uk",
		"jdoe42 at example dot de",
		"12345678 at qq dot com",
		"jane.doe AT example DOT org",
		// Form-encoded: '+' for a space.
		"jane.doe+at+example+dot+org",
		"jane.doe+[at]+example+[dot]+org",
		"jane+dot+doe+(at)+example+(dot)+org",
	} {
		f(in, "[email]", "email")
		f("Write to "+in+", thanks.", "Write to [email], thanks.", "email")
		f("("+in+")", "([email])", "email")
	}
	// Full-width brackets and at sign are folded first.
	f("jane.doe（at）example.org", "[email]", "email")
	f("mail: jane.doe ［at］ example ［dot］ org!", "mail: [email]!", "email")
	// Glued text cannot hide it: the address ends inside the label, as an
	// ordinary one does.
	f("jane(at)example.org1", "[email]1", "email")
	f("jane [at] example [dot] org-x", "[email]-x", "email")
	f("jane.doe at example dot org.", "[email].", "email")
	// Prose: nothing to replace.
	for _, in := range []string{
		"meet me at the station",
		"look at example.com",
		"look at example.com dot org",
		"at home dot matrix",
		"I am at home dot matrix",
		"I'm at home dot com",
		"visit us at example dot com",
		"he worked at a dot com startup",
		"Sold 10 at a dot com startup",
		"in 2019 at a dot com startup",
		"got 2.5 at a dot com",
		"she was at the dot com boom",
		"e.g. at home dot com",
		"jane at example dot matrix",
		"jane at example dot org", // a plain word alone: not told from "us at example dot com"
		"jane.doe at example dot comfy",
		"sale (at) checkout",
		"price (at) 5 EUR",
		"user(at)localhost",
		"a(at)b",
		"x(at)y.z",
		"(at) example.org",
		"[at] example [dot] org",
		"jane.doe at example",
		"jane.doe.(at)example.org",
		"a polka dot dress at home",
		"thanks @jane.doe and @ example",
		"Meet At The Station Dot Com",
		"data(att)example.org, data(at.example.org, data[at)example.org",
		// A spaced dot only after a bracketed at sign, and only before a
		// well-known TLD: a sentence may end with " . ".
		"sale (at) checkout . Then we left",
		"jane.doe at example . org",
		"meet me at home . com is down",
		// Glued "-at-" with real dots is a host name or a slug.
		"shop.stay-at-home.de",
		"www.eat-at-joes.com",
		"stay-at-home dot com",
		"https://shop.example/blog/work-at-home.html",
		"jane.doe-at-example.org", // not told from shop.stay-at-home.de
		"meet -at- the station",
		"sale %28at%29 checkout",
		"price %5Bat%5D 5 EUR",
		"%28at%29 example.org",
	} {
		f(in, in, "none")
	}
	// An ordinary address next to one written out.
	f("jane@example.org or jane(at)example.org", "[email] or [email]", "email")
}

// A local part may hold the signs RFC 5322 allows besides letters, digits
// and ".+-_": an apostrophe in an Irish or Italian name, "&", "%" of an
// old relay address. The scan read the address from the run after the
// last such sign and kept the rest: "sean.o'connor@example.ie" left
// "sean.o'" in the text.
func TestLocalPartJoinedBySigns(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		got, found := defaultCleaner.AppendText(nil, []byte(in))
		if string(got) != want || found.String() != "email" {
			t.Fatalf("AppendText(%q)\n got %q %s\nwant %q email", in, got, found, want)
		}
	}
	f("sean.o'connor@example.ie", "[email]")
	f("mail o'brien@example.ie or d'angelo.maria@example.it", "mail [email] or [email]")
	f("write to sean.o'connor(at)example(dot)ie", "write to [email]")
	f("tom&jerry@example.org, jane!doe@example.org", "[email], [email]")
	f("a~b$c*d^e`f@example.org", "[email]")
	// '|' and '#' join the fields of labels and references.
	f("2024-11-28|order-1234|jane@example.org ref#jane@example.org", "2024-11-28|order-1234|[email] ref#[email]")
	f("user%host.example@relay.example.org", "[email]")
	f("jane%7D(at)example.org jane.doe%2E(at)example.org", "[email] [email]")
	// Only between two runs of the local part: a sign before the
	// address, and what other signs part, stay.
	f("'jane@example.org' {jane@example.org} #jane@example.org it's jane@example.org",
		"'[email]' {[email]} #[email] it's [email]")
	f("q=a/b?c=jane@example.org", "q=a/b?c=[email]")
	// Linear: one walk back per address.
	long := strings.Repeat("a'", 1<<14) + "a@example.org"
	if got, _ := defaultCleaner.AppendText(nil, []byte(long)); string(got) != "[email]" {
		t.Fatalf("long local part: got %d bytes %q...", len(got), got[:min(len(got), 40)])
	}
}

// RFC 5322 allows a quoted local part, often a name, and an address
// literal for the domain; the scan read neither as an address and kept
// the name: "\"jane doe\"@example.org" whole, "jane@[203.0.113.7]" as
// "jane@[[ip]]".
func TestQuotedLocalPartAndAddressLiterals(t *testing.T) {
	f := func(in, want, wantFound string) {
		t.Helper()
		got, found := defaultCleaner.AppendText(nil, []byte(in))
		if string(got) != want || found.String() != wantFound {
			t.Fatalf("AppendText(%q)\n got %q %s\nwant %q %s", in, got, found, want, wantFound)
		}
	}
	f(`write to "jane doe"@example.org`, "write to [email]", "email")
	f(`"jane.\"jd\".doe"@example.org, "x"@example.org`, "[email], [email]", "email")
	f("jane@[203.0.113.7] jane@[IPv6:2001:db8::1] jane@[2001:db8::1] jane@192.0.2.1", "[email] [email] [email] [email]", "email")
	// A domain name that starts with digits is still one.
	f("jane@1.2.3.4.example.org", "[email]", "email")
	// Quotes that are no local part, and what is no address literal, stay.
	f(`{"email":"jane@example.org"} "Jane Doe" <jane@example.org>`, `{"email":"[email]"} "Jane Doe" <[email]>`, "email")
	f(`""@example.org "a`+"\n"+`b"@example.org jane@[1.2.3] user@localhost`, `""@example.org "a`+"\n"+`b"@example.org jane@[1.2.3] user@localhost`, "none")
}
