package anonymize

import "github.com/beacongate/beacongate/anonymize/consent"

// ourPurposes lists our purposes in record order.
var ourPurposes = [...]consent.Purpose{consent.Analytics, consent.Ads, consent.Personalization, consent.PreciseGeo, consent.DeviceStorage}
