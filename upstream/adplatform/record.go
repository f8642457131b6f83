package adplatform

import (
	"time"

	"github.com/valyala/fastjson"

	"github.com/beacongate/beacongate/contact"
)

// Purposes granted in a record's consent: purposes, and
// ad_personalization (ads granted for personalised advertising too).
const (
	purposeAds uint8 = 1 << iota
	purposeAdPersonalization
)

// record is the part of an output record the mappings read. Its slices
// point into the parser's memory: valid until the next parse.
type record struct {
	id, eid, kind, site, event      []byte
	url, referrer, ip, userAgent    []byte
	user, client                    []byte
	signal, uaClass                 []byte
	purposes                        uint8
	timeMS                          int64 // received, or ble.seen; 0 if absent or bad
	props                           *fastjson.Object
	contact                         [numContact][]byte
	fbc, fbp, ttclid, ttp, gaClient []byte
}

// The contact fields, in contact.Field order.
const numContact = int(contact.ExternalID) + 1

func (r *record) reset() { *r = record{} }

// parseRecord reads rec into r with p (reused; r's slices die with the
// next parse). It returns false for a line that is not a JSON object.
func parseRecord(p *fastjson.Parser, rec []byte, r *record) bool {
	r.reset()
	v, err := p.ParseBytes(rec)
	if err != nil {
		return false
	}
	o, err := v.Object()
	if err != nil {
		return false
	}
	var received, seen []byte
	o.Visit(func(k []byte, v *fastjson.Value) {
		switch string(k) {
		case "id":
			r.id = v.GetStringBytes()
		case "eid":
			r.eid = v.GetStringBytes()
		case "kind":
			r.kind = v.GetStringBytes()
		case "site":
			r.site = v.GetStringBytes()
		case "event":
			r.event = v.GetStringBytes()
		case "url":
			r.url = v.GetStringBytes()
		case "referrer":
			r.referrer = v.GetStringBytes()
		case "ip":
			r.ip = v.GetStringBytes()
		case "user_agent":
			r.userAgent = v.GetStringBytes()
		case "user":
			r.user = v.GetStringBytes()
		case "client":
			r.client = v.GetStringBytes()
		case "received":
			received = v.GetStringBytes()
		case "ua":
			r.uaClass = v.GetStringBytes("class")
		case "ble":
			seen = v.GetStringBytes("seen")
		case "consent":
			r.signal = v.GetStringBytes("signal")
			for _, p := range v.GetArray("purposes") {
				if string(p.GetStringBytes()) == "ads" {
					r.purposes |= purposeAds
				}
			}
			// Our personalization purpose is content personalisation,
			// nothing to do with ads: it is not read.
			if v.GetBool("ad_personalization") {
				r.purposes |= purposeAdPersonalization
			}
		case "props":
			r.props, _ = v.Object()
		case "contact":
			if c, err := v.Object(); err == nil {
				c.Visit(func(k []byte, v *fastjson.Value) {
					if f, ok := contact.ParseField(k); ok {
						r.contact[f] = v.GetStringBytes()
					}
				})
			}
		case "click":
			r.fbc = v.GetStringBytes("fbc")
			r.fbp = v.GetStringBytes("fbp")
			r.ttclid = v.GetStringBytes("ttclid")
			r.ttp = v.GetStringBytes("ttp")
			r.gaClient = v.GetStringBytes("ga_client_id")
		}
	})
	if len(seen) > 0 && string(r.kind) == "ble" {
		received = seen
	}
	r.timeMS = parseTimeMS(received)
	return true
}

// parseTimeMS reads an RFC 3339 time as the records write it; 0 if bad.
func parseTimeMS(b []byte) int64 {
	if len(b) == 0 {
		return 0
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return 0
	}
	return t.UnixMilli()
}

// eventID returns the page's eid, which the browser pixel also sent, or
// our own id.
func (r *record) eventID() []byte {
	if len(r.eid) > 0 {
		return r.eid
	}
	return r.id
}

// hashed returns contact field f if it is 64 lowercase hex, else nil: a
// value that is not a digest must never leave as if it were one.
func (r *record) hashed(f contact.Field) []byte {
	if v := r.contact[f]; contact.IsLowerSHA256Hex(v) {
		return v
	}
	return nil
}

// ldu reports whether Meta's Limited Data Use applies: a US opt-out signal
// decided and ads were not granted.
func (r *record) ldu() bool {
	switch string(r.signal) {
	case "us_privacy", "gpp", "gpc":
		return r.purposes&purposeAds == 0
	}
	return false
}

// absoluteURL appends r.url, made absolute with origin when it is a path;
// it returns dst unchanged when no absolute URL can be made.
func absoluteURL(dst, u []byte, origin string) []byte {
	if len(u) == 0 {
		return dst
	}
	if hasHTTPScheme(u) {
		return append(dst, u...)
	}
	if u[0] != '/' || origin == "" {
		return dst
	}
	return append(append(dst, origin...), u...)
}

func hasHTTPScheme(u []byte) bool {
	return len(u) > 8 && (string(u[:8]) == "https://" || string(u[:7]) == "http://")
}
