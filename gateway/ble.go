package gateway

import (
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"

	"github.com/beacongate/beacongate/event"
)

// parseBLE reads a store's ping: the shared fields (site, store, sensor,
// consent) and a list of sightings, each of which becomes one event. Every
// sighting is checked before any event is handed on.
func parseBLE(ctx *fasthttp.RequestCtx, cfg *compiled, req *request, body []byte) reason {
	v, r := parseJSON(req, body)
	if r != reasonNone {
		return r
	}
	o, err := v.Object()
	if err != nil {
		return reasonInvalidJSON
	}
	common := &req.common
	common.Reset()
	if r := fillFromRequest(ctx, cfg, req.receivedAt, common, event.KindBLE); r != reasonNone {
		return r
	}
	var sightings *fastjson.Value
	o.Visit(func(k []byte, fv *fastjson.Value) {
		if r != reasonNone {
			return
		}
		switch b2s(k) {
		case "store":
			r = setJSONString(&common.Store, fv, maxIDLen)
		case "sensor":
			r = setJSONString(&common.Sensor, fv, maxIDLen)
		case "sightings":
			sightings = fv
		default:
			r = assignJSON(common, k, fv)
		}
	})
	if r != reasonNone {
		return r
	}
	if r := checkSite(ctx, cfg, common); r != reasonNone {
		return r
	}
	if len(common.Store) == 0 {
		return reasonMissingStore
	}
	if sightings == nil || sightings.Type() != fastjson.TypeArray {
		return reasonNoSightings
	}
	arr, _ := sightings.Array()
	if len(arr) == 0 {
		return reasonNoSightings
	}
	if len(arr) > cfg.limits.MaxSightingsPerRequest {
		return reasonTooManyEvents
	}
	for _, item := range arr {
		e := req.next()
		e.CopyShared(common)
		if len(e.Name) == 0 {
			e.Name = append(e.Name, defaultBLEEvent...)
		}
		if r := parseSighting(e, item); r != reasonNone {
			return r
		}
	}
	return reasonNone
}

// setJSONString copies a JSON string value (null leaves dst empty).
func setJSONString(dst *[]byte, v *fastjson.Value, limit int) reason {
	switch v.Type() {
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		return setField(dst, s, limit)
	case fastjson.TypeNull:
		return reasonNone
	}
	return reasonInvalidField
}

// parseSighting reads one sighting into e.Sighting.
func parseSighting(e *event.Event, v *fastjson.Value) reason {
	o, err := v.Object()
	if err != nil {
		return reasonInvalidSighting
	}
	s := &e.Sighting
	r := reasonNone
	o.Visit(func(k []byte, fv *fastjson.Value) {
		if r != reasonNone {
			return
		}
		switch b2s(k) {
		case "uuid":
			r = setLowerHex(&s.UUID, fv, 36, true)
		case "major":
			s.Major, r = jsonInt(fv, 0, 65535)
		case "minor":
			s.Minor, r = jsonInt(fv, 0, 65535)
		case "namespace":
			r = setLowerHex(&s.Namespace, fv, 20, false)
		case "instance":
			r = setLowerHex(&s.Instance, fv, 12, false)
		case "rssi":
			var n int32
			n, r = jsonInt(fv, -127, 20)
			s.RSSI, s.HasRSSI = int16(n), r == reasonNone
		case "ts":
			s.SeenAtMS, r = jsonTime(fv)
		case "mac":
			r = setMAC(&s.DeviceID, fv)
			s.DeviceKind = event.DeviceMAC
		case "adid":
			r = setJSONString(&s.DeviceID, fv, maxIDLen)
			s.DeviceKind = event.DeviceAdID
		case "app_instance_id":
			r = setJSONString(&s.DeviceID, fv, maxIDLen)
			s.DeviceKind = event.DeviceAppInstance
		}
	})
	if r != reasonNone {
		return reasonInvalidSighting
	}
	iBeacon := len(s.UUID) > 0 && s.Major >= 0 && s.Minor >= 0
	eddystone := len(s.Namespace) > 0 && len(s.Instance) > 0
	if iBeacon == eddystone || !s.HasRSSI {
		return reasonInvalidSighting
	}
	if len(s.DeviceID) == 0 {
		s.DeviceKind = event.DeviceNone
	}
	if s.SeenAtMS == 0 {
		s.SeenAtMS = e.ReceivedAt.UnixMilli()
	}
	return reasonNone
}

// jsonInt reads an integer within [lo, hi].
func jsonInt(v *fastjson.Value, lo, hi int) (int32, reason) {
	n, err := v.Int()
	if err != nil || n < lo || n > hi {
		return 0, reasonInvalidSighting
	}
	return int32(n), reasonNone
}

// Sighting times outside [2020, 2100) are client clock bugs.
var (
	minSightingMS = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	maxSightingMS = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
)

// jsonTime reads Unix milliseconds or an RFC 3339 string.
func jsonTime(v *fastjson.Value) (int64, reason) {
	var ms int64
	switch v.Type() {
	case fastjson.TypeNumber:
		n, err := v.Int64()
		if err != nil {
			return 0, reasonInvalidSighting
		}
		ms = n
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		t, err := time.Parse(time.RFC3339Nano, b2s(s))
		if err != nil {
			return 0, reasonInvalidSighting
		}
		ms = t.UnixMilli()
	default:
		return 0, reasonInvalidSighting
	}
	if ms < minSightingMS || ms >= maxSightingMS {
		return 0, reasonInvalidSighting
	}
	return ms, reasonNone
}

// setLowerHex copies a hex identifier of exactly n characters, lowercased;
// uuid allows the dashes of the 8-4-4-4-12 form.
func setLowerHex(dst *[]byte, v *fastjson.Value, n int, uuid bool) reason {
	s, err := v.StringBytes()
	if err != nil || len(s) != n {
		return reasonInvalidSighting
	}
	out := (*dst)[:0]
	for i, c := range s {
		if uuid && (i == 8 || i == 13 || i == 18 || i == 23) {
			if c != '-' {
				return reasonInvalidSighting
			}
			out = append(out, c)
			continue
		}
		lc, ok := lowerHex(c)
		if !ok {
			return reasonInvalidSighting
		}
		out = append(out, lc)
	}
	*dst = out
	return reasonNone
}

// setMAC copies a MAC address as aa:bb:cc:dd:ee:ff (accepts ':' or '-').
func setMAC(dst *[]byte, v *fastjson.Value) reason {
	s, err := v.StringBytes()
	if err != nil || len(s) != 17 {
		return reasonInvalidSighting
	}
	out := (*dst)[:0]
	for i, c := range s {
		if i%3 == 2 {
			if c != ':' && c != '-' {
				return reasonInvalidSighting
			}
			out = append(out, ':')
			continue
		}
		lc, ok := lowerHex(c)
		if !ok {
			return reasonInvalidSighting
		}
		out = append(out, lc)
	}
	*dst = out
	return reasonNone
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
