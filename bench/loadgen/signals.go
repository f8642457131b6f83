package loadgen

// tcVector is a public IAB TCF v2 test vector (a fact, copied from the
// suites named in source; see shared/testdata/consent/tcf-public-vectors.json).
type tcVector struct {
	name, source, tc string
}

// validTC strings decode; some are TCF 2.0 strings that are not valid
// consent under TCF 2.2 rules, as real traffic still carries them. All were
// last updated before 2026-02-28, so TCF v2.3's mandatory disclosed vendors
// segment does not apply to them.
var validTC = []tcVector{
	{"bitfield", "prebid/go-gdpr bitfield_test.go", "COwGVJOOwGVJOADACHENAOCAAO6as_-AAAhoAFNLAAoAAAA"},
	{"range+LI", "prebid/go-gdpr rangesection_test.go", "COyfVVoOyfVVoADACHENAwCAAAAAAAAAAAAAE5QBgALgAqgD8AQACSwEygJyAnSAMABgAFkAgQCDASeAmYBOgAA"},
	{"created", "prebid/go-gdpr metadata_test.go", "COvcSpYOvcSpYC9AAAENAPCAAAAAAAAAAAAACvwDQABAAIAAYABIAC4AJQAagA9ACEAPgAjIBJoCvAK-AAAAAA"},
	{"pubrestrict", "prebid/go-gdpr pubrestrict_test.go", "COwAdDhOwAdDhN4ABAENAPCgAAQAAv___wAAAFP_AAp_4AI6ACACAA"},
	{"3 pubrestrictions", "LiveRamp/iabconsent v2_parsed_consent_fixture_test.go", "COvzTO5OvzTO5BRAAAENAPCoALIAADgAAAAAAewAwABAAlAB6ABBFADBQAQA9hAAAcAA"},
	{"tcf2.2 valid", "LiveRamp/iabconsent v2_parsed_consent_fixture_test.go", "COvzTO5OvzTO5B7ABCENAPEYAIAAAIAAAIqIAAoAAoAA.QAAo.IAAo"},
	{"spec example", "IAB TCF spec, Consent string and vendor list formats v2", "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA"},
	{"recent real CMP string", "iabtcf-es ReportedIssues.test.ts", "CQd924AQd924AASACCENCNFsAP_gAEIAACiQL6QBAAGAAOANmAcAF9IAIADgAA"},
}

// invalidTC strings must be rejected (undecodable or invalid under TCF 2.2),
// without a panic; several crash go-gdpr v1.12.0.
var invalidTC = []tcVector{
	{"tcf2.2 LI on P3 invalid", "LiveRamp/iabconsent v2InvalidConsentFixtures", "COvwooAOvwooAB7ABCENAPEYAIAAADkAAIqIAAoAAoAA.QAAo.IAAo"},
	{"too short", "prebid/go-gdpr consent20_test.go", "CONciguONcjGKADACHENAOCIAC0ta__AACiQAA"},
	{"VLV 0", "prebid/go-gdpr consent20_test.go", "CONciguONcjGKADACHENAACIAC0ta__AACiQABgAAYA"},
	{"no LI section", "prebid/go-gdpr consent_test.go (PR #39)", "COvcSpYOvcSpYC9AAAENAPCAAAAAAAAAAAAAAFAAAAA"},
	{"truncated real string", "mutation of a go-gdpr consent20_test.go vector", "COyiILmOyiILmADACHENAPCAAAAAAAAAAAAAE5QBgALgAqgD8AQACSwEygJyAAA"},
}

// Google Consent Mode v2 values (reverse-engineered public facts, see
// shared/testdata/consent/other-signals.json).
var (
	gcsValues = []string{"G100", "G101", "G110", "G111"}
	gcdValues = []string{"11p1p1p1p5", "13r3r3r3r5", "13q3q3q3q5", "11t1t1t1t5"}
)

// US Privacy strings and a GPP string with its section ids.
var (
	usPrivacyValues = []string{"1YNN", "1NYN", "1-Y-", "1---"}
	gppString       = "DBACNYA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN"
	gppSID          = "2"
)

// Explicit purposes as the vocabulary names them.
var consentSets = [][]string{
	{"analytics"},
	{"analytics", "ads"},
	{"analytics", "ads", "personalization", "precise_geo", "device_storage"},
	{"device_storage"},
}

// Browser user agents of 2024-2025 releases.
var browserUAs = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
	"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.39 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
}

// chromeDesktopUA is the User-Agent of Mix.Full: desktop Chrome on Windows,
// the most common browser.
var chromeDesktopUA = browserUAs[0]

// Crawler, monitoring and scripting user agents.
var botUAs = []string{
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
	"Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
	"curl/8.5.0",
	"python-requests/2.32.3",
}

var acceptLanguages = []string{"de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7", "en-US,en;q=0.9", "fr-FR,fr;q=0.9,en;q=0.5", "sv-SE,sv;q=0.9"}

// Client addresses for X-Forwarded-For: the ones MaxMind's public test
// databases know (London, Boxford, Milton, Linköping, Changchun, San Diego)
// and one they do not.
var clientIPs = []string{"81.2.69.142", "2.125.160.216", "216.160.83.56", "89.160.20.112", "175.16.199.1", "2001:480:10::1", "198.51.100.23"}

// Personal data that a page URL or a property may carry by accident.
var emails = []string{"jane.doe@example.com", "max.mustermann@example.de", "j.smith+news@example.net"}
