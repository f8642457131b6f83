package consent

import "strconv"

// DecodeReason says why a TC string did not decode. It is a small enum so the
// gateway can count failures by reason without formatting anything.
type DecodeReason uint8

// Decode failure reasons.
const (
	ReasonNone          DecodeReason = iota
	ReasonEmpty                      // empty string or empty segment
	ReasonTooLong                    // longer than MaxTCStringLen
	ReasonBadChar                    // a byte that is not base64url
	ReasonBadLength                  // a base64url length no encoder produces
	ReasonTruncated                  // a field runs past the end of its segment
	ReasonVersion                    // version is not 2
	ReasonLetter                     // a language or country letter outside A-Z
	ReasonRangeZero                  // a range entry starts at vendor 0
	ReasonRangeReversed              // a range entry ends before it starts
	ReasonRangePastMax               // a range entry ends past MaxVendorId
	ReasonRangeUnsorted              // a range entry overlaps or precedes the one before
	ReasonSegmentType                // a later segment has an unknown type
	ReasonSegmentRepeat              // a later segment type appears twice
	numReasons
)

var reasonNames = [numReasons]string{
	"none", "empty", "too_long", "bad_char", "bad_length", "truncated", "version",
	"letter", "range_zero", "range_reversed", "range_past_max", "range_unsorted",
	"segment_type", "segment_repeat",
}

// String returns the reason as a short snake_case label for metrics.
func (r DecodeReason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "reason(" + strconv.Itoa(int(r)) + ")"
}

// field names the part of the TC string an error is about.
type field uint8

const (
	fieldString field = iota
	fieldVersion
	fieldCreated
	fieldLastUpdated
	fieldCMPID
	fieldCMPVersion
	fieldConsentScreen
	fieldConsentLanguage
	fieldVendorListVersion
	fieldPolicyVersion
	fieldFlags
	fieldSpecialFeatures
	fieldPurposesConsent
	fieldPurposesLI
	fieldPurposeOneTreatment
	fieldPublisherCC
	fieldVendorConsentHeader
	fieldVendorConsentBits
	fieldVendorConsentRange
	fieldVendorLIHeader
	fieldVendorLIBits
	fieldVendorLIRange
	fieldPubRestrictions
	fieldPubRestrictionRange
	fieldSegmentType
	fieldOOBHeader
	fieldOOBBits
	fieldOOBRange
	fieldPublisherTC
	numFields
)

var fieldNames = [numFields]string{
	"TC string", "version", "created", "last updated", "CMP id", "CMP version",
	"consent screen", "consent language", "vendor list version", "TCF policy version",
	"service-specific and non-standard-texts flags", "special feature opt-ins",
	"purpose consents", "purpose legitimate interests", "purpose one treatment",
	"publisher country code",
	"vendor consent MaxVendorId and encoding", "vendor consent bit field", "vendor consent range entry",
	"vendor legitimate interest MaxVendorId and encoding", "vendor legitimate interest bit field",
	"vendor legitimate interest range entry",
	"publisher restriction", "publisher restriction range entry",
	"segment type",
	"vendor list MaxVendorId and encoding", "vendor list bit field", "vendor list range entry",
	"publisher TC segment",
}

// DecodeError says where and why a TC string did not decode. Decode returns a
// pointer to an error kept inside the TCString, so failing costs no
// allocation; the message is only built when Error is called. The error is
// valid until the next Decode on the same TCString.
type DecodeError struct {
	// Segment is the index of the dot-separated segment (0 = core).
	Segment int
	// Pos is the bit offset inside the segment, or the character offset in the
	// whole string for ReasonBadChar, ReasonBadLength, ReasonTooLong and ReasonEmpty.
	Pos int
	// Reason is why decoding failed.
	Reason DecodeReason

	field field
	a, b  int // values quoted by the message
}

// Error formats the failure as one line, e.g.
// "bit 213: vendor range entry runs past the end of the string".
func (e *DecodeError) Error() string {
	b := make([]byte, 0, 96)
	if e.Segment > 0 {
		b = append(b, "segment "...)
		b = strconv.AppendInt(b, int64(e.Segment+1), 10)
		b = append(b, ", "...)
	}
	switch e.Reason {
	case ReasonBadChar, ReasonBadLength, ReasonTooLong, ReasonEmpty:
		b = append(b, "character "...)
	default:
		b = append(b, "bit "...)
	}
	b = strconv.AppendInt(b, int64(e.Pos), 10)
	b = append(b, ": "...)
	name := "?"
	if e.field < numFields {
		name = fieldNames[e.field]
	}
	n := func(v int) { b = strconv.AppendInt(b, int64(v), 10) }
	switch e.Reason {
	case ReasonEmpty:
		b = append(b, "empty segment"...)
	case ReasonTooLong:
		b = append(b, "string is "...)
		n(e.a)
		b = append(b, " characters, longer than the "...)
		n(MaxTCStringLen)
		b = append(b, " accepted"...)
	case ReasonBadChar:
		b = strconv.AppendQuoteRune(b, rune(e.a))
		b = append(b, " is not a base64url character"...)
	case ReasonBadLength:
		b = append(b, "a base64url segment cannot be "...)
		n(e.a)
		b = append(b, " characters long"...)
	case ReasonTruncated:
		b = append(b, name...)
		if e.a > 0 {
			b = append(b, " of "...)
			n(e.a)
			b = append(b, " bits"...)
		}
		b = append(b, " runs past the end of the string"...)
	case ReasonVersion:
		b = append(b, "version is "...)
		n(e.a)
		b = append(b, ", only TCF v2 strings are supported"...)
	case ReasonLetter:
		b = append(b, name...)
		b = append(b, " has letter value "...)
		n(e.a)
		b = append(b, ", not A-Z (0-25)"...)
	case ReasonRangeZero:
		b = append(b, name...)
		b = append(b, " starts at vendor 0"...)
	case ReasonRangeReversed:
		b = append(b, name...)
		b = append(b, " ends at vendor "...)
		n(e.b)
		b = append(b, ", before its start "...)
		n(e.a)
	case ReasonRangePastMax:
		b = append(b, name...)
		b = append(b, " ends at vendor "...)
		n(e.a)
		b = append(b, ", past MaxVendorId "...)
		n(e.b)
	case ReasonRangeUnsorted:
		b = append(b, name...)
		b = append(b, " starts at vendor "...)
		n(e.a)
		b = append(b, ", not after the previous entry's end "...)
		n(e.b)
		b = append(b, " (entries must be sorted and not overlap)"...)
	case ReasonSegmentType:
		b = append(b, "segment type "...)
		n(e.a)
		b = append(b, " is not disclosed vendors (1), allowed vendors (2) or publisher TC (3)"...)
	case ReasonSegmentRepeat:
		b = append(b, "segment type "...)
		n(e.a)
		b = append(b, " appears twice"...)
	default:
		b = append(b, "undecodable"...)
	}
	return string(b)
}
