package anonymize

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

// TestBase64HashedEmailNeverReachesARecord: ad tech and e-mail tools
// decorate links with a visitor's hashed e-mail address, also in base64
// rather than hex. Until 2026-12-07 such a digest in standard base64 (its
// '+' and '/' split the run) or an MD5 digest in base64url (22
// characters) reached the record whole in the page URL, the referrer and
// property values under analytics and ads.
func TestBase64HashedEmailNeverReachesARecord(t *testing.T) {
	s2 := sha256.Sum256([]byte("max.mustermann@web.de"))
	m5 := md5.Sum([]byte("jane.doe@example.org"))
	sha := base64.StdEncoding.EncodeToString(s2[:])
	md := base64.RawURLEncoding.EncodeToString(m5[:])
	en := newTestEngine(t, testConfig)
	for _, explicit := range []string{"analytics", "analytics,ads"} {
		e := plantedEvent(explicit)
		e.URL = []byte("https://shop.example/landing?em=" + url.QueryEscape(sha) + "&utm_source=news&page=2")
		e.Referrer = []byte("https://mail.example/r?hem=" + md + "&page=2")
		e.Props = e.Props[:0]
		e.AddProp([]byte("plan"), []byte("pro"), 0)
		e.AddProp([]byte("note"), []byte("matched "+sha+" and "+md), 0)
		m, out, _ := record(t, en, e)
		for _, leak := range []string{strings.TrimRight(sha, "="), url.QueryEscape(sha), md} {
			if strings.Contains(out, leak) {
				t.Errorf("consent %q: %q reached the record:\n%s", explicit, leak, out)
			}
		}
		if u, _ := m["url"].(string); u != "https://shop.example/landing?utm_source=news&page=2" {
			t.Errorf("consent %q: url %q; want the page, its campaign and page=2 kept", explicit, u)
		}
		if p, _ := m["props"].(map[string]any); p["plan"] != "pro" || p["note"] != "matched [token] and [token]" {
			t.Errorf("consent %q: props %v; want plan kept and the digests replaced", explicit, m["props"])
		}
	}
}
