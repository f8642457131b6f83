package gateway

import (
	"math"
	"slices"

	"github.com/valyala/fasthttp"

	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/retail"
)

// parseBLE reads a store's ping: the shared fields (site, store, sensor,
// consent) and a list of sightings, each of which becomes one event. Every
// sighting is checked before any event is handed on.
//
// It reads the body in one pass (jsonReader), checking it as checkJSON does
// while it fills the events, and answers exactly as checking the whole body
// first and then reading its fields would (the reference kept in
// ble_reference_test.go): a body that breaks a JSON rule gets checkJSON's
// answer; otherwise the request's own problems (headers, then its fields in
// order), then the site, the store, the list of sightings and its length,
// then the first sighting at fault. Sightings are read where they stand,
// with the shared fields seen so far; when a shared field follows the list
// (rare: senders put the list last), the list is read again at the end.
func parseBLE(ctx *fasthttp.RequestCtx, cfg *compiled, req *request, body []byte) problem {
	r := &req.reader
	r.reset(body)
	r.ws()
	if r.peek() != jsonObject || r.bad {
		return bleBodyAnswer(body)
	}
	r.open()
	common, p := req.fillCommon(ctx, event.KindBLE)
	l := bleList{
		max: cfg.limits.MaxSightingsPerRequest,
		w: sightingWindow{
			from: req.receivedAt.Add(-cfg.limits.MaxSightingAge).UnixMilli(),
			to:   req.receivedAt.Add(cfg.limits.MaxSightingAhead).UnixMilli(),
		},
		at: -1,
	}
	reread := false
	for first := true; ; first = false {
		k, ok := r.member(first, &r.key)
		if !ok {
			break
		}
		if p.bad() {
			r.skip()
			continue
		}
		if l.at >= 0 && vocabularyName(k) != "" {
			reread = true // the sightings before it copied the shared fields too early
		}
		switch b2s(k) {
		case "store":
			r.setLabel(&common.Store, maxIDLen, "store", &p)
		case "sensor":
			r.setLabel(&common.Sensor, maxIDLen, "sensor", &p)
		case "sightings":
			l.at, reread = r.i, false
			l.read(cfg, req, common, r)
		default:
			r.assign(common, k, &p)
		}
	}
	if !r.end() {
		return bleBodyAnswer(body)
	}
	if p.bad() {
		return p
	}
	if p := checkSite(ctx, cfg, common); p.bad() {
		return p
	}
	if len(common.Store) == 0 {
		return fieldProblem(reasonMissingStore, "store", "required")
	}
	if reread {
		r.i, r.depth = l.at, 1
		l.read(cfg, req, common, r)
	}
	if l.n == 0 {
		return fieldProblem(reasonNoSightings, "sightings", "must be a non-empty array")
	}
	if l.n > l.max {
		return problemTooManySightings
	}
	if l.p.bad() {
		return l.p
	}
	// Counted once the request is taken: a list read twice, or a request
	// refused, suppressed nothing more.
	if l.optedOut > 0 && cfg.optOutCount != nil {
		cfg.optOutCount.Add(float64(l.optedOut))
	}
	return problem{}
}

// badJSONAnswer is checkJSON's answer to a body the one pass found at fault.
func badJSONAnswer(body []byte) problem {
	if p := checkJSON(body); p.bad() {
		return p
	}
	return because(reasonInvalidJSON) // not reached: both passes apply one set of rules
}

// problemTooManySightings answers a ping with more sightings than
// server.max_sightings_per_request. It names that key: the beacon's "too
// many events in one request" sent store operators to
// max_events_per_request, a limit of beacons only.
var problemTooManySightings = problem{
	reason: reasonTooManyEvents,
	field:  "sightings",
	detail: "more than server.max_sightings_per_request",
}

// problemBLEBody answers a BLE body that is not one JSON object: broken
// JSON, or valid JSON of another shape (an array of pings, a string). The
// beacon's answer to broken JSON, "want an object or an array of objects",
// would tell a store box's developer to send an array, which /ble refuses
// too.
var problemBLEBody = problem{
	reason: reasonInvalidJSON,
	field:  "body",
	detail: "must be one JSON object, the ping (site, store, sightings)",
}

// bleBodyAnswer is the answer to a BLE body the one pass found at fault
// or not an object: checkJSON's for a bad escape, number or encoding,
// problemBLEBody otherwise.
func bleBodyAnswer(body []byte) problem {
	if p := checkJSON(body); p.bad() && p != because(reasonInvalidJSON) {
		return p
	}
	return problemBLEBody
}

// bleList reads a BLE request's list of sightings.
type bleList struct {
	max int            // sightings a request may carry
	w   sightingWindow // accepted sighting times
	at  int            // where the last list starts in the body, -1 before one
	n   int            // items in the list (counted past max, not read)
	p   problem        // the first sighting at fault
	// optedOut counts the sightings of the list on the opt-out list,
	// dropped from req.events; parseBLE counts them when it takes the
	// request.
	optedOut int
}

// read reads the list at r's position into req.events (replacing a list
// read before: a repeated member counts by its last copy), or steps over a
// value that is not a list (n stays 0).
func (l *bleList) read(cfg *compiled, req *request, common *event.Event, r *jsonReader) {
	req.events = req.events[:0]
	l.n, l.p, l.optedOut = 0, problem{}, 0
	if r.peek() != jsonArray {
		r.skip()
		return
	}
	r.open()
	for first := true; r.item(first); first = false {
		l.n++
		if l.n > l.max || l.p.bad() {
			r.skip()
			continue
		}
		if r.peek() != jsonObject {
			r.skip()
			l.p = sightingProblem("", "must be an object")
			l.p.inSightings, l.p.at = true, int32(l.n)
			continue
		}
		e := req.next()
		e.CopyShared(common)
		e.Name = append(e.Name[:0], common.Name...) // the request's event name, if any
		if len(e.Name) == 0 {
			e.Name = append(e.Name, defaultBLEEvent...)
		}
		if r.sighting(e, l.w, &l.p); l.p.bad() {
			l.p.inSightings, l.p.at = true, int32(l.n)
			continue
		}
		if cfg.optOut.Contains(e.Sighting.DeviceID) {
			// On the opt-out list: never handed on, counted by parseBLE.
			req.events = req.events[:len(req.events)-1]
			l.optedOut++
		}
	}
}

// setString copies a JSON string value (null leaves dst empty) and steps
// over any other value, which is refused: its problem goes in *p (see
// setIn).
func (r *jsonReader) setString(dst *[]byte, limit int, field string, p *problem) {
	r.setValue(dst, limit, field, p, setText)
}

// setLabel is setString for a label (store, sensor): control characters
// are refused (see setLabel).
func (r *jsonReader) setLabel(dst *[]byte, limit int, field string, p *problem) {
	r.setValue(dst, limit, field, p, setLabel)
}

func (r *jsonReader) setValue(dst *[]byte, limit int, field string, p *problem, set func(dst *[]byte, v []byte, limit int, utf8OK bool) reason) {
	switch k, s := r.scalar(&r.val); k {
	case jsonString:
		p.setIn(field, set(dst, s, limit, true), limit) // checked by the reader
	case jsonNull:
	default:
		*p = fieldProblem(reasonInvalidField, field, "must be a string")
	}
}

// sightingWindow is the range of sighting times accepted, in Unix
// milliseconds, around the request's receive time.
type sightingWindow struct{ from, to int64 }

// Sighting problems: each names what the field must be, never its value.
const (
	detailUUID     = "not an iBeacon UUID (32 hex digits as 8-4-4-4-12)"
	detailU16      = "not an integer 0..65535"
	detailRSSI     = "not an integer -127..20"
	detailTime     = "not a Unix time in seconds or milliseconds or RFC 3339"
	detailWindow   = "outside the accepted window around the receive time (server.max_sighting_age before, server.max_sighting_ahead after)"
	detailMAC      = "not a MAC address (aa:bb:cc:dd:ee:ff)"
	detailIdentity = "needs uuid, major and minor (iBeacon) or namespace and instance (Eddystone), not both"
	detailDevice   = "at most one of mac, adid, app_instance_id"
)

func sightingProblem(field, detail string) problem {
	return problem{reason: reasonInvalidSighting, field: field, detail: detail}
}

// sighting reads the sighting object at r's position into e.Sighting. At
// its first problem, which goes in *p (holding none before: see setIn), it
// steps over the rest of the object. No field reader returns a problem by
// value: the identifiers' and numbers' readers report whether they took
// the value (the time's, what is wrong with it) and the problem is made
// here; the device ids' readers write theirs through p. A null value is
// an absent field, whichever the field.
func (r *jsonReader) sighting(e *event.Event, w sightingWindow, p *problem) {
	s := &e.Sighting
	r.open()
	for first := true; ; first = false {
		k, ok := r.member(first, &r.key)
		if !ok {
			break
		}
		if p.bad() || r.peek() == jsonNull {
			// A null names nothing: the field is absent, as in the
			// request's shared fields (a repeated field keeps its
			// earlier copy).
			r.skip()
			continue
		}
		switch b2s(k) {
		case "uuid":
			if !setLowerHex(&s.UUID, r.stringOrNil(), 36, true) {
				*p = sightingProblem("uuid", detailUUID)
			}
		case "major":
			if s.Major, ok = jsonInt(r, 0, 65535); !ok {
				*p = sightingProblem("major", detailU16)
			}
		case "minor":
			if s.Minor, ok = jsonInt(r, 0, 65535); !ok {
				*p = sightingProblem("minor", detailU16)
			}
		case "namespace":
			if !setLowerHex(&s.Namespace, r.stringOrNil(), 20, false) {
				*p = sightingProblem("namespace", "not 20 hex digits")
			}
		case "instance":
			if !setLowerHex(&s.Instance, r.stringOrNil(), 12, false) {
				*p = sightingProblem("instance", "not 12 hex digits")
			}
		case "rssi":
			n, ok := jsonInt(r, -127, 20)
			s.RSSI, s.HasRSSI = int16(n), ok
			if !ok {
				*p = sightingProblem("rssi", detailRSSI)
			}
		case "ts":
			var detail string
			if s.SeenAtMS, detail = jsonTime(r, w); detail != "" {
				*p = sightingProblem("ts", detail)
			}
		case "mac":
			if !r.deviceKey(s, event.DeviceMAC, "mac", p) {
				continue
			}
			if !setMAC(s, r.stringOrNil()) {
				*p = sightingProblem("mac", detailMAC)
			}
			s.DeviceKind = event.DeviceMAC
		case "adid":
			if !r.deviceKey(s, event.DeviceAdID, "adid", p) {
				continue
			}
			setAdID(s, r, p)
			s.DeviceKind = event.DeviceAdID
		case "props":
			// After the request's props: a sighting's own (a zone, a
			// sensor reading) are kept as the policy allows.
			if q := r.props(e); q.bad() {
				*p = q
			}
		case "app_instance_id":
			if !r.deviceKey(s, event.DeviceAppInstance, "app_instance_id", p) {
				continue
			}
			r.setString(&s.DeviceID, maxIDLen, "app_instance_id", p)
			p.asSighting()
			s.DeviceKind = event.DeviceAppInstance
		default:
			r.skip()
		}
	}
	if p.bad() {
		return
	}
	iBeacon := len(s.UUID) > 0 && s.Major >= 0 && s.Minor >= 0
	eddystone := len(s.Namespace) > 0 && len(s.Instance) > 0
	if iBeacon == eddystone {
		*p = sightingProblem("", detailIdentity)
		return
	}
	if !s.HasRSSI {
		*p = sightingProblem("rssi", "missing")
		return
	}
	if len(s.DeviceID) == 0 {
		s.DeviceKind = event.DeviceNone
	}
	if s.SeenAtMS == 0 {
		s.SeenAtMS = e.ReceivedAt.UnixMilli()
	}
}

// deviceKey reports whether the value at r, of the sighting's device id
// field of kind, is to be read. A sighting has at most one device id: a
// field of another kind than one read before is refused (in *p, which must
// hold no problem before) and its value stepped over, so that no id, kind
// or randomized flag of the first is kept with the second. A null, which
// names no device, never reaches it (sighting steps over every null); a
// field repeated counts by its last copy.
func (r *jsonReader) deviceKey(s *event.Sighting, kind event.DeviceKind, field string, p *problem) bool {
	if s.DeviceKind != event.DeviceNone && s.DeviceKind != kind {
		r.skip()
		*p = sightingProblem(field, detailDevice)
		return false
	}
	return true
}

// stringOrNil reads a value: a string's bytes, nil for anything else.
func (r *jsonReader) stringOrNil() []byte {
	if k, s := r.scalar(&r.val); k == jsonString {
		return s
	}
	return nil
}

// asSighting books a device id's problem, if any, as a sighting's.
func (p *problem) asSighting() {
	if p.bad() {
		p.reason = reasonInvalidSighting
	}
}

// jsonInt reads an integer within [lo, hi]. A number with a fraction or
// an exponent is read as jsonFloat reads it (2.0 and 2e0 are 2); a plain
// integer of up to nine digits, which a float64 holds exactly, is read
// directly: ten times cheaper than the float parser, with the same value.
func jsonInt(r *jsonReader, lo, hi int) (_ int32, ok bool) {
	k, num := r.scalar(&r.val)
	if k != jsonNumberKind {
		return 0, false
	}
	if n, ok := plainInt(num); ok {
		if n < lo || n > hi {
			return 0, false
		}
		return int32(n), true
	}
	f := jsonFloat(num)
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, false
	}
	return int32(f), true
}

// plainInt reads num, a number scanJSONNumber checked, when it is an
// integer of one to nine digits with an optional minus sign.
func plainInt(num []byte) (int, bool) {
	neg := len(num) > 0 && num[0] == '-'
	digits := num
	if neg {
		digits = num[1:]
	}
	if len(digits) == 0 || len(digits) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// secondsBelow tells seconds from milliseconds by magnitude: 1e11 seconds is
// the year 5138, 1e11 milliseconds March 1973. Both lie far outside any
// window a sighting time must fall in, so no real time is ambiguous.
const secondsBelow = 1e11

// jsonTime reads a sighting time: Unix seconds (with or without a fraction)
// or milliseconds, told apart by magnitude, or an RFC 3339 string. It must
// lie within w: a time refused returns what is wrong with it (a sighting
// problem's detail), an accepted one "".
func jsonTime(r *jsonReader, w sightingWindow) (_ int64, detail string) {
	var ms int64
	switch k, v := r.scalar(&r.val); k {
	case jsonNumberKind:
		f := jsonFloat(v)
		if f <= 0 || f >= 1e15 || math.IsNaN(f) {
			return 0, detailTime
		}
		if f < secondsBelow {
			ms = int64(math.Round(f * 1000))
		} else {
			ms = int64(f)
		}
	case jsonString:
		t, valid := parseRFC3339(v)
		if !valid {
			return 0, detailTime
		}
		ms = t.UnixMilli()
	default:
		return 0, detailTime
	}
	if ms < w.from || ms > w.to {
		return 0, detailWindow
	}
	return ms, ""
}

// setLowerHex copies a hex identifier of exactly n characters, lowercased;
// uuid allows the dashes of the 8-4-4-4-12 form. It reports whether s is
// one; when not, *dst is not reassigned (its spare bytes may have been
// written).
func setLowerHex(dst *[]byte, s []byte, n int, uuid bool) bool {
	if len(s) != n {
		return false
	}
	out := slices.Grow((*dst)[:0], n)[:n] // written by index: no append per byte
	var bad byte
	if uuid {
		from := 0
		for _, d := range uuidDashes {
			if s[d] != '-' {
				return false
			}
			bad |= lowerHexRun(out[from:d], s[from:d])
			out[d] = '-'
			from = d + 1
		}
		bad |= lowerHexRun(out[from:], s[from:])
	} else {
		bad = lowerHexRun(out, s)
	}
	if bad&0x80 != 0 {
		return false
	}
	*dst = out
	return true
}

// uuidDashes are where the 8-4-4-4-12 form of a UUID has its dashes.
var uuidDashes = [4]int{8, 13, 18, 23}

// lowerHexRun writes s lowercased to out (as long) and returns its bytes
// ORed: the high bit is set when s holds anything but hex digits.
func lowerHexRun(out, s []byte) (bad byte) {
	out = out[:len(s)]
	for i, c := range s {
		lc := lowerHexTable[c]
		out[i] = lc
		bad |= lc
	}
	return bad
}

// lowerHexTable maps a hex digit to its lower-case form, any other byte to
// 0x80.
var lowerHexTable = func() (t [256]byte) {
	for c := range t {
		if lc, ok := lowerHex(byte(c)); ok {
			t[c] = lc
		} else {
			t[c] = 0x80
		}
	}
	return t
}()

// setMAC copies a MAC address in any usual notation (colon, dash, Cisco
// dotted, bare hex, any case) as aa:bb:cc:dd:ee:ff and classifies it; it
// reports whether v is one.
func setMAC(s *event.Sighting, v []byte) bool {
	out, ok := retail.AppendMAC(s.DeviceID[:0], v)
	if !ok {
		return false
	}
	s.DeviceID = out
	s.Randomized = retail.Randomized(out)
	return true
}

// setAdID copies an advertising id lower-cased, so IDFA's upper case and
// GAID's lower case of the same id are one device. A refusal goes in *p,
// which must hold no problem before (see setIn), as a sighting's.
func setAdID(s *event.Sighting, r *jsonReader, p *problem) {
	if r.setString(&s.DeviceID, maxIDLen, "adid", p); p.bad() {
		p.asSighting()
		return
	}
	// In place: each byte is read before it is written. The one
	// lower-casing that "beacongate subject" and suppression use too.
	s.DeviceID = retail.AppendLowerASCII(s.DeviceID[:0], s.DeviceID)
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		return c, true
	case c >= 'A' && c <= 'F':
		return c + ('a' - 'A'), true
	}
	return 0, false
}
