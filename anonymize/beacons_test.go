package anonymize

import (
	"strings"
	"testing"

	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestUnknownBeaconsLoseTheirIdentity: with ble.beacons set, a sighting of
// a beacon that is not on the list (here an advertising id sent in the
// iBeacon uuid field) keeps its event but not the identity, and the record
// says a token was removed; listed beacons, iBeacon or Eddystone, keep
// theirs. Without a list every identity is kept.
func TestUnknownBeaconsLoseTheirIdentity(t *testing.T) {
	const listed, adID = "f7826da6-4fa2-4e98-8024-bc5b71e0893e", "6d92078a-8246-4ba4-ae5b-76104861e7dc"
	en := newTestEngine(t, testConfig+"ble: {beacons: [F7826DA6-4FA2-4E98-8024-BC5B71E0893E, edd1ebeac04e5defa017]}\n")
	for _, c := range []struct {
		uuid, namespace string
		keep            bool
	}{
		{uuid: listed, keep: true},
		{uuid: adID, keep: false},
		{namespace: "edd1ebeac04e5defa017", keep: true},
		{namespace: "00000000000000000001", keep: false},
	} {
		e := bleSighting("a4:5e:60:e8:1b:2c", false)
		e.ReceivedAt = clocktest.Golden
		e.Sighting.SeenAtMS = clocktest.Golden.UnixMilli()
		e.Sighting.UUID, e.Sighting.Namespace = []byte(c.uuid), []byte(c.namespace)
		if c.namespace != "" {
			e.Sighting.Instance = []byte("0123456789ab")
		}
		_, rec, _ := record(t, en, e)
		id := c.uuid + c.namespace
		if strings.Contains(rec, id) != c.keep {
			t.Errorf("beacon %s: record %s; want the identity kept: %v", id, rec, c.keep)
		}
		if !c.keep && (!strings.Contains(rec, `"token"]`) || strings.Contains(rec, `"major"`) || strings.Contains(rec, `"instance"`)) {
			t.Errorf("unknown beacon %s: %s; want no identity and scrubbed token", id, rec)
		}
	}
	// No list: identities are kept as sent.
	e := bleSighting("a4:5e:60:e8:1b:2c", false)
	e.Sighting.UUID = []byte(adID)
	if _, rec, _ := record(t, newTestEngine(t, testConfig), e); !strings.Contains(rec, adID) {
		t.Errorf("without ble.beacons the identity is kept: %s", rec)
	}
}
