package scrub

import "testing"

var defaultCleaner = MustNew(Options{})

func TestAppendURLClean(t *testing.T) {
	f := func(in, want, wantFound string) {
		t.Helper()
		got, found := defaultCleaner.AppendURL(nil, []byte(in), URLClean)
		if string(got) != want || found.String() != wantFound {
			t.Fatalf("AppendURL(%q)\n got %q %s\nwant %q %s", in, got, found, want, wantFound)
		}
	}
	// Nothing personal: unchanged.
	f("https://shop.example/products/shoes?color=red&size=42#reviews",
		"https://shop.example/products/shoes?color=red&size=42#reviews", "none")
	f("https://example.com", "https://example.com", "none")
	f("/relative/path?q=1", "/relative/path?q=1", "none")
	// A fragment's parameter named with a '?' goes: kept first, it would
	// read as the fragment's query mark when cleaned again.
	f("/#gclid=1&a?&b=", "/#b=", "click_id")
	f("/#YClid=&?&=", "/#=", "click_id")
	f("/#a=1&b?c=2&d=3", "/#a=1&d=3", "none")
	f("//cdn.example/a.js?v=3", "//cdn.example/a.js?v=3", "none")
	// Scheme and host are lower-cased; the path is not.
	f("HTTPS://WWW.Example.COM:8443/Path", "https://www.example.com:8443/Path", "none")
	// Click identifiers, built in, in query and fragment, any case.
	for _, id := range BuiltinClickIDs {
		f("https://a.example/?"+id+"=Cj0KCQ&x=1", "https://a.example/?x=1", "click_id")
	}
	f("https://a.example/?GCLID=abc&FbClid=def", "https://a.example/", "click_id")
	// Klaviyo's exchange id (it names the e-mail's recipient), Snapchat's,
	// Reddit's, Impact's and Quora's click ids, as their tags append them.
	f("https://a.example/?_kx=Zp9Xk2uV8xQ.WvCjmH&ScCid=8a1e2f3c-44b1&rdt_cid=3052715738&irclickid=Ud0zE1RkHxyK&qclid=7c3e9f&x=1",
		"https://a.example/?x=1", "click_id")
	f("https://a.example/?gcl%69d=abc", "https://a.example/", "click_id") // encoded name
	f("https://a.example/#gclid=abc&section=2", "https://a.example/#section=2", "click_id")
	f("https://a.example/#/route?fbclid=abc&tab=1", "https://a.example/#/route?tab=1", "click_id")
	f("https://a.example/#x?gclid=1", "https://a.example/#x", "click_id")
	// Appended after a '?' or '#' that was already there: the click id
	// lands in another parameter's value, which goes with it.
	f("https://a.example/?utm_source=x?fbclid=IwAR1&b=2", "https://a.example/?b=2", "click_id")
	f("https://a.example/?a=1?b=2?gclid=Cj0&c=3", "https://a.example/?c=3", "click_id")
	f("https://a.example/?a=1%3Fgclid%3DCj0&c=3", "https://a.example/?c=3", "click_id")
	f("https://a.example/#x=1#gclid=Cj0&y=2", "https://a.example/#y=2", "click_id")
	f("https://a.example/?next=/login?password=x", "https://a.example/", "param")
	f("https://a.example/?next=https%3A%2F%2Fb.example%2F%3Fa%3D1%26gclid%3Dabc&r=1", "https://a.example/?r=1", "click_id")
	f("https://a.example/?utm_source=x;gclid=Cj0&r=1", "https://a.example/?r=1", "click_id")
	f("https://a.example/?utm_source=x?+fbclid=IwAR1&r=1", "https://a.example/?r=1", "click_id")
	f("https://a.example/?a=1&amp;password=hunter2&amp;b=2", "https://a.example/?a=1&amp;b=2", "param")
	// Words, not parameters: no '=' after the name.
	f("https://a.example/?q=what?&r=1", "https://a.example/?q=what?&r=1", "none")
	f("https://a.example/?q=what?name", "https://a.example/?q=what?name", "none")
	f("https://a.example/?q=%23code&tag=%23name", "https://a.example/?q=%23code&tag=%23name", "none")
	f("https://a.example/?next=/faq%23reset", "https://a.example/?next=/faq%23reset", "none")
	// utm_* kept by default; values still scanned.
	f("https://a.example/?utm_source=news&utm_medium=email&utm_campaign=spring",
		"https://a.example/?utm_source=news&utm_medium=email&utm_campaign=spring", "none")
	f("https://a.example/?utm_source=news&utm_content=jane%40example.org",
		"https://a.example/?utm_source=news", "email")
	// Sensitive names go whatever their value.
	f("https://a.example/login?user=x&password=hunter2&PWD=x&access_token=y", "https://a.example/login", "param")
	// E-mail anywhere: query value, encoded, double-encoded inside a
	// redirect URL, name without value, fragment, path segment.
	f("https://a.example/?q=jane.doe@example.org&p=2", "https://a.example/?p=2", "email")
	f("https://a.example/?q=jane.doe%40example.org", "https://a.example/", "email")
	f("https://a.example/?q=jane.doe%2540example.org", "https://a.example/", "email")
	f("https://a.example/r?next=https%3A%2F%2Fb.example%2F%3Fu%3Djane%2540example.org&ok=1", "https://a.example/r?ok=1", "email")
	f("https://a.example/?jane@example.org", "https://a.example/", "email")
	f("https://a.example/#contact=jane@example.org", "https://a.example/", "email")
	f("https://a.example/users/jane.doe@example.org/orders", "https://a.example/users/[email]/orders", "email")
	f("https://a.example/users/jane.doe%40example.org/", "https://a.example/users/[email]/", "email")
	f("https://a.example/#/users/jane@example.org?tab=1", "https://a.example/#/users/[email]?tab=1", "email")
	f("https://a.example/u/J%C3%B6rg@m%C3%BCller.de", "https://a.example/u/[email]", "email") // IDN
	// Phone numbers.
	f("https://a.example/?tel=%2B49%20151%2012345678", "https://a.example/", "param")
	f("https://a.example/?n=%2B49%20151%2012345678", "https://a.example/", "phone")
	f("https://a.example/?n=+4915112345678", "https://a.example/", "phone") // '+' kept as '+'
	f("https://a.example/call/0151-12345678", "https://a.example/call/[phone]", "phone")
	f("https://a.example/?c=(555)%20123-4567", "https://a.example/", "phone")
	// Cards (Luhn) and IBANs (mod 97).
	f("https://a.example/pay?c=4111111111111111", "https://a.example/pay", "card")
	f("https://a.example/pay?c=4111%201111%201111%201111", "https://a.example/pay", "card")
	f("https://a.example/pay/4111-1111-1111-1111", "https://a.example/pay/[card]", "card")
	f("https://a.example/pay?c=4111111111111112", "https://a.example/pay?c=4111111111111112", "none") // Luhn fails
	f("https://a.example/sepa?i=DE89370400440532013000", "https://a.example/sepa", "iban")
	f("https://a.example/sepa/GB82%20WEST%201234%205698%207654%2032", "https://a.example/sepa/[iban]", "iban")
	f("https://a.example/sepa?i=GB82WEST12345698765433", "https://a.example/sepa?i=GB82WEST12345698765433", "none") // mod 97 fails
	f("https://a.example/sepa?i=DE89370400440532013001", "https://a.example/sepa", "token")                         // mod 97 fails, but 22 hex characters
	// Tokens: hex ids, UUIDs, base64url, JWTs, session ids in matrix params.
	f("https://a.example/reset/5f2b8a1c9d3e4f6a7b8c9d0e1f2a3b4c", "https://a.example/reset/[token]", "token")
	f("https://a.example/o/550e8400-e29b-41d4-a716-446655440000/items", "https://a.example/o/[token]/items", "token")
	f("https://a.example/?t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "https://a.example/", "token")
	f("https://a.example/index.jsp;jsessionid=0A1B2C3D4E5F60718293A4B5C6D7E8F9", "https://a.example/index.jsp", "param")
	f("https://a.example/cart;JSESSIONID=ABCDEF;v=2/x", "https://a.example/cart;v=2/x", "param")
	f("https://a.example/ip/192.168.100.200", "https://a.example/ip/[ip]", "ip")
	f("https://a.example/login?passwort=geheim&code=abc&state=xyz&page=2", "https://a.example/login?page=2", "param")
	f("https://a.example/?utm_campaign=5f2b8a1c9d3e4f6a&utm_content=5f2b8a1c9d3e4f6a", "https://a.example/?utm_campaign=5f2b8a1c9d3e4f6a", "token")
	f("https://a.example/?r=jane%252525252540example.org", "https://a.example/", "email")
	// Userinfo always goes.
	f("https://jane:secret@a.example/x", "https://a.example/x", "userinfo")
	f("https://jane.doe@example.org@a.example/", "https://a.example/", "userinfo")
	// Several kinds at once; empty parameters are dropped.
	f("https://a.example/u/jane@example.org?gclid=1&&n=0151%201234567&keep=1&#",
		"https://a.example/u/[email]?keep=1", "email|phone|click_id")
	// Full-width digits and signs (as input methods type them), escaped or
	// not, in a query value and in a path segment.
	f("https://a.example/search?q=%EF%BC%90%EF%BC%99%EF%BC%90%EF%BC%8D%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%8D%EF%BC%95%EF%BC%96%EF%BC%97%EF%BC%98&page=2",
		"https://a.example/search?page=2", "phone")
	f("https://a.example/u/jane%EF%BC%A0example.org/orders", "https://a.example/u/[email]/orders", "email")
	f("https://a.example/u/jane＠example.org/orders", "https://a.example/u/[email]/orders", "email")
}

func TestAppendURLNoFalsePositives(t *testing.T) {
	f := func(in string) {
		t.Helper()
		got, found := defaultCleaner.AppendURL(nil, []byte(in), URLClean)
		if string(got) != in || found != 0 {
			t.Fatalf("AppendURL(%q) = %q %s; want it unchanged", in, got, found)
		}
	}
	f("https://a.example/blog/2024-01-15/top-10-products-for-summer-2024")
	f("https://a.example/archive/15.01.2024/")
	f("https://a.example/events/2019-2024")
	f("https://a.example/order/12345678?page=2&per_page=48")
	f("https://a.example/p?price=1299.00&was=1.499,00&qty=3")
	f("https://a.example/p?total=1.234.567&n=19.99+29.99")
	f("https://a.example/?_=1700000000123&ts=1700000000") // jQuery cache buster, Unix time
	f("https://a.example/invoice/INV-2024-000123")
	f("https://a.example/sku/ABC-12345-XL")
	f("https://a.example/v/dQw4w9WgXcQ")
	f("https://a.example/p/B08N5WRWNW")
	f("https://a.example/status/1728394857362718272") // snowflake id: 19 digits, Luhn fails
	f("https://a.example/version/10.0.19045.3803")
	f("https://a.example/@jane") // a handle, not an address
	f("https://a.example/a-very-long-slug-with-many-words-and-a-year-2024-in-it")
	f("https://a.example/internationalization-2024-edition")
	f("https://a.example/?utm_source=newsletter&utm_campaign=2024-spring")
	f("https://a.example/#section-3")
	f("https://a.example/?q=call+me+maybe&lang=en-US")
}

func TestAppendURLModes(t *testing.T) {
	f := func(in string, mode URLMode, want, wantFound string) {
		t.Helper()
		got, found := defaultCleaner.AppendURL(nil, []byte(in), mode)
		if string(got) != want || found.String() != wantFound {
			t.Fatalf("AppendURL(%q, %s)\n got %q %s\nwant %q %s", in, mode, got, found, want, wantFound)
		}
	}
	const u = "https://Jane:pw@A.example:8080/users/jane@example.org/x?gclid=1&q=2#frag"
	f(u, URLOrigin, "https://a.example:8080", "userinfo")
	f(u, URLPath, "https://a.example:8080/users/[email]/x", "email|userinfo")
	f(u, URLClean, "https://a.example:8080/users/[email]/x?q=2#frag", "email|click_id|userinfo")
	f("/only/path?q=1", URLOrigin, "", "none")
	f("/only/jane@example.org?q=1", URLPath, "/only/[email]", "email")
	// Schemes other than http(s) keep their origin only, in every mode.
	f("android-app://com.google.android.gm/x/jane@example.org", URLClean, "android-app://com.google.android.gm", "none")
	f("android-app://com.google.android.gm/", URLPath, "android-app://com.google.android.gm", "none")
	if URLOrigin.String() != "origin" || URLPath.String() != "path" || URLClean.String() != "clean" || URLMode(9).String() != "unknown" {
		t.Fatal("URLMode.String")
	}
}

// TestAppendURLNumericHost: a browser reads a host whose last label is a
// number, decimal or hexadecimal ("0xC0A80105", "0xc0.0xa8.1.5"), as an
// IPv4 address (WHATWG URL "ends in a number"), but only digits and dots
// were taken for one, so "http://0xC0A80105/" went out with its host,
// 192.168.1.5, where README says a URL whose host is an address is
// dropped. Any host ending in a number is an address now.
func TestAppendURLNumericHost(t *testing.T) {
	f := func(in, want, wantFound string) {
		t.Helper()
		for _, mode := range []URLMode{URLOrigin, URLPath, URLClean} {
			got, found := defaultCleaner.AppendURL([]byte("keep:"), []byte(in), mode)
			if string(got) != "keep:"+want || found.String() != wantFound {
				t.Fatalf("AppendURL(%q, %s)\n got %q %s\nwant %q %s", in, mode, got, found, "keep:"+want, wantFound)
			}
		}
	}
	f("http://0xC0A80105/x", "", "ip")
	f("http://0xc0.0xa8.1.5/x", "", "ip")
	f("http://0XC0.168.0x1.5:8080/x", "", "ip")
	f("http://0300.0250.1.5/x", "", "ip")
	f("http://3232235781/", "", "ip")
	f("https://192.168.1.5./x", "", "ip")
	f("https://shop.example.0x1/", "", "ip")
	// Names that only start with a number, or hold "0x", stay names.
	f("https://0xcafe.example", "https://0xcafe.example", "none")
	f("https://www.example.0xg", "https://www.example.0xg", "none")
	f("https://1password.com", "https://1password.com", "none")
}

func TestAppendURLMalformed(t *testing.T) {
	f := func(in, want, wantFound string) {
		t.Helper()
		for _, mode := range []URLMode{URLPath, URLClean} {
			got, found := defaultCleaner.AppendURL([]byte("keep:"), []byte(in), mode)
			if string(got) != "keep:"+want || found.String() != wantFound {
				t.Fatalf("AppendURL(%q, %s)\n got %q %s\nwant %q %s", in, mode, got, found, "keep:"+want, wantFound)
			}
		}
	}
	f("", "", "none")
	f("   ", "", "none")
	f("mailto:jane@example.org", "", "malformed")
	f("javascript:alert(1)", "", "malformed")
	f("data:text/plain,jane@example.org", "", "malformed")
	f("jane@example.org", "", "malformed")
	f("example.com/path", "", "malformed")
	f("https:example.com", "", "malformed")
	f("https:\\\\example.com\\x", "", "malformed")
	f("https://", "", "malformed")
	f("https:///path", "", "malformed")
	f("https://exa mple.com/", "", "malformed")
	f("https://exa%6Dple.com/", "", "malformed")
	f("https://a.example:8080@/x", "", "userinfo|malformed")
	f("http://[::1]:8080/x", "http://[::1]:8080/x", "none") // loopback names nobody
	f("http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x", "none")
	f("http://[2001:db8::1]:8080/x", "", "ip")
	f("http://192.168.1.20/x", "", "ip")
	f("ht tp://a.example/", "", "malformed")
	f("1http://a.example/", "", "malformed")
	// A control byte or space after the host: origin only.
	f("https://a.example/a b?q=jane@example.org", "https://a.example", "malformed")
	f("https://a.example/x\x00y", "https://a.example", "malformed")
	f("/rel/a\tb", "", "malformed")
	// Broken escapes are literal, not errors (kept by clean; path keeps
	// only segments shaped like path words, on every site).
	for mode, want := range map[URLMode]string{URLClean: "https://a.example/100%25/%zz/% none", URLPath: "https://a.example/{id}/{id}/{id} segment"} {
		got, found := defaultCleaner.AppendURL(nil, []byte("https://a.example/100%25/%zz/%"), mode)
		if string(got)+" "+found.String() != want {
			t.Errorf("broken escapes, %s: got %q %s; want %s", mode, got, found, want)
		}
	}
	// Leading and trailing white space is trimmed.
	f("  https://a.example/x \n", "https://a.example/x", "none")
	// A port is a number up to 65535: digits a page put after the host's
	// colon (a card or phone number) make the URL malformed, not kept.
	f("https://a.example:4111111111111111/x", "", "malformed")
	f("https://a.example:004915112345678/x", "", "malformed")
	f("https://a.example:65536/x", "", "malformed")
	f("https://a.example:80a/x", "", "malformed")
	f("https://a.example:1:2/x", "", "malformed")
	f("https://[::1]x/", "", "malformed")
	f("https://a]b.example/", "", "malformed")
	f("https://a.example:65535/x", "https://a.example:65535/x", "none")
	f("https://a.example:/x", "https://a.example:/x", "none") // an empty port (RFC 3986)
}

func TestOptions(t *testing.T) {
	c, err := New(Options{
		ExtraClickIDs: []string{"MyClick", "ref_id"},
		DropParams:    []string{"customer"},
		DropUTM:       true,
		KeepUUIDs:     true,
	})
	if err != nil {
		t.Fatal(err)
	}
	f := func(in, want, wantFound string) {
		t.Helper()
		got, found := c.AppendURL(nil, []byte(in), URLClean)
		if string(got) != want || found.String() != wantFound {
			t.Fatalf("AppendURL(%q)\n got %q %s\nwant %q %s", in, got, found, want, wantFound)
		}
	}
	f("https://a.example/?myclick=1&REF_ID=2&a=3", "https://a.example/?a=3", "click_id")
	f("https://a.example/?customer=Jane&a=3", "https://a.example/?a=3", "param")
	f("https://a.example/?utm_source=x&a=3", "https://a.example/?a=3", "param")
	f("https://a.example/o/550e8400-e29b-41d4-a716-446655440000", "https://a.example/o/550e8400-e29b-41d4-a716-446655440000", "none")
	f("https://a.example/?gclid=1", "https://a.example/", "click_id") // built-ins stay

	_, err = New(Options{ExtraClickIDs: []string{"", "a=b", "ok"}, DropParams: []string{"x y", string(make([]byte, 65))}})
	if err == nil {
		t.Fatal("New accepted bad names")
	}
	want := "scrub: DropParams[0]: name must be printable ASCII without spaces\n" +
		"scrub: DropParams[1]: name longer than 64 bytes\n" +
		"scrub: ExtraClickIDs[0]: empty name\n" +
		"scrub: ExtraClickIDs[1]: name must not contain & = # ? or % (names are matched after decoding)"
	if err.Error() != want {
		t.Fatalf("error:\n%s\nwant:\n%s", err, want)
	}
	if DefaultOptions().DropUTM || DefaultOptions().KeepUUIDs {
		t.Fatal("DefaultOptions must keep utm_* and treat UUIDs as tokens")
	}
}
