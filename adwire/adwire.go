// Package adwire says, per ad platform, which members of an output record
// the gateway's requests to that platform carry, where in the request and
// in what form: the record of processing (package ropa) states it for each
// ad platform recipient, and beacongate subject uses it to say where a
// person's pseudonyms can have gone. The mappings themselves are in
// upstream/adplatform, whose tests send a record with every member set
// through each mapping and check that the request carries exactly what
// Fields says. It is a leaf: the report may not import the delivery code.
package adwire

// Platform is an ad platform the gateway sends events to.
type Platform uint8

// The platforms, as upstream/adplatform numbers them.
const (
	Meta   Platform = iota // Meta Conversions API
	GA4                    // GA4 Measurement Protocol
	TikTok                 // TikTok Events API
	numPlatforms
)

var platformNames = [numPlatforms]string{"Meta Conversions API", "GA4 Measurement Protocol", "TikTok Events API"}

func (p Platform) String() string {
	if p < numPlatforms {
		return platformNames[p]
	}
	return "unknown platform"
}

// Form is how a record member's value appears in the request.
type Form uint8

// The forms.
const (
	// Recorded: the record's value as it is.
	Recorded Form = iota
	// URL: the record's value, a path made absolute with the site's
	// first origin.
	URL
	// Hashed: the record's SHA-256 hex, left out unless it is 64
	// lowercase hex digits.
	Hashed
	// Clear: the record's value in clear (normalised by the engine), left
	// out when it is a SHA-256 digest.
	Clear
)

var formNames = [...]string{"as recorded", "as recorded, a path made absolute with the site's origin",
	"SHA-256 hex, as recorded", "in clear, as recorded"}

func (f Form) String() string {
	if int(f) < len(formNames) {
		return formNames[f]
	}
	return "unknown form"
}

// Field is one record member a platform's request carries.
type Field struct {
	// Record is the member of the output record: "ip", "user_agent",
	// "url", "referrer", "user", "client", "eid", "id", "event", "props"
	// (each property), "contact.em", "click.fbc", ...
	Record string
	// Wire is where the request carries it, as a path in the request's
	// JSON: "data[].user_data.client_ip_address"; "[]" is an array
	// element; ".*" after props' place is each property under its name.
	Wire string
	// Form is how its value appears there.
	Form Form
	// Unless names the record member that goes to the same place instead
	// when the record holds it ("" when none): GA4's client_id is the
	// record's client pseudonym only when it holds no click.ga_client_id.
	Unless string
	// With names the record member without which it is not sent ("" when
	// none): GA4 takes user_data only beside a user_id, so contact data
	// goes there only when the record holds a user pseudonym.
	With string
}

var fields = [numPlatforms][]Field{
	Meta: {
		{Record: "eid", Wire: "data[].event_id"},
		{Record: "id", Wire: "data[].event_id", Unless: "eid"},
		{Record: "event", Wire: "data[].event_name"},
		{Record: "url", Wire: "data[].event_source_url", Form: URL},
		{Record: "contact.em", Wire: "data[].user_data.em[]", Form: Hashed},
		{Record: "contact.ph", Wire: "data[].user_data.ph[]", Form: Hashed},
		{Record: "contact.fn", Wire: "data[].user_data.fn", Form: Hashed},
		{Record: "contact.ln", Wire: "data[].user_data.ln", Form: Hashed},
		{Record: "contact.ct", Wire: "data[].user_data.ct", Form: Hashed},
		{Record: "contact.zp", Wire: "data[].user_data.zp", Form: Hashed},
		{Record: "contact.country", Wire: "data[].user_data.country", Form: Hashed},
		{Record: "contact.external_id", Wire: "data[].user_data.external_id[]", Form: Hashed},
		{Record: "ip", Wire: "data[].user_data.client_ip_address"},
		{Record: "user_agent", Wire: "data[].user_data.client_user_agent"},
		{Record: "click.fbc", Wire: "data[].user_data.fbc"},
		{Record: "click.fbp", Wire: "data[].user_data.fbp"},
		{Record: "props", Wire: "data[].custom_data.*"},
	},
	GA4: {
		{Record: "click.ga_client_id", Wire: "client_id"},
		{Record: "client", Wire: "client_id", Unless: "click.ga_client_id"},
		{Record: "user", Wire: "user_id"},
		{Record: "contact.em", Wire: "user_data.sha256_email_address[]", Form: Hashed, With: "user"},
		{Record: "contact.ph", Wire: "user_data.sha256_phone_number[]", Form: Hashed, With: "user"},
		{Record: "contact.fn", Wire: "user_data.address[].sha256_first_name", Form: Hashed, With: "user"},
		{Record: "contact.ln", Wire: "user_data.address[].sha256_last_name", Form: Hashed, With: "user"},
		{Record: "contact.ct", Wire: "user_data.address[].city", Form: Clear, With: "user"},
		{Record: "contact.zp", Wire: "user_data.address[].postal_code", Form: Clear, With: "user"},
		{Record: "contact.country", Wire: "user_data.address[].country", Form: Clear, With: "user"},
		{Record: "event", Wire: "events[].name"},
		{Record: "url", Wire: "events[].params.page_location", Form: URL},
		{Record: "referrer", Wire: "events[].params.page_referrer"},
		{Record: "props", Wire: "events[].params.*"},
	},
	TikTok: {
		{Record: "eid", Wire: "data[].event_id"},
		{Record: "id", Wire: "data[].event_id", Unless: "eid"},
		{Record: "event", Wire: "data[].event"},
		{Record: "contact.em", Wire: "data[].user.email", Form: Hashed},
		{Record: "contact.ph", Wire: "data[].user.phone", Form: Hashed},
		{Record: "contact.external_id", Wire: "data[].user.external_id", Form: Hashed},
		{Record: "click.ttclid", Wire: "data[].user.ttclid"},
		{Record: "click.ttp", Wire: "data[].user.ttp"},
		{Record: "ip", Wire: "data[].user.ip"},
		{Record: "user_agent", Wire: "data[].user.user_agent"},
		{Record: "url", Wire: "data[].page.url", Form: URL},
		{Record: "referrer", Wire: "data[].page.referrer"},
		{Record: "props", Wire: "data[].properties.*"},
	},
}

// Fields returns the record members p's requests carry, in the order the
// mapping writes them; nil for an unknown platform. The slice is shared:
// do not modify it.
func Fields(p Platform) []Field {
	if p >= numPlatforms {
		return nil
	}
	return fields[p]
}

// Sent returns the fields of p whose Record is member, or under it
// (member "contact" gives contact.em, contact.ph, ...).
func Sent(p Platform, member string) []Field {
	var out []Field
	for _, f := range Fields(p) {
		if f.Record == member || len(f.Record) > len(member) && f.Record[:len(member)] == member && f.Record[len(member)] == '.' {
			out = append(out, f)
		}
	}
	return out
}
