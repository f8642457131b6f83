package config

import (
	"net/url"
	"regexp"
	"strings"
	"time"
)

var (
	metaPixelRE     = regexp.MustCompile(`^[0-9]{1,32}$`)
	metaVersionRE   = regexp.MustCompile(`^v[0-9]{1,3}\.[0-9]{1,2}$`)
	ga4MeasureRE    = regexp.MustCompile(`^G-[A-Z0-9]{4,20}$`)
	tiktokSourceRE  = regexp.MustCompile(`^[A-Z0-9]{4,40}$`)
	tiktokSetRE     = regexp.MustCompile(`^[0-9]{1,32}$`) // event set ids
	testEventCodeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

func (v *validator) metaDest(base string, m *MetaCAPIDestination) {
	switch {
	case m.PixelID == "":
		v.errf(base+".pixel_id", "is missing; give the pixel (data set) id from Events Manager")
	case !metaPixelRE.MatchString(m.PixelID):
		v.errf(base+".pixel_id", "is not a Meta pixel id (digits only)")
	}
	v.adToken(base+".access_token_file", m.AccessTokenFile)
	v.testEventCode(base+".test_event_code", m.TestEventCode)
	if !metaVersionRE.MatchString(m.APIVersion) {
		v.errf(base+".api_version", "%q is not a Graph API version such as v23.0", m.APIVersion)
	}
	v.adCommon(base, m.Endpoint, m.Timeout, &m.Retry)
}

func (v *validator) ga4Dest(base string, g *GA4Destination) {
	switch {
	case g.MeasurementID == "":
		v.errf(base+".measurement_id", "is missing; give the web stream's measurement id, G-XXXXXXX")
	case !ga4MeasureRE.MatchString(g.MeasurementID):
		v.errf(base+".measurement_id", "is not a GA4 measurement id (G- and capital letters or digits)")
	}
	v.adToken(base+".api_secret_file", g.APISecretFile)
	if g.MaxInFlight < 1 || g.MaxInFlight > 64 {
		v.errf(base+".max_in_flight", "%d is out of range 1..64", g.MaxInFlight)
	}
	v.adCommon(base, g.Endpoint, g.Timeout, &g.Retry)
}

func (v *validator) tiktokDest(base string, t *TikTokDestination) {
	switch {
	case t.EventSourceID == "" && t.OfflineEventSetID == "":
		v.errf(base+".event_source_id", "is missing; give the TikTok pixel code (or offline_event_set_id for a destination that gets store visits only)")
	case t.EventSourceID != "" && !tiktokSourceRE.MatchString(t.EventSourceID):
		v.errf(base+".event_source_id", "is not a TikTok pixel code (capital letters and digits)")
	}
	if t.OfflineEventSetID != "" && !tiktokSetRE.MatchString(t.OfflineEventSetID) {
		v.errf(base+".offline_event_set_id", "is not a TikTok Offline Event Set ID (digits)")
	}
	v.adToken(base+".access_token_file", t.AccessTokenFile)
	v.testEventCode(base+".test_event_code", t.TestEventCode)
	v.adCommon(base, t.Endpoint, t.Timeout, &t.Retry)
}

// adToken checks a credential file: required, private, not empty.
func (v *validator) adToken(path, name string) {
	if name == "" {
		v.errf(path, "is missing; the platform's credential is read from this file (never from the config itself)")
		return
	}
	v.tokenFile(path, name)
}

func (v *validator) testEventCode(path, code string) {
	if code != "" && !testEventCodeRE.MatchString(code) {
		v.errf(path, "is not a test event code (up to 64 letters, digits, '_' or '-')")
	}
}

// adCommon checks the keys every ad platform destination has.
func (v *validator) adCommon(base, endpoint string, timeout Duration, r *Retry) {
	// The sink appends its path (and GA4 its query) to the endpoint as
	// text: after a '?' or '#' they would be query or fragment, and the
	// events would go to the endpoint's bare path.
	if u, err := url.Parse(endpoint); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || strings.ContainsAny(endpoint, "?#") {
		// Never the URL itself: a token may have been put in its query.
		v.errf(base+".endpoint", "is not an http or https base URL without a query or fragment (e.g. https://graph.facebook.com)")
	} else if u.User != nil {
		v.errf(base+".endpoint", "holds a user name or password; credentials go in the token file")
	} else if !urlPortOK(u) {
		v.errf(base+".endpoint", "has no valid port; the port is a number 1..65535, or leave it out for the scheme's default")
	}
	v.duration(base+".timeout", timeout, 100*time.Millisecond, 5*time.Minute)
	v.retry(base+".retry", r)
}
