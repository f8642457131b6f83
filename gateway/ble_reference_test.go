package gateway

import (
	"math"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"

	"github.com/beacongate/beacongate/event"
	"github.com/beacongate/beacongate/retail"
)

// This file keeps the BLE parser as it was before the one pass (issue 21
// item 1): checkJSON, then fastjson, then the fields. It is the reference
// TestBLEOnePassMatchesReference and FuzzBLEOnePass compare parseBLE with.

// refParseBLE reads a store's ping: the shared fields (site, store, sensor,
// consent) and a list of sightings, each of which becomes one event. Every
// sighting is checked before any event is handed on.
func refParseBLE(ctx *fasthttp.RequestCtx, cfg *compiled, req *request, body []byte) problem {
	v, p := refParseJSON(req, body)
	if p == because(reasonInvalidJSON) {
		return problemBLEBody
	}
	if p.bad() {
		return p
	}
	// The Get accessors: fastjson's checked ones format an error (and
	// allocate) for a value of the wrong type.
	o := v.GetObject()
	if o == nil {
		return problemBLEBody
	}
	common := &req.common
	common.Reset()
	if p := fillFromRequest(ctx, req, common, event.KindBLE); p.bad() {
		return p
	}
	var sightings *fastjson.Value
	o.Visit(func(k []byte, fv *fastjson.Value) {
		if p.bad() {
			return
		}
		switch b2s(k) {
		case "store":
			p = refSetJSONLabel(&common.Store, fv, maxIDLen, "store")
		case "sensor":
			p = refSetJSONLabel(&common.Sensor, fv, maxIDLen, "sensor")
		case "sightings":
			sightings = fv
		default:
			p = refAssignJSON(common, k, fv)
		}
	})
	if p.bad() {
		return p
	}
	if p := checkSite(ctx, cfg, common); p.bad() {
		return p
	}
	if len(common.Store) == 0 {
		return fieldProblem(reasonMissingStore, "store", "required")
	}
	arr := sightings.GetArray() // nil when absent or not an array
	if len(arr) == 0 {
		return fieldProblem(reasonNoSightings, "sightings", "must be a non-empty array")
	}
	if len(arr) > cfg.limits.MaxSightingsPerRequest {
		return problemTooManySightings
	}
	w := sightingWindow{
		from: req.receivedAt.Add(-cfg.limits.MaxSightingAge).UnixMilli(),
		to:   req.receivedAt.Add(cfg.limits.MaxSightingAhead).UnixMilli(),
	}
	for i, item := range arr {
		e := req.next()
		e.CopyShared(common)
		e.Name = append(e.Name[:0], common.Name...) // the request's event name, if any
		if len(e.Name) == 0 {
			e.Name = append(e.Name, defaultBLEEvent...)
		}
		if p := refParseSighting(e, item, w); p.bad() {
			p.inSightings, p.at = true, int32(i+1)
			return p
		}
		if cfg.optOut.Contains(e.Sighting.DeviceID) {
			// On the opt-out list: counted, never handed on.
			req.events = req.events[:len(req.events)-1]
			if cfg.optOutCount != nil {
				cfg.optOutCount.Inc()
			}
		}
	}
	return problem{}
}

// refSetJSONString copies a JSON string value (null leaves dst empty).
func refSetJSONString(dst *[]byte, v *fastjson.Value, limit int, field string) problem {
	switch v.Type() {
	case fastjson.TypeString:
		return inField(field, setField(dst, v.GetStringBytes(), limit), limit)
	case fastjson.TypeNull:
		return problem{}
	}
	return fieldProblem(reasonInvalidField, field, "must be a string")
}

// refSetJSONLabel is refSetJSONString for a label (store, sensor), which
// may hold no control character: U+0000..U+001F, U+007F, U+0080..U+009F
// (a value too long is refused as such first).
func refSetJSONLabel(dst *[]byte, v *fastjson.Value, limit int, field string) problem {
	if v.Type() == fastjson.TypeString && len(v.GetStringBytes()) <= limit {
		for _, c := range string(v.GetStringBytes()) {
			if c < 0x20 || c >= 0x7F && c <= 0x9F {
				return fieldProblem(reasonInvalidEventName, field, "")
			}
		}
	}
	return refSetJSONString(dst, v, limit, field)
}

// refParseSighting reads one sighting into e.Sighting.
func refParseSighting(e *event.Event, v *fastjson.Value, w sightingWindow) problem {
	o := v.GetObject()
	if o == nil {
		return sightingProblem("", "must be an object")
	}
	s := &e.Sighting
	p := problem{}
	o.Visit(func(k []byte, fv *fastjson.Value) {
		if p.bad() || fv.Type() == fastjson.TypeNull {
			return // a null names nothing: the field is absent
		}
		switch b2s(k) {
		case "uuid":
			p = refSetLowerHex(&s.UUID, fv, 36, true, "uuid", detailUUID)
		case "major":
			s.Major, p = refJsonInt(fv, 0, 65535, "major", detailU16)
		case "minor":
			s.Minor, p = refJsonInt(fv, 0, 65535, "minor", detailU16)
		case "namespace":
			p = refSetLowerHex(&s.Namespace, fv, 20, false, "namespace", "not 20 hex digits")
		case "instance":
			p = refSetLowerHex(&s.Instance, fv, 12, false, "instance", "not 12 hex digits")
		case "rssi":
			var n int32
			n, p = refJsonInt(fv, -127, 20, "rssi", detailRSSI)
			s.RSSI, s.HasRSSI = int16(n), !p.bad()
		case "ts":
			s.SeenAtMS, p = refJsonTime(fv, w)
		case "mac":
			if p = refOneDevice(s, event.DeviceMAC, "mac"); p.bad() {
				return
			}
			p = refSetMAC(s, fv)
			s.DeviceKind = event.DeviceMAC
		case "adid":
			if p = refOneDevice(s, event.DeviceAdID, "adid"); p.bad() {
				return
			}
			p = refSetAdID(s, fv)
			s.DeviceKind = event.DeviceAdID
		case "props":
			// After the request's props: a sighting's own (a zone, a
			// sensor reading) are kept as the policy allows.
			p = refAssignJSONProps(e, fv)
		case "app_instance_id":
			if p = refOneDevice(s, event.DeviceAppInstance, "app_instance_id"); p.bad() {
				return
			}
			p = sightingID(refSetJSONString(&s.DeviceID, fv, maxIDLen, "app_instance_id"))
			s.DeviceKind = event.DeviceAppInstance
		}
	})
	if p.bad() {
		return p
	}
	iBeacon := len(s.UUID) > 0 && s.Major >= 0 && s.Minor >= 0
	eddystone := len(s.Namespace) > 0 && len(s.Instance) > 0
	if iBeacon == eddystone {
		return sightingProblem("", detailIdentity)
	}
	if !s.HasRSSI {
		return sightingProblem("rssi", "missing")
	}
	if len(s.DeviceID) == 0 {
		s.DeviceKind = event.DeviceNone
	}
	if s.SeenAtMS == 0 {
		s.SeenAtMS = e.ReceivedAt.UnixMilli()
	}
	return problem{}
}

// refOneDevice refuses a device id field of another kind than the
// sighting's device id read before: a sighting has at most one.
func refOneDevice(s *event.Sighting, kind event.DeviceKind, field string) problem {
	if s.DeviceKind != event.DeviceNone && s.DeviceKind != kind {
		return sightingProblem(field, detailDevice)
	}
	return problem{}
}

// refJsonInt reads an integer within [lo, hi].
func refJsonInt(v *fastjson.Value, lo, hi int, field, detail string) (int32, problem) {
	f := v.GetFloat64()
	if v.Type() != fastjson.TypeNumber || f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, sightingProblem(field, detail)
	}
	return int32(f), problem{}
}

// refJsonTime reads a sighting time: Unix seconds (with or without a fraction)
// or milliseconds, told apart by magnitude, or an RFC 3339 string. It must
// lie within w.
func refJsonTime(v *fastjson.Value, w sightingWindow) (int64, problem) {
	var ms int64
	switch v.Type() {
	case fastjson.TypeNumber:
		f := v.GetFloat64()
		if f <= 0 || f >= 1e15 || math.IsNaN(f) {
			return 0, sightingProblem("ts", detailTime)
		}
		if f < secondsBelow {
			ms = int64(math.Round(f * 1000))
		} else {
			ms = int64(f)
		}
	case fastjson.TypeString:
		t, valid := parseRFC3339(v.GetStringBytes())
		if !valid {
			return 0, sightingProblem("ts", detailTime)
		}
		ms = t.UnixMilli()
	default:
		return 0, sightingProblem("ts", detailTime)
	}
	if ms < w.from || ms > w.to {
		return 0, sightingProblem("ts", detailWindow)
	}
	return ms, problem{}
}

// refSetLowerHex copies a hex identifier of exactly n characters, lowercased;
// uuid allows the dashes of the 8-4-4-4-12 form.
func refSetLowerHex(dst *[]byte, v *fastjson.Value, n int, uuid bool, field, detail string) problem {
	s := v.GetStringBytes()
	if len(s) != n {
		return sightingProblem(field, detail)
	}
	out := (*dst)[:0]
	for i, c := range s {
		if uuid && (i == 8 || i == 13 || i == 18 || i == 23) {
			if c != '-' {
				return sightingProblem(field, detail)
			}
			out = append(out, c)
			continue
		}
		lc, isHex := lowerHex(c)
		if !isHex {
			return sightingProblem(field, detail)
		}
		out = append(out, lc)
	}
	*dst = out
	return problem{}
}

// refSetMAC copies a MAC address in any usual notation (colon, dash, Cisco
// dotted, bare hex, any case) as aa:bb:cc:dd:ee:ff and classifies it.
func refSetMAC(s *event.Sighting, v *fastjson.Value) problem {
	out, ok := retail.AppendMAC(s.DeviceID[:0], v.GetStringBytes())
	if !ok {
		return sightingProblem("mac", detailMAC)
	}
	s.DeviceID = out
	s.Randomized = retail.Randomized(out)
	return problem{}
}

// refSetAdID copies an advertising id lower-cased, so IDFA's upper case and
// GAID's lower case of the same id are one device.
func refSetAdID(s *event.Sighting, v *fastjson.Value) problem {
	if p := sightingID(refSetJSONString(&s.DeviceID, v, maxIDLen, "adid")); p.bad() {
		return p
	}
	for i, c := range s.DeviceID {
		if c >= 'A' && c <= 'Z' {
			s.DeviceID[i] = c + ('a' - 'A')
		}
	}
	return problem{}
}

// sightingID books a device id's problem as a sighting's.
func sightingID(p problem) problem {
	p.asSighting()
	return p
}
