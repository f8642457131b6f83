package useragent

import (
	"strings"
	"testing"

	mua "github.com/mileusna/useragent"
)

// The oracle is github.com/mileusna/useragent (pinned in go.mod; test-only).
// Every corpus line is parsed by both and compared field by field; where we
// disagree on purpose, the difference is listed in disagreements with the
// reason. A listed difference that no longer occurs fails the test too, so
// the list stays true.

// libInfo maps the library's answer onto our fields.
func libInfo(ua string) (Browser, uint16, OS, Device, bool) {
	m := mua.Parse(ua)
	var b Browser
	switch m.Name {
	case mua.Chrome, mua.HeadlessChrome:
		b = BrowserChrome
	case mua.Edge:
		b = BrowserEdge
	case mua.Firefox:
		b = BrowserFirefox
	case mua.Safari:
		b = BrowserSafari
	case mua.Opera, mua.OperaMini, mua.OperaTouch:
		b = BrowserOpera
	case mua.SamsungBrowser:
		b = BrowserSamsung
	case mua.InternetExplorer:
		b = BrowserIE
	case "YaBrowser":
		b = BrowserYandex
	case mua.Vivaldi:
		b = BrowserVivaldi
	case "UCBrowser":
		b = BrowserUC
	case "Android browser":
		b = BrowserAndroid
	case mua.FacebookApp:
		b = BrowserFacebook
	case mua.InstagramApp:
		b = BrowserInstagram
	default:
		b = BrowserOther
	}
	var o OS
	switch m.OS {
	case mua.Windows:
		o = OSWindows
	case mua.MacOS:
		o = OSMacOS
	case mua.IOS:
		o = OSIOS
		if m.Device == "iPad" {
			o = OSIPadOS
		}
	case mua.Android:
		o = OSAndroid
	case mua.Linux:
		o = OSLinux
	case mua.ChromeOS:
		o = OSChromeOS
	case "":
		o = OSUnknown
	default:
		o = OSOther
	}
	var d Device
	switch {
	case m.Bot:
		d = DeviceBot
	case m.Tablet:
		d = DeviceTablet
	case m.Mobile:
		d = DeviceMobile
	case m.Desktop:
		d = DeviceDesktop
	}
	return b, major([]byte(m.Version)), o, d, m.Bot
}

type disagreement struct {
	ua, field, why string // ua: a substring that picks the corpus line
}

var disagreements = []disagreement{
	// Browser family. The library names the first unknown token; we report
	// Unknown (nothing browser-like) or Other (a browser we do not name).
	// Bots are compared only on the bot flag and device, not on browser.
	{"Trident/7.0; rv:11.0", "browser", "IE 11 sends no MSIE token; Trident + rv:11.0 is IE 11 (library: \"Trident\")"},
	{"Trident/7.0; rv:11.0", "major", "IE 11 major is rv:11, not Trident/7"},
	{"UCBrowser/12", "browser", "UC Browser names itself after Chrome/; library picks Chrome"},
	{"UCBrowser/12", "major", "follows from the browser"},
	{"Silk/120", "browser", "Amazon Silk is its own browser (Other); library: Safari"},
	{"Silk/120", "major", "Other has no major; library: Safari/537"},
	{"OculusBrowser/", "browser", "Meta Quest's browser keeps SamsungBrowser/4.0 from its Gear VR fork; it is no Samsung Internet 4 (Other)"},
	{"OculusBrowser/", "major", "Other has no major; library: SamsungBrowser/4"},
	{"OculusBrowser/", "os", "the header's X11; Linux (the headset's default desktop mode) is taken as sent; library: Android, from SamsungBrowser"},
	{"OculusBrowser/", "device", "follows from the header's desktop platform; library: mobile"},
	{"Opera/9.80 (Windows", "major", "Presto Opera froze Opera/9.80 and moved the real version to Version/12.18"},
	{"NativeTVAds", "major", "a TV's WebKit browser is Other (library: \"NativeTVAds Safari\", Other too); Other has no major"},
	{"NativeTVAds", "os", "Tizen is its own OS (Other), not desktop Linux"},
	{"NativeTVAds", "device", "a TV is neither desktop nor mobile: unknown"},
	{"Windows Phone 10.0; Android", "os", "Windows Phone's Edge also says Android; it is Windows Phone (Other)"},
	{"KAIOS/2.5", "os", "KaiOS also says Android; it is KaiOS (Other)"},
	{"iPod touch", "os", "an iPod touch runs iOS (library: none)"},
	{"SM-X700", "device", "Android without \"Mobile\" is a tablet (Google's UA guidance); library: mobile"},
	{"SM-T870", "device", "Android without \"Mobile\" is a tablet; library: mobile"},
	{"KFTRWI", "device", "Fire tablet (Silk, no \"Mobile\"); library: mobile"},
	{"Dalvik/2.1.0", "device", "Android's HTTP stack in a native app: phone or tablet unknown"},
	{"X11; FreeBSD", "os", "FreeBSD is Other (library: none)"},
	{"X11; FreeBSD", "device", "X11 means a desktop"},
	{"BlackBerry 9900", "major", "BlackBerry's WebKit browser is Other (so is the library's \"BlackBerry\"); Other has no major"},
	{"Opera Mini/9.80", "os", "J2ME/Symbian: Other (library: none)"},
	// Agents. The library flags only agents whose UA has a URL or "bot".
	// HTTP client libraries are not bots for either of us; crawlers without
	// a URL or "bot" in their UA are for us.
	{"node-fetch/", "bot", "an HTTP client library that links its home page is not a crawler"},
	{"PhantomJS/", "bot", "headless browser: crawler"},
	{"PingdomTMS/", "bot", "Pingdom's uptime checker: crawler"},
	{"Uptime-Kuma/", "bot", "uptime checker: crawler"},
	{"kube-probe/", "bot", "Kubernetes health check: crawler"},
	{"ELB-HealthChecker/", "bot", "load balancer health check: crawler"},
	{"Chrome-Lighthouse", "bot", "Lighthouse audits pages in a headless browser: crawler"},
	{"WhatsApp/2.23.20.0 A", "bot", "WhatsApp's link preview fetcher: crawler"},
}

func TestOracle(t *testing.T) {
	lines := readCorpus(t)
	used := make([]bool, len(disagreements))
	expected := func(ua, field string) bool {
		for k, d := range disagreements {
			if d.field == field && strings.Contains(ua, d.ua) {
				used[k] = true
				return true
			}
		}
		return false
	}
	agree := 0
	for _, c := range lines {
		got := Parse([]byte(c.ua))
		lb, lmaj, lo, ld, lbot := libInfo(c.ua)
		diff := func(field string, ours, lib any) {
			t.Helper()
			if ours == lib {
				return
			}
			if !expected(c.ua, field) {
				t.Errorf("%s: ours %v, library %v (undocumented)\n  %s", field, ours, lib, c.ua)
			}
		}
		diff("bot", got.IsBot(), lbot)
		if got.IsBot() != lbot {
			continue // documented; the device class follows from it
		}
		diff("device", got.Device, ld)
		if got.Device == ld {
			agree++
		}
		if got.IsBot() {
			continue // bots copy browser UAs; only the flag matters
		}
		// The library has no "unknown": it names any first token. Ours
		// Unknown (nothing browser-like) matches its Other.
		if got.Browser != BrowserUnknown || lb != BrowserOther {
			diff("browser", got.Browser, lb)
			diff("major", got.BrowserMajor, lmaj)
		}
		diff("os", got.OS, lo)
	}
	for k, d := range disagreements {
		if !used[k] {
			t.Errorf("disagreement %q/%s no longer occurs; remove it", d.ua, d.field)
		}
	}
	t.Logf("%d UAs; bot flag and device class agree with the library on %d", len(lines), agree)
}
