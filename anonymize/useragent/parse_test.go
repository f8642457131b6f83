package useragent

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseEdgeCases(t *testing.T) {
	f := func(ua, want string) {
		t.Helper()
		got := string(Parse([]byte(ua)).AppendJSON(nil))
		if got != want {
			t.Fatalf("Parse(%q)\n got %s\nwant %s", ua, got, want)
		}
	}
	const unknown = `{"browser":"Unknown","browser_major":0,"os":"Unknown","device":"unknown","bot":false}`
	f("", unknown)
	f("   ;;(()) ", unknown)
	f("\x00\xff\xfe", unknown)
	f("-", unknown) // some proxies send a dash
	// Version numbers that do not fit a uint16 are unknown, not wrapped.
	f("Mozilla/5.0 (Windows NT 10.0) Chrome/65536.0 Safari/537.36",
		`{"browser":"Chrome","browser_major":0,"os":"Windows","device":"desktop","bot":false}`)
	f("Mozilla/5.0 (Windows NT 10.0) Chrome/65535.0 Safari/537.36",
		`{"browser":"Chrome","browser_major":65535,"os":"Windows","device":"desktop","bot":false}`)
	f("Mozilla/5.0 (Windows NT 10.0) Chrome/ Safari/537.36",
		`{"browser":"Chrome","browser_major":0,"os":"Windows","device":"desktop","bot":false}`)
	// The phone brand Cubot is not a bot; "robot" and "Bot" endings are.
	f("Mozilla/5.0 (Linux; Android 11; CUBOT X30) AppleWebKit/537.36 Chrome/120.0.0.0 Mobile Safari/537.36",
		`{"browser":"Chrome","browser_major":120,"os":"Android","device":"mobile","bot":false}`)
	f("MyRobot/1.0", `{"browser":"Unknown","browser_major":0,"os":"Unknown","device":"bot","bot":true,"bot_name":"generic","class":"crawler"}`)
	f("some-crawler", `{"browser":"Unknown","browser_major":0,"os":"Unknown","device":"bot","bot":true,"bot_name":"generic","class":"crawler"}`)
	f("Mozilla/5.0 (compatible; Bottle/1.0)", `{"browser":"Other","browser_major":0,"os":"Unknown","device":"unknown","bot":false}`)
	// A crawler wins over the headless browser it drives.
	f("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0 Safari/537.36 Googlebot/2.1",
		`{"browser":"Chrome","browser_major":120,"os":"Linux","device":"bot","bot":true,"bot_name":"Googlebot","class":"crawler"}`)
	f("YandexImages/3.0", `{"browser":"Unknown","browser_major":0,"os":"Unknown","device":"bot","bot":true,"bot_name":"YandexBot","class":"crawler"}`)
	// HTTP clients are not bots: no device, a class and a client name.
	f("python-requests/2.31.0",
		`{"browser":"Unknown","browser_major":0,"os":"Unknown","device":"unknown","bot":false,"class":"http_client","client_name":"python-requests"}`)
	f("Dart/3.2 (dart:io)",
		`{"browser":"Unknown","browser_major":0,"os":"Unknown","device":"unknown","bot":false,"class":"http_client","client_name":"Dart"}`)
	// A URL does not make an HTTP client a crawler; a bot word does.
	f("python-requests/2.31.0 (+https://store.example/box)",
		`{"browser":"Unknown","browser_major":0,"os":"Unknown","device":"unknown","bot":false,"class":"http_client","client_name":"python-requests"}`)
	f("okhttp/4.12.0 MyCrawler",
		`{"browser":"Unknown","browser_major":0,"os":"Unknown","device":"bot","bot":true,"bot_name":"generic","class":"crawler"}`)
	// Headless browsers and uptime checkers are crawlers, and win over the
	// HTTP client they use.
	f("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0 Safari/537.36",
		`{"browser":"Chrome","browser_major":120,"os":"Linux","device":"bot","bot":true,"bot_name":"HeadlessChrome","class":"crawler"}`)
	f("Go-http-client/1.1 kube-probe/1.29",
		`{"browser":"Unknown","browser_major":0,"os":"Unknown","device":"bot","bot":true,"bot_name":"uptime","class":"crawler"}`)
	f("Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
		`{"browser":"Unknown","browser_major":0,"os":"Unknown","device":"bot","bot":true,"bot_name":"uptime","class":"crawler"}`)
	f("Pingdom", `{"browser":"Unknown","browser_major":0,"os":"Unknown","device":"unknown","bot":false}`)
	// Tokens after MaxLen are not read.
	long := "Mozilla/5.0 (Windows NT 10.0) " + strings.Repeat("x", MaxLen) + " curl/8.0"
	f(long, `{"browser":"Other","browser_major":0,"os":"Windows","device":"desktop","bot":false}`)
	// iPadOS in desktop mode sends a Mac UA and is reported as macOS.
	f("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
		`{"browser":"Safari","browser_major":17,"os":"macOS","device":"desktop","bot":false}`)
}

func TestAppendJSONIsValid(t *testing.T) {
	for _, c := range readCorpus(t) {
		in := Parse([]byte(c.ua))
		out := in.AppendJSON([]byte("prefix"))
		if !strings.HasPrefix(string(out), "prefix") {
			t.Fatalf("AppendJSON dropped dst")
		}
		var m map[string]any
		if err := json.Unmarshal(out[len("prefix"):], &m); err != nil {
			t.Fatalf("%s: invalid JSON %s: %v", c.ua, out, err)
		}
		n := 5
		switch in.Class() {
		case ClassCrawler:
			n = 7
			if m["bot_name"] != in.Bot.String() || m["class"] != "crawler" {
				t.Fatalf("%s: bot_name = %v, class = %v", c.ua, m["bot_name"], m["class"])
			}
		case ClassHTTPClient:
			n = 7
			if m["client_name"] != in.Bot.String() || m["class"] != "http_client" {
				t.Fatalf("%s: client_name = %v, class = %v", c.ua, m["client_name"], m["class"])
			}
		}
		if len(m) != n || m["browser"] != in.Browser.String() || m["os"] != in.OS.String() ||
			m["device"] != in.Device.String() || m["bot"] != in.IsBot() || m["browser_major"] != float64(in.BrowserMajor) {
			t.Fatalf("%s: JSON %s does not match %+v", c.ua, out, in)
		}
	}
}

func TestStrings(t *testing.T) {
	f := func(name, got, want string) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: got %q, want %q", name, got, want)
		}
	}
	for b := BrowserUnknown; b <= BrowserInstagram; b++ {
		if b.String() == "" || b > BrowserUnknown && b.String() == "Unknown" {
			t.Fatalf("Browser(%d) has no name", b)
		}
	}
	for o := OSUnknown; o <= OSChromeOS; o++ {
		if o.String() == "" || o > OSUnknown && o.String() == "Unknown" {
			t.Fatalf("OS(%d) has no name", o)
		}
	}
	for d := DeviceUnknown; d <= DeviceBot; d++ {
		if d.String() == "" || d > DeviceUnknown && d.String() == "unknown" {
			t.Fatalf("Device(%d) has no name", d)
		}
	}
	for b := BotGoogle; b <= BotOtherHTTPClient; b++ {
		if b.String() == "" || b != BotGeneric && b.String() == "generic" {
			t.Fatalf("Bot(%d) has no name", b)
		}
	}
	f("out of range browser", Browser(200).String(), "Unknown")
	f("out of range os", OS(200).String(), "Unknown")
	f("out of range device", Device(200).String(), "unknown")
	f("out of range bot", Bot(200).String(), "generic")
	f("samsung", BrowserSamsung.String(), "Samsung Internet")
	for b := BotNone; b <= BotOtherHTTPClient; b++ {
		want := ClassCrawler
		switch {
		case b == BotNone:
			want = ClassNone
		case b >= BotCurl:
			want = ClassHTTPClient
		}
		if b.Class() != want {
			t.Fatalf("Bot(%d) %s: class %q; want %q", b, b, b.Class(), want)
		}
	}
	if BotPhantomJS.Class() != ClassCrawler || BotCurl.Class() != ClassHTTPClient || BotDart.Class() != ClassHTTPClient {
		t.Fatal("class boundaries wrong")
	}
	f("class none", ClassNone.String(), "")
	f("class crawler", ClassCrawler.String(), "crawler")
	f("class http client", ClassHTTPClient.String(), "http_client")
	f("out of range class", Class(200).String(), "")
}

// TestNativeAppHTTPStacks: the User-Agent Android's HttpURLConnection
// sends ("Dalvik/2.1.0 (Linux; U; Android ...)", the JVM's "Java/17" on
// Android) and the one of Apple's URLSession ("MyApp/1 CFNetwork/1410.0.3
// Darwin/22.6.0") are native apps' HTTP clients, as okhttp is. They counted
// as browsers, so a native app's events went to Meta and TikTok as website
// events and http_clients: drop did not drop them.
func TestNativeAppHTTPStacks(t *testing.T) {
	for _, c := range []struct {
		ua   string
		name string
		os   OS
	}{
		{"Dalvik/2.1.0 (Linux; U; Android 13; SM-S918B Build/TP1A.220624.014)", "Dalvik", OSAndroid},
		{"Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/UQ1A.240205.004) MyShop/5.2", "Dalvik", OSAndroid},
		{"MyShop/5.2 CFNetwork/1410.0.3 Darwin/22.6.0", "CFNetwork", OSUnknown},
		{"MyShop/1 CFNetwork/1498.700.2 Darwin/23.6.0", "CFNetwork", OSUnknown},
	} {
		in := Parse([]byte(c.ua))
		if in.Class() != ClassHTTPClient || in.Bot.String() != c.name || in.OS != c.os || in.IsBot() {
			t.Errorf("%s: class %q, name %q, os %v, bot %v; want http_client %s, %v", c.ua, in.Class(), in.Bot, in.OS, in.IsBot(), c.name, c.os)
		}
	}
	// A crawler built on them is still a crawler.
	if in := Parse([]byte("MyCrawlerBot/1.0 CFNetwork/1410.0.3 Darwin/22.6.0")); in.Class() != ClassCrawler {
		t.Errorf("crawler on CFNetwork: class %q", in.Class())
	}
}

// TestDeviceNamedLikeHTTPClient: a bare word that names an HTTP client
// ("Go", "Ruby", "Python", ...) counts only as the product that opens the
// header ("Ruby", "Faraday v2.9.0") or with a version ("Go/1.0"), not as a
// word inside a browser's header, where phone makers put model names:
// Xiaomi's Redmi Go (Android Go edition) sends "(Linux; Android 8.1.0;
// Redmi Go)". Its Chrome counted as an HTTP client, so its visitors' events
// were never routed to Meta or TikTok and http_clients: drop dropped them.
func TestDeviceNamedLikeHTTPClient(t *testing.T) {
	for _, c := range []struct {
		ua      string
		browser Browser
		major   uint16
	}{
		{"Mozilla/5.0 (Linux; Android 8.1.0; Redmi Go) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.110 Mobile Safari/537.36", BrowserChrome, 70},
		{"Mozilla/5.0 (Linux; U; Android 8.1.0; ru-ru; Redmi Go Build/OPM1.171019.026) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/61.0.3163.128 Mobile Safari/537.36 XiaoMi/Mint Browser/3.9.3", BrowserChrome, 61},
		{"Mozilla/5.0 (Linux; Android 8.1.0; Redmi Go Build/OPM1.171019.026) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Mobile Safari/537.36 YaApp_Android/10.91 YaSearchBrowser/10.91", BrowserChrome, 81},
	} {
		in := Parse([]byte(c.ua))
		if in.Class() != ClassNone || in.Browser != c.browser || in.BrowserMajor != c.major || in.OS != OSAndroid || in.Device != DeviceMobile {
			t.Errorf("%s\n got %s", c.ua, in.AppendJSON(nil))
		}
	}
	// Those words still name the HTTP client that opens a header, or with
	// a version.
	for ua, name := range map[string]string{
		"Ruby": "other", "Faraday v2.9.0": "other", "undici": "other", "Go/1.0": "other",
		"Python/3.11 aiohttp/3.9.5": "other", "MyApp/1.0 okhttp/4.12.0": "okhttp",
		"Apache-HttpClient/4.5.14 (Java/17.0.10)": "Apache-HttpClient", "node-fetch": "node-fetch",
	} {
		if in := Parse([]byte(ua)); in.Class() != ClassHTTPClient || in.Bot.String() != name {
			t.Errorf("%s: class %q, name %q; want http_client %s", ua, in.Class(), in.Bot, name)
		}
	}
}

// TestYandexAppIsNotACrawler: Yandex's search app on Android (a WebView)
// names itself "YandexSearch/21.61.1" and "YandexSearchBrowser/7.80", like
// Yandex's robots begin with "Yandex". Its visitors counted as YandexBot:
// bots: drop (the ads default) dropped their events.
func TestYandexAppIsNotACrawler(t *testing.T) {
	for _, c := range []struct {
		ua    string
		major uint16
	}{
		// Yandex's own API documentation (Alice, the device's user agent).
		{"Mozilla/5.0 (Linux; arm_64; Android 11; SM-G988B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.164 BroPP/1.0 SA/3 Mobile Safari/537.36 YandexSearch/21.61.1", 91},
		{"Mozilla/5.0 (Linux; Android 9; CPH1923 Build/PPR1.180610.011; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/71.0.3578.99 Mobile Safari/537.36 YandexSearch/7.80 YandexSearchBrowser/7.80", 71},
	} {
		in := Parse([]byte(c.ua))
		if in.Class() != ClassNone || in.Browser != BrowserChrome || in.BrowserMajor != c.major || in.OS != OSAndroid || in.Device != DeviceMobile {
			t.Errorf("%s\n got %s", c.ua, in.AppendJSON(nil))
		}
	}
	// Yandex's robots, the search shop's among them, stay YandexBot.
	for _, ua := range []string{
		"Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
		"Mozilla/5.0 (compatible; YandexSearchShop/1.0; +http://yandex.com/bots)",
		"Mozilla/5.0 (compatible; YandexMetrika/2.0; +http://yandex.com/bots yabs01)",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 8_1 like Mac OS X) AppleWebKit/600.1.4 (KHTML, like Gecko) Version/8.0 Mobile/12B411 Safari/600.1.4 (compatible; YandexMobileBot/3.0; +http://yandex.com/bots)",
	} {
		if in := Parse([]byte(ua)); in.Bot != BotYandex {
			t.Errorf("%s: %s; want YandexBot", ua, in.AppendJSON(nil))
		}
	}
}

// TestLinkPreviewFetchers: WhatsApp fetches a shared link for its preview
// with a header that is only "WhatsApp/<version> <platform letter>", and
// Skype with "SkypeUriPreview"; neither says bot nor links a page, so both
// counted as people. They are crawlers (link previews, see ClassCrawler);
// WhatsApp's token after a browser's header stays a person.
func TestLinkPreviewFetchers(t *testing.T) {
	for _, ua := range []string{
		"WhatsApp/2.23.20.0 A",
		"WhatsApp/2.2407.3 i",
		"WhatsApp/2.24.6.77 W",
		"WhatsApp/2.19.81 A",
		"Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com",
	} {
		if in := Parse([]byte(ua)); in.Class() != ClassCrawler || in.Device != DeviceBot {
			t.Errorf("%s: %s; want a crawler", ua, in.AppendJSON(nil))
		}
	}
	ua := "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 WhatsApp/2.24.6.78"
	if in := Parse([]byte(ua)); in.Class() != ClassNone || in.Browser != BrowserChrome || in.Device != DeviceMobile {
		t.Errorf("%s: %s; want a person's Chrome", ua, in.AppendJSON(nil))
	}
}

// TestDefaultClientHeaders: the headers two common HTTP clients send by
// default, the JDK's java.net.http.HttpClient ("Java-http-client/17.0.10")
// and Node's built-in fetch ("node"; "undici" before Node 21), counted as
// people, not HTTP clients, so an app backend's events reached Meta and
// TikTok as website events and http_clients: drop let them through.
func TestDefaultClientHeaders(t *testing.T) {
	for ua, name := range map[string]string{
		"Java-http-client/17.0.10":   "Java",
		"Java-http-client/21.0.12.1": "Java",
		"node":                       "other",
		"undici":                     "other",
	} {
		if in := Parse([]byte(ua)); in.Class() != ClassHTTPClient || in.Bot.String() != name {
			t.Errorf("%s: %s; want http_client %s", ua, in.AppendJSON(nil), name)
		}
	}
}

// TestOculusBrowserIsNotSamsungInternet: Meta Quest's browser keeps
// "SamsungBrowser/4.0" in its header (it began as a Samsung Internet fork
// for Gear VR), so its visitors were counted as Samsung Internet 4, a
// browser of 2016. It is a browser of no family we name: Other.
func TestOculusBrowserIsNotSamsungInternet(t *testing.T) {
	for _, ua := range []string{
		"Mozilla/5.0 (X11; Linux x86_64; Quest 2) AppleWebKit/537.36 (KHTML, like Gecko) OculusBrowser/33.0.0.1.1 SamsungBrowser/4.0 Chrome/126.0.6478.122 VR Safari/537.36",
		"Mozilla/5.0 (Linux; Android 12; Quest 3) AppleWebKit/537.36 (KHTML, like Gecko) OculusBrowser/31.0.0.14.537 SamsungBrowser/4.0 Chrome/119.0.6045.193 Mobile Safari/537.36",
		"Mozilla/5.0 (X11; Linux x86_64; Quest 3) AppleWebKit/537.36 (KHTML, like Gecko) OculusBrowser/33.0.0.0 Chrome/122.0.6261.64 VR Safari/537.36",
	} {
		if in := Parse([]byte(ua)); in.Browser != BrowserOther || in.BrowserMajor != 0 || in.Class() != ClassNone {
			t.Errorf("%s: %s; want browser Other", ua, in.AppendJSON(nil))
		}
	}
}
