//go:build !race

package scrub

import "testing"

func TestNoAllocs(t *testing.T) {
	if len(url400) != 400 {
		t.Fatalf("url400 is %d bytes", len(url400))
	}
	c := MustNew(Options{ExtraClickIDs: []string{"ref"}})
	text := []byte("Hi, I'm Jane (jane.doe@example.org, +49 151 12345678). Card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, see https://a.example/?gclid=1&x=2 or a%40b.com")
	in := []byte(url400)
	dst := make([]byte, 0, 64) // grows during warm-up, then is reused
	f := func(name string, fn func()) {
		t.Helper()
		fn() // warm-up: dst grows to its working size
		if n := testing.AllocsPerRun(1000, fn); n != 0 {
			t.Fatalf("%s: %v allocs per run; want 0", name, n)
		}
	}
	for _, mode := range []URLMode{URLOrigin, URLPath, URLClean} {
		f("AppendURL "+mode.String(), func() { dst, _ = c.AppendURL(dst[:0], in, mode) })
	}
	f("AppendText", func() { dst, _ = c.AppendText(dst[:0], text) })
	// Issue 18: page URLs of a site with hosts and routes, and the new
	// detectors in text.
	page := []byte("https://jane.shop.example/user/jane-doe/orders;jsessionid=AB12?passwort=x&utm_campaign=5f2b8a1c9d3e4f6a#/c/Jane_Doe")
	site := []byte(shopSite.ID)
	for _, mode := range []URLMode{URLPath, URLClean} {
		f("AppendPageURL "+mode.String(), func() { dst, _ = siteCleaner.AppendPageURL(dst[:0], page, mode, site) })
	}
	more := []byte("Jane's iPhone 00:1A:2B:3C:4D:5E 192.0.2.7 2001:db8::1 12345678Z AB 12 34 56 C amFuZS5kb2VAZXhhbXBsZS5vcmc= 4111.1111.1111.1111")
	f("AppendText issue 18", func() { dst, _ = c.AppendText(dst[:0], more) })
	wide := []byte("電話：０９０－１２３４－５６７８、ｊａｎｅ＠ｅｘａｍｐｌｅ．ｊｐ、カード ４１１１　１１１１　１１１１　１１１１")
	f("AppendText full-width", func() { dst, _ = c.AppendText(dst[:0], wide) })
	wideURL := []byte("https://a.example/search?q=%EF%BC%90%EF%BC%99%EF%BC%90%EF%BC%8D%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94&u=jane＠example.org")
	f("AppendURL full-width", func() { dst, _ = c.AppendURL(dst[:0], wideURL, URLClean) })
	invisible := []byte("mail jane.doe\x00@example.org or call\x00+49\u200b30\u200b1234567")
	f("AppendText invisible", func() { dst, _ = c.AppendText(dst[:0], invisible) })
	invisibleURL := []byte("https://a.example/u/jane.doe%00%40example.org?n=%2B49%00301234567")
	f("AppendURL invisible", func() { dst, _ = c.AppendURL(dst[:0], invisibleURL, URLClean) })
	// Addresses written to dodge harvesters, in text, folded, and in URLs.
	obf := []byte("Write to jane.doe [at] example [dot] org, j.smith(at)mail.example.co.uk or jane dot doe at example dot org, jane.doe %28at%29 example.org; meet me at the station.")
	f("AppendText obfuscated", func() { dst, _ = c.AppendText(dst[:0], obf) })
	obfWide := []byte("メール：jane.doe（at）example．org ／ jane ［at］ example ［dot］ jp")
	f("AppendText obfuscated full-width", func() { dst, _ = c.AppendText(dst[:0], obfWide) })
	obfURL := []byte("https://a.example/u/jane.doe(at)example.org/x?q=jane.doe+%5Bat%5D+example+%5Bdot%5D+org&page=2")
	f("AppendURL obfuscated", func() { dst, _ = c.AppendURL(dst[:0], obfURL, URLClean) })
	out, found := c.AppendURL(nil, in, URLClean)
	t.Logf("400-byte URL -> %d bytes, found %s: %s", len(out), found, out)
}
