// Package event defines Event, one parsed collection request (a pixel hit, one
// beacon event or one BLE sighting) as it travels from the gateway through the
// anonymizer to delivery.
//
// An Event holds raw, personal request data. It is owned by the gateway's
// per-request pool: every byte slice in it is a reused buffer that is
// overwritten by the next request. Code handed an *Event must not keep it, or
// any slice inside it, after returning.
package event

import (
	"net/netip"
	"time"
	"unsafe"
)

// Kind says which endpoint produced an event.
type Kind uint8

// The endpoints.
const (
	KindUnknown Kind = iota
	KindPixel        // GET /p.gif
	KindBeacon       // POST /b
	KindBLE          // POST /ble
)

// String returns the kind's name as used in output records and metric labels.
func (k Kind) String() string {
	switch k {
	case KindPixel:
		return "pixel"
	case KindBeacon:
		return "beacon"
	case KindBLE:
		return "ble"
	}
	return "unknown"
}

// PropType is the JSON type of a custom property value.
type PropType uint8

// The property value types.
const (
	PropString PropType = iota
	PropNumber
	PropBool
)

// Prop is one custom property. Value holds the string's unescaped bytes, or the
// literal text of a number or boolean.
type Prop struct {
	Key   []byte
	Value []byte
	Type  PropType
}

// DeviceKind says what kind of device identifier a BLE sighting carries.
type DeviceKind uint8

// The BLE device identifier kinds.
const (
	DeviceNone        DeviceKind = iota
	DeviceMAC                    // a BLE or Wi-Fi MAC address seen by a store sensor
	DeviceAdID                   // a mobile advertising id (IDFA / GAID) from a store app
	DeviceAppInstance            // an app instance id from a store app
)

// String returns the identifier kind's name as used in output records.
func (k DeviceKind) String() string {
	switch k {
	case DeviceMAC:
		return "mac"
	case DeviceAdID:
		return "adid"
	case DeviceAppInstance:
		return "app_instance"
	}
	return "none"
}

// Sighting is one BLE beacon observation. Either UUID (iBeacon, with Major and
// Minor) or Namespace and Instance (Eddystone-UID) identify the beacon.
type Sighting struct {
	UUID       []byte
	Major      int32 // -1 when absent
	Minor      int32 // -1 when absent
	Namespace  []byte
	Instance   []byte
	RSSI       int16
	HasRSSI    bool
	SeenAtMS   int64 // Unix milliseconds; 0 when absent
	DeviceID   []byte
	DeviceKind DeviceKind
	// Randomized is set for a MAC with the locally administered bit: a
	// private address a phone rotates, never counted as a distinct visitor.
	Randomized bool
}

// GDPRNotUnderstood is Consent.GDPR for a gdpr flag that was sent but is
// neither 0 nor 1 (an unexpanded ${GDPR} macro): GDPR is then taken to
// apply, and the flag is counted as malformed.
const GDPRNotUnderstood = 2

// Conflicts marks the consent signals that arrived more than once in one
// request with different values (a repeated query key, a cookie and a
// parameter). Such a signal counts as malformed: a refusal.
type Conflicts uint8

// The signals that can conflict.
const (
	ConflictTCString Conflicts = 1 << iota
	ConflictGCS
	ConflictGCD
	ConflictUSPrivacy
	ConflictGPP
	ConflictGPPSID
	ConflictExplicit
)

// Consent holds the raw consent signals of a request, undecoded.
type Consent struct {
	GDPR      int8 // -1 absent, 0 or 1, GDPRNotUnderstood
	TCString  []byte
	GCS       []byte
	GCD       []byte
	USPrivacy []byte
	GPP       []byte
	GPPSID    []byte
	Explicit  []byte // comma-separated purpose names
	GPC       bool   // Sec-GPC: 1
	DNT       bool   // DNT: 1
	Conflicts Conflicts
	// Seen marks the signals of which a copy has been read, an empty one
	// included, so that a later copy with another value is a conflict
	// whichever of the two came first.
	Seen Conflicts
}

// Event is one parsed collection event. See the package doc for ownership.
type Event struct {
	Kind       Kind
	ReceivedAt time.Time
	ClientIP   netip.Addr

	Site     []byte
	Name     []byte
	URL      []byte
	Referrer []byte
	UserID   []byte
	ClientID []byte
	// EventID is the page's own id for this event ("eid"), shared with
	// other tags on the page so their records can be de-duplicated.
	EventID []byte
	Props   []Prop

	UserAgent      []byte
	AcceptLanguage []byte
	Consent        Consent

	// BLE only.
	Store    []byte
	Sensor   []byte
	Sighting Sighting
}

// Reset empties e for reuse, keeping the capacity of its buffers.
func (e *Event) Reset() {
	e.Kind = KindUnknown
	e.ReceivedAt = time.Time{}
	e.ClientIP = netip.Addr{}
	e.Site = e.Site[:0]
	e.Name = e.Name[:0]
	e.URL = e.URL[:0]
	e.Referrer = e.Referrer[:0]
	e.UserID = e.UserID[:0]
	e.ClientID = e.ClientID[:0]
	e.EventID = e.EventID[:0]
	e.Props = e.Props[:0]
	e.UserAgent = e.UserAgent[:0]
	e.AcceptLanguage = e.AcceptLanguage[:0]
	e.ResetConsent()
	e.Store = e.Store[:0]
	e.Sensor = e.Sensor[:0]
	e.ResetSighting()
}

// Footprint returns the bytes e and its buffers hold (their capacity, the
// spare capacity of Props included), for whoever keeps e for reuse.
func (e *Event) Footprint() int {
	c, s := &e.Consent, &e.Sighting
	n := int(unsafe.Sizeof(*e)) + cap(e.Site) + cap(e.Name) + cap(e.URL) + cap(e.Referrer) + cap(e.UserID) + cap(e.ClientID) +
		cap(e.EventID) + cap(e.UserAgent) + cap(e.AcceptLanguage) + cap(e.Store) + cap(e.Sensor) +
		cap(c.TCString) + cap(c.GCS) + cap(c.GCD) + cap(c.USPrivacy) + cap(c.GPP) + cap(c.GPPSID) + cap(c.Explicit) +
		cap(s.UUID) + cap(s.Namespace) + cap(s.Instance) + cap(s.DeviceID)
	props := e.Props[:cap(e.Props)]
	n += len(props) * int(unsafe.Sizeof(Prop{}))
	for i := range props {
		n += cap(props[i].Key) + cap(props[i].Value)
	}
	return n
}

// ResetConsent empties the consent signals.
func (e *Event) ResetConsent() {
	c := &e.Consent
	c.GDPR = -1
	c.TCString = c.TCString[:0]
	c.GCS = c.GCS[:0]
	c.GCD = c.GCD[:0]
	c.USPrivacy = c.USPrivacy[:0]
	c.GPP = c.GPP[:0]
	c.GPPSID = c.GPPSID[:0]
	c.Explicit = c.Explicit[:0]
	c.GPC = false
	c.DNT = false
	c.Conflicts = 0
	c.Seen = 0
}

// ResetSighting empties the BLE sighting.
func (e *Event) ResetSighting() {
	s := &e.Sighting
	s.UUID = s.UUID[:0]
	s.Major, s.Minor = -1, -1
	s.Namespace = s.Namespace[:0]
	s.Instance = s.Instance[:0]
	s.RSSI, s.HasRSSI = 0, false
	s.SeenAtMS = 0
	s.DeviceID = s.DeviceID[:0]
	s.DeviceKind = DeviceNone
	s.Randomized = false
}

// AddProp appends a custom property, copying key and value into e's reused
// buffers.
func (e *Event) AddProp(key, value []byte, t PropType) {
	n := len(e.Props)
	if n < cap(e.Props) {
		e.Props = e.Props[:n+1]
	} else {
		e.Props = append(e.Props, Prop{})
	}
	p := &e.Props[n]
	p.Key = append(p.Key[:0], key...)
	p.Value = append(p.Value[:0], value...)
	p.Type = t
}

// CopyShared copies into e everything of src that is shared by all events of
// one request (kind, time, address, headers, site, consent, store), so one
// request's common part is parsed once and reused for each of its events.
func (e *Event) CopyShared(src *Event) {
	e.Kind = src.Kind
	e.ReceivedAt = src.ReceivedAt
	e.ClientIP = src.ClientIP
	e.UserAgent = append(e.UserAgent[:0], src.UserAgent...)
	e.AcceptLanguage = append(e.AcceptLanguage[:0], src.AcceptLanguage...)
	e.Site = append(e.Site[:0], src.Site...)
	e.Store = append(e.Store[:0], src.Store...)
	e.Sensor = append(e.Sensor[:0], src.Sensor...)
	sc, dc := &src.Consent, &e.Consent
	dc.GDPR = sc.GDPR
	dc.TCString = append(dc.TCString[:0], sc.TCString...)
	dc.GCS = append(dc.GCS[:0], sc.GCS...)
	dc.GCD = append(dc.GCD[:0], sc.GCD...)
	dc.USPrivacy = append(dc.USPrivacy[:0], sc.USPrivacy...)
	dc.GPP = append(dc.GPP[:0], sc.GPP...)
	dc.GPPSID = append(dc.GPPSID[:0], sc.GPPSID...)
	dc.Explicit = append(dc.Explicit[:0], sc.Explicit...)
	dc.GPC = sc.GPC
	dc.DNT = sc.DNT
	dc.Conflicts = sc.Conflicts
	dc.Seen = sc.Seen
	e.Props = e.Props[:0]
	for i := range src.Props {
		p := &src.Props[i]
		e.AddProp(p.Key, p.Value, p.Type)
	}
}
