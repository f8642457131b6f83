package useragent

// MaxLen bounds how much of a header Parse reads. Real browser UAs are
// under 300 bytes; a longer header is junk or an attack, and its tail is
// ignored so that the cost of Parse stays bounded.
const MaxLen = 1024

// facts collects what the tokens of one UA say.
type facts struct {
	// browser tokens, with their major versions (0 = present, no version)
	chrome, firefox, edge, opera, samsung, yandex, vivaldi, uc    uint16
	msie, trident, rv, version, fbav, instagram                   uint16
	hasChrome, hasFirefox, hasEdge, hasOpera, hasOperaOld         bool
	hasSamsung, hasYandex, hasVivaldi, hasUC, hasMSIE, hasTrident bool
	hasSafari, hasVersion, facebook, hasInstagram, mozilla        bool
	// platform tokens
	android, iphone, ipad, windows, windowsPhone, mac, crOS, linux, otherOS bool
	kaiOS, x11, mobile, tablet, operaMini, dalvik, silk, oculus             bool
	botWord, url                                                            bool
	bot                                                                     Bot
}

// Parse reduces ua to an Info. It never fails: an empty or unrecognizable
// UA gives zero values (Unknown, not a bot). It does not allocate and does
// not keep ua.
func Parse(ua []byte) Info {
	if len(ua) > MaxLen {
		ua = ua[:MaxLen]
	}
	var f facts
	var prev []byte // previous token, for two-word names ("Windows NT", "Opera Mini", "MSIE 10.0")
	for i := 0; i < len(ua); {
		for i < len(ua) && isSep(ua[i]) {
			i++
		}
		s := i
		for i < len(ua) && !isSep(ua[i]) {
			i++
		}
		if s == i {
			break
		}
		f.token(ua[s:i], prev)
		prev = ua[s:i]
	}
	// A crawler that names no known bot but uses an HTTP library
	// ("LinkedInBot/1.0 (...; Apache-HttpClient ...)") is a crawler; a URL
	// alone does not turn an HTTP client into a crawler ("node-fetch/1.0
	// (+https://...)").
	if f.botWord && f.bot.Class() != ClassCrawler || f.url && f.bot == BotNone {
		f.bot = BotGeneric
	}
	return f.info()
}

func isSep(c byte) bool { return sepTable[c] }

var sepTable = [256]bool{' ': true, ';': true, '(': true, ')': true, ',': true, '[': true, ']': true, '\t': true}

// token records one token: "Name/1.2.3", a word, or "rv:11.0".
func (f *facts) token(tok, prev []byte) {
	name, ver := tok, []byte(nil)
	for k, c := range tok {
		if c == '/' {
			name, ver = tok[:k], tok[k+1:]
			break
		}
	}
	// Versions given in the next token: "MSIE 10.0", "Instagram 312.0.0".
	switch string(prev) {
	case "MSIE":
		f.msie = major(tok)
	case "Instagram":
		if f.instagram == 0 {
			f.instagram = major(tok)
		}
	case "Windows":
		if string(name) == "Phone" {
			f.windowsPhone = true
		}
	case "Opera":
		if string(name) == "Mini" {
			f.hasOpera, f.opera, f.operaMini = true, major(ver), true
		}
	}
	switch string(name) {
	case "Mozilla":
		f.mozilla = true
	case "Chrome", "CriOS", "Chromium":
		f.hasChrome, f.chrome = true, major(ver)
	case "HeadlessChrome":
		f.hasChrome, f.chrome = true, major(ver)
		f.setBot(BotHeadlessChrome)
	case "Firefox", "FxiOS":
		f.hasFirefox, f.firefox = true, major(ver)
	case "Safari":
		f.hasSafari = true
	case "Version":
		f.hasVersion, f.version = true, major(ver)
	case "Edg", "Edge", "EdgA", "EdgiOS":
		f.hasEdge, f.edge = true, major(ver)
	case "OPR", "OPT", "OPiOS", "OPX":
		f.hasOpera, f.opera = true, major(ver)
	case "Opera":
		f.hasOperaOld = true
		if f.opera == 0 {
			f.opera = major(ver)
		}
	case "SamsungBrowser":
		f.hasSamsung, f.samsung = true, major(ver)
	case "YaBrowser":
		f.hasYandex, f.yandex = true, major(ver)
	case "Vivaldi":
		f.hasVivaldi, f.vivaldi = true, major(ver)
	case "UCBrowser":
		f.hasUC, f.uc = true, major(ver)
	case "MSIE":
		f.hasMSIE = true
	case "Trident":
		f.hasTrident, f.trident = true, major(ver)
	case "FBAN", "FB_IAB":
		f.facebook = true
	case "FBAV":
		f.facebook, f.fbav = true, major(ver)
	case "Instagram":
		f.hasInstagram = true
	case "Mobile", "Mobi":
		f.mobile = true
	case "Tablet", "Kindle":
		f.tablet = true
	case "Silk": // Amazon Fire tablets; Chromium-based but its own browser
		f.tablet, f.silk = true, true
	case "OculusBrowser": // Meta Quest's; Chromium-based, and says "SamsungBrowser/4.0" too
		f.oculus = true
	case "iPhone", "iPod":
		f.iphone = true
	case "iPad":
		f.ipad = true
	case "Android":
		f.android = true
	case "Windows", "Win64", "WOW64", "Win32":
		f.windows = true
	case "Macintosh":
		f.mac = true
	case "CrOS":
		f.crOS = true
	case "Linux", "Ubuntu", "Fedora":
		f.linux = true
	case "X11":
		f.linux, f.x11 = true, true
	case "KAIOS", "KaiOS": // KaiOS also says "Android"
		f.kaiOS = true
	case "FreeBSD", "OpenBSD", "NetBSD", "SunOS", "Tizen", "SymbOS", "SymbianOS", "BlackBerry", "BB10",
		"OpenHarmony", "HarmonyOS", "Web0S", "webOS", "PlayStation", "Nintendo":
		f.otherOS = true
	case "Dalvik":
		// Android's HttpURLConnection (the JVM's "Java/17" on Android):
		// a native app's HTTP client, not a browser.
		f.dalvik = true
		f.setBot(BotDalvik)
	case "WhatsApp":
		// "WhatsApp/2.23.20.0 A", the whole header, is the app fetching a
		// shared link for its preview; after a browser's header the token
		// names the app whose web view a person reads in.
		if len(prev) == 0 {
			f.setBot(BotGeneric)
		}
	case "YandexSearch", "YandexSearchBrowser":
		// Yandex's search app, a WebView: not one of Yandex's robots,
		// whose names begin with "Yandex" too (see namedBot).
	case "AppleWebKit", "KHTML", "like", "Gecko", "compatible", "NT", "x64", "Win", "Intel", "Mac", "OS", "X",
		"CPU", "U", "Build", "Presto", "wv", "K", "x86_64", "en-US", "en-us", "en":
		// Common tokens that say nothing here: skip the generic bot scan.
	default:
		if len(tok) > 3 && tok[0] == 'r' && tok[1] == 'v' && tok[2] == ':' {
			f.rv = major(tok[3:])
			return
		}
		// An HTTP client's name without a version counts only as the
		// product that opens the header ("Ruby", "Faraday v2.9.0"): inside
		// a browser's header such a word is part of a device's model name,
		// as "Go" in Xiaomi's "(Linux; Android 8.1.0; Redmi Go)".
		if b := namedBot(name); b != BotNone && (b.Class() != ClassHTTPClient || ver != nil || len(prev) == 0) {
			f.setBot(b)
			return
		}
		// Only tokens no case above knows can hold a generic bot word.
		word, url := genericBot(tok)
		f.botWord = f.botWord || word
		f.url = f.url || url
	}
}

// setBot keeps the first agent of the highest rank named: a named crawler
// wins over the headless browser it drives ("Googlebot ... HeadlessChrome"
// is Googlebot), and any crawler over an HTTP client.
func (f *facts) setBot(b Bot) {
	if f.bot == BotNone || botRank(b) > botRank(f.bot) {
		f.bot = b
	}
}

func botRank(b Bot) int {
	switch {
	case b.Class() == ClassHTTPClient:
		return 1
	case b == BotHeadlessChrome || b == BotPhantomJS:
		return 2
	}
	return 3
}

// namedBot maps a token name to a known bot or tool.
func namedBot(name []byte) Bot {
	switch string(name) {
	case "Googlebot", "Googlebot-Image", "Googlebot-Video", "Googlebot-News", "AdsBot-Google",
		"AdsBot-Google-Mobile", "Mediapartners-Google", "Google-InspectionTool", "Storebot-Google",
		"GoogleOther", "GoogleOther-Image", "GoogleOther-Video", "APIs-Google", "Google-Extended", "FeedFetcher-Google":
		return BotGoogle
	case "bingbot", "Bingbot", "BingPreview", "msnbot", "adidxbot":
		return BotBing
	case "Baiduspider", "Baiduspider-image", "Baiduspider-render":
		return BotBaidu
	case "DuckDuckBot", "DuckDuckBot-Https", "DuckDuckGo-Favicons-Bot", "DuckAssistBot":
		return BotDuckDuckGo
	case "facebookexternalhit", "facebookcatalog", "meta-externalagent", "meta-externalfetcher":
		return BotFacebook
	case "Twitterbot":
		return BotTwitter
	case "AhrefsBot", "AhrefsSiteAudit":
		return BotAhrefs
	case "SemrushBot", "SemrushBot-SA", "SemrushBot-BA", "SiteAuditBot":
		return BotSemrush
	case "Applebot", "Applebot-Extended":
		return BotApple
	case "UptimeRobot", "Uptimebot", "PingdomTMS", "StatusCake", "Site24x7", "Uptime-Kuma", "Datadog",
		"DatadogSynthetics", "GoogleStackdriverMonitoring-UptimeChecks", "NewRelicPinger", "Freshping",
		"Checkly", "HetrixTools", "check_http", "kube-probe", "ELB-HealthChecker", "GoogleHC", "updown.io":
		return BotUptime
	case "Scrapy", "Chrome-Lighthouse", "SkypeUriPreview":
		return BotGeneric
	case "curl":
		return BotCurl
	case "Wget":
		return BotWget
	case "python-requests":
		return BotPythonRequests
	case "Python-urllib":
		return BotPythonURLLib
	case "Go-http-client":
		return BotGoHTTPClient
	case "okhttp":
		return BotOkHTTP
	case "Java", "Java-http-client": // the JVM's HttpURLConnection; java.net.http.HttpClient
		return BotJava
	case "libwww-perl", "lwp-request":
		return BotLibwwwPerl
	case "PostmanRuntime":
		return BotPostman
	case "axios":
		return BotAxios
	case "node-fetch":
		return BotNodeFetch
	case "Apache-HttpClient":
		return BotApacheHTTPClient
	case "CFNetwork": // Apple's URLSession: "MyApp/1.0 CFNetwork/1410.0.3 Darwin/22.6.0"
		return BotCFNetwork
	case "PhantomJS":
		return BotPhantomJS
	case "Dart":
		return BotDart
	case "python-httpx", "aiohttp", "Python", "Ruby", "GuzzleHttp", "HTTPie", "undici",
		"node", // Node's built-in fetch (undici bundled into Node; "undici" in older releases)
		"Deno", "Bun", "Go", "reqwest", "insomnia", "Faraday",
		"http.rb", "Typhoeus", "RestSharp", "Jersey", "ReactorNetty", "Ktor", "ktor-client":
		return BotOtherHTTPClient
	}
	// YandexBot, YandexImages, YandexMetrika, ...; not the search app's
	// YandexSearch, which token handles first.
	if len(name) > 6 && string(name[:6]) == "Yandex" {
		return BotYandex
	}
	if len(name) > 7 && string(name[:7]) == "Pingdom" { // Pingdom.com_bot_version_1.4_
		return BotUptime
	}
	return BotNone
}

// genericBot looks in one token, ASCII case-insensitively, for a word: "bot" not
// followed by a letter (and not the phone brand "Cubot"), "crawl",
// "spider" or "slurp"; and for a URL ("://").
func genericBot(ua []byte) (word, url bool) {
	for i := 0; i < len(ua); i++ {
		if ua[i] == ':' && i+2 < len(ua) && ua[i+1] == '/' && ua[i+2] == '/' {
			url = true
			continue
		}
		switch ua[i] | 0x20 {
		case 'b':
			if hasFold(ua[i:], "bot") && (i+3 == len(ua) || !isLetter(ua[i+3])) &&
				!(i >= 2 && hasFold(ua[i-2:], "cubot")) {
				return true, url
			}
		case 'c':
			if hasFold(ua[i:], "crawl") {
				return true, url
			}
		case 's':
			if hasFold(ua[i:], "spider") || hasFold(ua[i:], "slurp") {
				return true, url
			}
		}
	}
	return false, url
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// hasFold reports whether s starts with lower, ASCII case-insensitively.
func hasFold(s []byte, lower string) bool {
	if len(s) < len(lower) {
		return false
	}
	for k := 0; k < len(lower); k++ {
		if s[k]|0x20 != lower[k] {
			return false
		}
	}
	return true
}

// major parses the leading digits of v ("120.0.6099.71" → 120); 0 when
// there are none or the number does not fit in a uint16.
func major(v []byte) uint16 {
	n := 0
	for k, c := range v {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
		if k >= 5 || n > 0xffff {
			return 0
		}
	}
	return uint16(n)
}

// info decides the fields; earlier cases win. Browsers built on Chromium
// list "Chrome" and "Safari" besides their own token, and Chrome lists
// "Safari", so the most specific token is checked first.
func (f *facts) info() Info {
	var in Info
	switch {
	case f.hasMSIE || f.hasTrident:
		in.Browser = BrowserIE
		switch {
		case f.msie != 0:
			in.BrowserMajor = f.msie
		case f.rv != 0:
			in.BrowserMajor = f.rv
		case f.trident != 0:
			in.BrowserMajor = f.trident + 4 // Trident/7.0 is IE 11
		}
	case f.hasOpera:
		in.Browser, in.BrowserMajor = BrowserOpera, f.opera
	case f.hasOperaOld:
		in.Browser, in.BrowserMajor = BrowserOpera, f.opera
		if f.hasVersion { // Presto Opera froze "Opera/9.80" and moved the version
			in.BrowserMajor = f.version
		}
	case f.hasEdge:
		in.Browser, in.BrowserMajor = BrowserEdge, f.edge
	case f.oculus: // before Samsung: it began as a fork of Samsung Internet for Gear VR
		in.Browser = BrowserOther
	case f.hasSamsung:
		in.Browser, in.BrowserMajor = BrowserSamsung, f.samsung
	case f.hasYandex:
		in.Browser, in.BrowserMajor = BrowserYandex, f.yandex
	case f.hasVivaldi:
		in.Browser, in.BrowserMajor = BrowserVivaldi, f.vivaldi
	case f.hasUC:
		in.Browser, in.BrowserMajor = BrowserUC, f.uc
	case f.facebook:
		in.Browser, in.BrowserMajor = BrowserFacebook, f.fbav
	case f.hasInstagram:
		in.Browser, in.BrowserMajor = BrowserInstagram, f.instagram
	case f.hasFirefox:
		in.Browser, in.BrowserMajor = BrowserFirefox, f.firefox
	case f.silk:
		in.Browser = BrowserOther
	case f.hasChrome:
		in.Browser, in.BrowserMajor = BrowserChrome, f.chrome
	case f.hasSafari && f.android:
		in.Browser, in.BrowserMajor = BrowserAndroid, f.version
	case f.hasSafari && (f.iphone || f.ipad || f.mac):
		in.Browser, in.BrowserMajor = BrowserSafari, f.version
	case f.mozilla || f.hasSafari:
		// Other WebKit browsers say "Safari" too (TV browsers, BlackBerry,
		// GNOME Web, PhantomJS); Safari itself runs only on Apple systems.
		in.Browser = BrowserOther
	}

	switch {
	case f.windowsPhone || f.kaiOS:
		in.OS = OSOther
	case f.android:
		in.OS = OSAndroid
	case f.ipad:
		in.OS = OSIPadOS
	case f.iphone:
		in.OS = OSIOS
	case f.windows:
		in.OS = OSWindows
	case f.crOS:
		in.OS = OSChromeOS
	case f.mac:
		in.OS = OSMacOS
	case f.otherOS:
		in.OS = OSOther
	case f.linux:
		in.OS = OSLinux
	}

	in.Bot = f.bot
	switch {
	case f.bot.Class() == ClassCrawler:
		in.Device = DeviceBot
	case f.tablet || f.ipad:
		in.Device = DeviceTablet
	case f.windowsPhone || f.iphone || f.operaMini:
		in.Device = DeviceMobile
	case in.OS == OSAndroid:
		switch {
		case f.dalvik:
			// Android's HTTP stack: a native app; phone or tablet unknown.
		case f.mobile:
			in.Device = DeviceMobile
		default:
			// Google's UA guidance: Android phones send "Mobile", tablets don't.
			in.Device = DeviceTablet
		}
	case f.mobile:
		in.Device = DeviceMobile
	case in.OS == OSWindows || in.OS == OSMacOS || in.OS == OSLinux || in.OS == OSChromeOS || f.x11:
		in.Device = DeviceDesktop
	}
	return in
}
