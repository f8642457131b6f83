package anonymize

import (
	"bytes"
	"errors"
	"strconv"
	"time"

	"github.com/beacongate/beacongate/anonymize/scrub"
	"github.com/beacongate/beacongate/contact"
	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/plan"
)

// ContactPlatform maps a destination's platform onto the contact
// package's; ok is false for destinations that are no ad platform.
func ContactPlatform(p plan.Platform) (contact.Platform, bool) {
	switch p {
	case plan.PlatformMeta:
		return contact.Meta, true
	case plan.PlatformGoogle:
		return contact.Google, true
	case plan.PlatformTikTok:
		return contact.TikTok, true
	}
	return 0, false
}

// contactFields locates the contact data among props: for each field the
// index of its value, or -1 when it is absent or its copies differ (a
// field sent twice with two values is dropped: we cannot tell which one
// the visitor gave).
func contactFields(props []event.Prop) (idx [contact.NumFields]int16) {
	for f := range idx {
		idx[f] = -1
	}
	var conflict [contact.NumFields]bool
	for i := range props {
		pr := &props[i]
		f, ok := contact.ParseField(pr.Key)
		if !ok || pr.Type == event.PropBool || conflict[f] {
			continue
		}
		switch j := idx[f]; {
		case j < 0:
			idx[f] = int16(i)
		case string(props[j].Value) != string(pr.Value):
			idx[f], conflict[f] = -1, true
		}
	}
	return idx
}

// scannedContact reports whether the text scanner finds personal data in
// v, a contact value the platform takes in clear.
func (en *Engine) scannedContact(sc *scratch, v []byte) bool {
	var f scrub.Found
	sc.buf, f = en.cleaner.AppendText(sc.buf[:0], v)
	return f != 0
}

// errContactScanned marks a contact value sent in clear that held personal
// data of another kind.
var errContactScanned = errors.New("contact value holds personal data")

// appendContact appends "contact":{...}: the event's contact data (props
// em, ph, fn, ln, ct, zp, country, external_id) normalised by the
// destination platform's rules and hashed (SHA-256, lowercase hex), or
// in clear for the fields the platform takes so (Google's ct, zp and
// country). Raw contact data never reaches a record: a value that cannot
// be normalised is left out and counted in res.DroppedContact.
func (en *Engine) appendContact(dst []byte, props []event.Prop, p *policy, sc *scratch, res *Result) []byte {
	platform, ok := ContactPlatform(p.contact)
	if !ok || len(props) == 0 {
		return dst
	}
	idx := contactFields(props)
	mark := len(dst)
	dst = append(appendKey(dst, "contact"), '{')
	n := 0
	for f, i := range idx {
		if i < 0 {
			continue
		}
		field := contact.Field(f)
		v := props[i].Value
		member := len(dst)
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, field.String()...)
		dst = append(dst, '"', ':')
		var err error
		if contact.Hashed(platform, field) {
			dst = append(dst, '"')
			if dst, err = contact.AppendHashed(dst, platform, field, v); err == nil {
				dst = append(dst, '"')
			}
		} else if en.scannedContact(sc, v) {
			// In clear (Google's city, postal code, country): a value in
			// which the scanner finds personal data (an e-mail typed into
			// the city field) is left out, not normalised into the record.
			err = errContactScanned
		} else if sc.buf, err = contact.AppendNormalized(sc.buf[:0], platform, field, v); err == nil {
			dst = appendString(dst, sc.buf)
		}
		if err != nil {
			dst = dst[:member]
			res.DroppedContact++
			continue
		}
		n++
	}
	if n == 0 {
		return dst[:mark]
	}
	return append(dst, '}')
}

// Click ids and ad platform cookies, by where they arrive (props, as bg.js
// sends them, or the page URL's query) and the record key they go under.
var clickSources = [...]struct {
	prop, alt string        // prop names: the cookie's or parameter's own, and a short form
	query     string        // page URL parameter ("" when it never comes in a URL)
	key       string        // key under click
	platform  plan.Platform // the platform the id is for: only its destinations get it
}{
	{"gclid", "", "gclid", "gclid", plan.PlatformGoogle},
	{"gbraid", "", "gbraid", "gbraid", plan.PlatformGoogle},
	{"wbraid", "", "wbraid", "wbraid", plan.PlatformGoogle},
	{"ttclid", "", "ttclid", "ttclid", plan.PlatformTikTok},
	{"_ttp", "ttp", "", "ttp", plan.PlatformTikTok},
	{"_fbp", "fbp", "", "fbp", plan.PlatformMeta},
	{"_fbc", "fbc", "", "fbc", plan.PlatformMeta},
	{"_ga", "ga", "", "ga_client_id", plan.PlatformGoogle},
}

// isClickProp reports whether a property named key is a click id or an ad
// platform cookie (clickSources, or fbclid).
func isClickProp(key []byte) bool {
	if string(key) == "fbclid" {
		return true
	}
	for i := range clickSources {
		if c := &clickSources[i]; string(key) == c.prop || c.alt != "" && string(key) == c.alt {
			return true
		}
	}
	return false
}

// neverProp reports whether a property named key is a click id or an ad
// platform cookie (isClickProp), or a click id the cleaner removes from
// URLs (scrub.BuiltinClickIDs and scan.extra_click_ids, any letter case):
// such a key is never a property, allowlisted or not.
func neverProp(c *scrub.Cleaner, key []byte) bool {
	return isClickProp(key) || c.SensitiveName(key).Has(scrub.KindClickID)
}

const (
	clickFBCLID   = -1 // fbclid: the source of fbc when the page has no _fbc cookie
	maxClickValue = 512
)

// clickValue reports whether v may be recorded as a click id or platform
// cookie: 1 to 512 bytes of letters, digits, '.', '_' and '-' (what the
// platforms issue); anything else is left out, never escaped through.
func clickValue(v []byte) bool {
	if len(v) == 0 || len(v) > maxClickValue {
		return false
	}
	for _, c := range v {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// queryParam returns the raw value of parameter name in url's query (before
// any fragment), or nil.
func queryParam(url []byte, name string) []byte {
	q := -1
	for i, c := range url {
		if c == '#' {
			break
		}
		if c == '?' {
			q = i + 1
			break
		}
	}
	if q < 0 {
		return nil
	}
	for q < len(url) && url[q] != '#' {
		end := q
		for end < len(url) && url[end] != '&' && url[end] != '#' {
			end++
		}
		kv := url[q:end]
		if len(kv) > len(name) && kv[len(name)] == '=' && string(kv[:len(name)]) == name {
			return kv[len(name)+1:]
		}
		q = end
		if q < len(url) && url[q] == '&' {
			q++
		}
	}
	return nil
}

// propValue returns the string value of the first prop named a or b.
func propValue(props []event.Prop, a, b string) []byte {
	for i := range props {
		if props[i].Type != event.PropString {
			continue
		}
		if k := string(props[i].Key); k == a || (b != "" && k == b) {
			return props[i].Value
		}
	}
	return nil
}

// appendClick appends "click":{...}: click ids and ad platform cookies as
// captured, for a destination whose policy keeps them: an ad platform's
// destination gets its own platform's ids only (Meta's fbc and fbp are no
// business of Google's); a destination of another type gets every kind it
// asked for (only = PlatformNone). fbc comes from the
// _fbc cookie, else is made from fbclid as Meta documents it
// (fb.1.<ms>.<fbclid>, the fbclid's case kept); ga_client_id is the client
// id part of the _ga cookie (GA1.1.<id>.<time> → <id>.<time>).
func appendClick(dst []byte, e *event.Event, now time.Time, only plan.Platform) []byte {
	mark := len(dst)
	dst = append(appendKey(dst, "click"), '{')
	n := 0
	for _, s := range clickSources {
		if only != plan.PlatformNone && s.platform != only {
			continue
		}
		v := propValue(e.Props, s.prop, s.alt)
		if v == nil && s.query != "" {
			v = queryParam(e.URL, s.query)
		}
		switch s.key {
		case "ga_client_id":
			v = gaClientID(v)
		case "fbc":
			if !clickValue(v) {
				if fbclid := fbclidOf(e); clickValue(fbclid) {
					// fb.1.<creation time, ms>.<fbclid>: written in place.
					dst = append(appendClickMember(dst, n, s.key), "fb.1."...)
					dst = strconv.AppendInt(dst, now.UnixMilli(), 10)
					dst = append(append(append(dst, '.'), fbclid...), '"')
					n++
				}
				continue
			}
		}
		if clickValue(v) {
			dst = append(append(appendClickMember(dst, n, s.key), v...), '"')
			n++
		}
	}
	if n == 0 {
		return dst[:mark]
	}
	return append(dst, '}')
}

// appendClickMember opens the n-th member of click: a comma after the
// first, the key and the value's opening quote. Keys and values need no
// escaping (clickValue's charset).
func appendClickMember(dst []byte, n int, key string) []byte {
	if n > 0 {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, `":"`...)
}

// fbclidOf returns the event's fbclid: a prop, else the page URL's.
func fbclidOf(e *event.Event) []byte {
	if v := propValue(e.Props, "fbclid", ""); v != nil {
		return v
	}
	return queryParam(e.URL, "fbclid")
}

// gaClientID returns the client id of a _ga cookie value
// ("GA1.1.1234567890.1700000000" → "1234567890.1700000000"), or v itself
// when it is already bare ("1234567890.1700000000"), or nil. A client id
// is Google's "<digits>.<digits>" (a random number and a time in seconds):
// anything else a page's script wrote there ("GA1.1.jane.doe") is not
// passed on as one.
func gaClientID(v []byte) []byte {
	dots := 0
	for _, c := range v {
		if c == '.' {
			dots++
		}
	}
	switch dots {
	case 1:
	case 3:
		v = v[bytes.IndexByte(v, '.')+1:]
		v = v[bytes.IndexByte(v, '.')+1:]
	default:
		return nil
	}
	dot := bytes.IndexByte(v, '.')
	if !allDigits(v[:dot]) || !allDigits(v[dot+1:]) {
		return nil
	}
	return v
}

// allDigits reports whether b is one or more ASCII digits.
func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// ClickKeys returns the keys under click that a record of a destination of
// platform p can hold (the click ids and cookies for p), in record order.
func ClickKeys(p plan.Platform) []string {
	var keys []string
	for i := range clickSources {
		if clickSources[i].platform == p {
			keys = append(keys, clickSources[i].key)
		}
	}
	return keys
}
