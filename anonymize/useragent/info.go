// Package useragent reduces a User-Agent header to a few coarse fields:
// browser family and major version, OS family, device class, and the
// class of automated agent it names: a crawler (search engines, headless
// browsers, uptime checkers) or an HTTP client library (python-requests,
// okhttp, ...), which server-to-server senders and native apps use. It is a byte-level, allocation-free reducer for the request hot
// path, tested against github.com/mileusna/useragent as an oracle.
//
// Only the first [MaxLen] bytes of a header are read. Reduction is
// deliberately coarse: the minor version, OS version and device model, which
// help fingerprinting, are never returned.
package useragent

import "strconv"

// Browser is a browser family.
type Browser uint8

// Browser families. Chromium-based browsers that announce themselves
// (Edge, Opera, Samsung Internet, Yandex, Vivaldi, UC) are their own family;
// Brave and Android WebView say only "Chrome" and are Chrome.
const (
	BrowserUnknown   Browser = iota // nothing recognizable
	BrowserOther                    // a browser-like agent ("Mozilla/...") of no known family
	BrowserChrome                   // Chrome, Chromium, Chrome on iOS (CriOS), Android WebView, HeadlessChrome
	BrowserEdge                     // Edge (Edg, Edge, EdgA, EdgiOS)
	BrowserFirefox                  // Firefox, Firefox on iOS (FxiOS)
	BrowserSafari                   // Safari, Mobile Safari
	BrowserOpera                    // Opera (OPR, OPT, OPiOS), Opera Mini, Presto Opera
	BrowserSamsung                  // Samsung Internet
	BrowserIE                       // Internet Explorer (MSIE, Trident)
	BrowserYandex                   // Yandex Browser
	BrowserVivaldi                  // Vivaldi
	BrowserUC                       // UC Browser
	BrowserAndroid                  // the pre-Chrome stock Android browser
	BrowserFacebook                 // Facebook in-app browser
	BrowserInstagram                // Instagram in-app browser
)

var browserNames = [...]string{
	BrowserUnknown:   "Unknown",
	BrowserOther:     "Other",
	BrowserChrome:    "Chrome",
	BrowserEdge:      "Edge",
	BrowserFirefox:   "Firefox",
	BrowserSafari:    "Safari",
	BrowserOpera:     "Opera",
	BrowserSamsung:   "Samsung Internet",
	BrowserIE:        "Internet Explorer",
	BrowserYandex:    "Yandex Browser",
	BrowserVivaldi:   "Vivaldi",
	BrowserUC:        "UC Browser",
	BrowserAndroid:   "Android Browser",
	BrowserFacebook:  "Facebook",
	BrowserInstagram: "Instagram",
}

// String returns the family's display name, as written by AppendJSON.
func (b Browser) String() string {
	if int(b) < len(browserNames) {
		return browserNames[b]
	}
	return "Unknown"
}

// OS is an operating system family.
type OS uint8

// OS families.
const (
	OSUnknown  OS = iota // no OS named
	OSOther              // named but not one below (FreeBSD, Windows Phone, Tizen, KaiOS, BlackBerry, ...)
	OSWindows            // Windows (NT)
	OSMacOS              // macOS; also iPads in Safari's default desktop mode, which send a Mac UA
	OSIOS                // iOS (iPhone, iPod)
	OSIPadOS             // iPadOS: any UA naming an iPad
	OSAndroid            // Android
	OSLinux              // desktop Linux
	OSChromeOS           // ChromeOS
)

var osNames = [...]string{
	OSUnknown:  "Unknown",
	OSOther:    "Other",
	OSWindows:  "Windows",
	OSMacOS:    "macOS",
	OSIOS:      "iOS",
	OSIPadOS:   "iPadOS",
	OSAndroid:  "Android",
	OSLinux:    "Linux",
	OSChromeOS: "ChromeOS",
}

// String returns the family's display name, as written by AppendJSON.
func (o OS) String() string {
	if int(o) < len(osNames) {
		return osNames[o]
	}
	return "Unknown"
}

// Device is a device class.
type Device uint8

// Device classes.
const (
	DeviceUnknown Device = iota
	DeviceDesktop
	DeviceMobile
	DeviceTablet
	DeviceBot // a crawler; see Info.Bot. HTTP clients say nothing of the device.
)

var deviceNames = [...]string{
	DeviceUnknown: "unknown",
	DeviceDesktop: "desktop",
	DeviceMobile:  "mobile",
	DeviceTablet:  "tablet",
	DeviceBot:     "bot",
}

// String returns the class name, as written by AppendJSON.
func (d Device) String() string {
	if int(d) < len(deviceNames) {
		return deviceNames[d]
	}
	return "unknown"
}

// Class is the kind of automated agent a User-Agent names. Policy acts on
// each class separately (config policies.*.bots and http_clients).
type Class uint8

// Agent classes.
const (
	// ClassNone: a browser, an app's web view, or nothing recognizable.
	ClassNone Class = iota
	// ClassCrawler: crawlers and other robots that fetch pages on their own
	// (search engines, SEO tools, link previews), headless browsers and
	// uptime checkers. They are not people.
	ClassCrawler
	// ClassHTTPClient: HTTP client libraries and command-line tools
	// (python-requests, Go-http-client, okhttp, Java, Dart, curl, ...),
	// and the HTTP stacks native apps send with by default (Android's
	// Dalvik, Apple's CFNetwork).
	// They are what store boxes, app backends and native apps send with,
	// on behalf of people, so they are not bots.
	ClassHTTPClient
)

var classNames = [...]string{
	ClassNone:       "",
	ClassCrawler:    "crawler",
	ClassHTTPClient: "http_client",
}

// String returns the class name ("" for ClassNone), as written by AppendJSON.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return ""
}

// Bot names a known automated agent: a crawler or an HTTP client. Values
// from BotCurl on are HTTP clients ([Bot.Class]); the ones before are
// crawlers.
type Bot uint8

// Known agents. BotGeneric is any other agent whose UA says bot, crawler,
// spider or slurp, or carries a URL (crawlers link their documentation;
// browsers never do), the crawling frameworks Scrapy and Lighthouse, and
// the link preview fetchers of WhatsApp (a header that is only
// "WhatsApp/2.23.20.0 A") and Skype.
// Each named crawler covers its family: BotGoogle includes Googlebot-Image,
// AdsBot-Google, Mediapartners-Google, Google-InspectionTool,
// Storebot-Google and GoogleOther; BotBing includes BingPreview, msnbot and
// adidxbot; BotYandex includes YandexImages and the other Yandex* robots;
// BotFacebook includes facebookcatalog and meta-externalagent. BotUptime
// covers uptime and health checkers (UptimeRobot, Pingdom, StatusCake,
// Site24x7, Uptime Kuma, Datadog Synthetics, load balancer health checks, ...).
const (
	BotNone Bot = iota
	BotGoogle
	BotBing
	BotYandex
	BotBaidu
	BotDuckDuckGo
	BotFacebook
	BotTwitter
	BotAhrefs
	BotSemrush
	BotApple
	BotUptime
	BotGeneric
	BotHeadlessChrome
	BotPhantomJS

	BotCurl // first HTTP client
	BotWget
	BotPythonRequests
	BotPythonURLLib
	BotGoHTTPClient
	BotOkHTTP
	BotJava
	BotDart
	BotLibwwwPerl
	BotPostman
	BotAxios
	BotNodeFetch
	BotApacheHTTPClient
	BotDalvik          // Android's HttpURLConnection: "Dalvik/2.1.0 (Linux; U; Android 13; ...)"
	BotCFNetwork       // Apple's URLSession: "MyApp/1.0 CFNetwork/1410.0.3 Darwin/22.6.0"
	BotOtherHTTPClient // python-httpx, aiohttp, Python, Ruby, GuzzleHttp, HTTPie, undici, Deno, Bun, ...
)

var botNames = [...]string{
	BotNone:             "",
	BotGoogle:           "Googlebot",
	BotBing:             "Bingbot",
	BotYandex:           "YandexBot",
	BotBaidu:            "Baiduspider",
	BotDuckDuckGo:       "DuckDuckBot",
	BotFacebook:         "facebookexternalhit",
	BotTwitter:          "Twitterbot",
	BotAhrefs:           "AhrefsBot",
	BotSemrush:          "SemrushBot",
	BotApple:            "Applebot",
	BotUptime:           "uptime",
	BotGeneric:          "generic",
	BotHeadlessChrome:   "HeadlessChrome",
	BotPhantomJS:        "PhantomJS",
	BotCurl:             "curl",
	BotWget:             "Wget",
	BotPythonRequests:   "python-requests",
	BotPythonURLLib:     "Python-urllib",
	BotGoHTTPClient:     "Go-http-client",
	BotOkHTTP:           "okhttp",
	BotJava:             "Java",
	BotDart:             "Dart",
	BotLibwwwPerl:       "libwww-perl",
	BotPostman:          "PostmanRuntime",
	BotAxios:            "axios",
	BotNodeFetch:        "node-fetch",
	BotApacheHTTPClient: "Apache-HttpClient",
	BotDalvik:           "Dalvik",
	BotCFNetwork:        "CFNetwork",
	BotOtherHTTPClient:  "other",
}

// String returns the agent's name ("" for BotNone), as written by AppendJSON.
func (b Bot) String() string {
	if int(b) < len(botNames) {
		return botNames[b]
	}
	return "generic"
}

// Class returns the class of b: ClassNone for BotNone, ClassHTTPClient from
// BotCurl on, ClassCrawler otherwise.
func (b Bot) Class() Class {
	switch {
	case b == BotNone:
		return ClassNone
	case b >= BotCurl:
		return ClassHTTPClient
	}
	return ClassCrawler
}

// Info is the reduced form of a User-Agent.
type Info struct {
	Browser      Browser
	BrowserMajor uint16 // 0 when unknown; values above 65535 are 0
	OS           OS
	Device       Device // DeviceBot whenever Bot is a crawler
	Bot          Bot    // the crawler or HTTP client named; BotNone for browsers
}

// Class returns the agent's class, that of i.Bot.
func (i Info) Class() Class { return i.Bot.Class() }

// IsBot reports whether the agent is a known crawler. HTTP clients are not
// bots: see [ClassHTTPClient].
func (i Info) IsBot() bool { return i.Bot.Class() == ClassCrawler }

// AppendJSON appends i as a compact JSON object and returns dst:
//
//	{"browser":"Chrome","browser_major":120,"os":"Android","device":"mobile","bot":false}
//
// Keys, always present and in this order: "browser" (Browser.String),
// "browser_major" (number, 0 = unknown), "os" (OS.String), "device"
// (Device.String), "bot" (bool: a crawler). A crawler adds "bot_name"
// (Bot.String, e.g. "Googlebot", "uptime", "generic") and "class":"crawler";
// an HTTP client adds "class":"http_client" and "client_name" (e.g.
// "python-requests", "other"). All strings are fixed ASCII names that need
// no escaping.
func (i Info) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"browser":"`...)
	dst = append(dst, i.Browser.String()...)
	dst = append(dst, `","browser_major":`...)
	dst = strconv.AppendUint(dst, uint64(i.BrowserMajor), 10)
	dst = append(dst, `,"os":"`...)
	dst = append(dst, i.OS.String()...)
	dst = append(dst, `","device":"`...)
	dst = append(dst, i.Device.String()...)
	switch i.Class() {
	case ClassCrawler:
		dst = append(dst, `","bot":true,"bot_name":"`...)
		dst = append(dst, i.Bot.String()...)
		return append(dst, `","class":"crawler"}`...)
	case ClassHTTPClient:
		dst = append(dst, `","bot":false,"class":"http_client","client_name":"`...)
		dst = append(dst, i.Bot.String()...)
		return append(dst, `"}`...)
	}
	return append(dst, `","bot":false}`...)
}
