package useragent

import (
	"encoding/json"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, c := range readCorpus(f) {
		f.Add([]byte(c.ua))
	}
	f.Add([]byte(""))
	f.Add([]byte("MSIE"))
	f.Add([]byte("Instagram"))
	f.Add([]byte("rv:"))
	f.Add([]byte("Chrome/99999999999999999999"))
	f.Add([]byte("cubot bot"))
	// Crawler and HTTP-client precedence: a crawler word or name wins over
	// the library it uses, a URL alone does not.
	f.Add([]byte("Dart/3.2 (dart:io)"))
	f.Add([]byte("okhttp/4.12.0 bot"))
	f.Add([]byte("python-requests/2.31.0 (+https://example.com)"))
	f.Add([]byte("HeadlessChrome/120 Googlebot/2.1 curl/8"))
	f.Add([]byte("Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)"))
	f.Add([]byte("Pingdom"))
	f.Add([]byte("Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"))
	// A header at the gateway's copy limit, and bytes a header can carry
	// that no browser sends: non-ASCII, invalid UTF-8, control bytes.
	f.Add([]byte(strings.Repeat("Mozilla/5.0 (X11; Linux x86_64) ", 32)))
	f.Add([]byte("Mozilla/5.0 (Linux; Android 14; Jörg’s Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"))
	f.Add([]byte("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)\xff\x00 Version/17.1 Mobile/15E148 Safari/604.1"))
	f.Fuzz(func(t *testing.T, ua []byte) {
		in := Parse(ua)
		if in.Browser > BrowserInstagram || in.OS > OSChromeOS || in.Device > DeviceBot || in.Bot > BotOtherHTTPClient {
			t.Fatalf("out of range: %+v", in)
		}
		if in.IsBot() != (in.Device == DeviceBot) || in.IsBot() != (in.Class() == ClassCrawler) {
			t.Fatalf("bot %v (class %q) but device %v", in.Bot, in.Class(), in.Device)
		}
		if (in.Bot == BotNone) != (in.Class() == ClassNone) {
			t.Fatalf("agent %v but class %q", in.Bot, in.Class())
		}
		if again := Parse(ua); again != in {
			t.Fatalf("not deterministic: %+v vs %+v", in, again)
		}
		out := in.AppendJSON(nil)
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %s", out)
		}
		if !raceEnabled {
			buf := make([]byte, 0, 256)
			if n := testing.AllocsPerRun(5, func() { buf = Parse(ua).AppendJSON(buf[:0]) }); n != 0 {
				t.Fatalf("%q: %v allocs per Parse+AppendJSON; want 0", ua, n)
			}
		}
	})
}
