package ropa

import (
	"strings"

	"github.com/beacongate/beacongate/adwire"
	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/contact"
	"github.com/beacongate/beacongate/plan"
)

// ruleMembers are the record members each field rule writes, as package
// adwire names them ("" for the rules on whole classes of traffic).
var ruleMembers = map[string]string{
	"ip": "ip", "geo": "geo", "user_agent": "user_agent", "url": "url", "referrer": "referrer",
	"user_id": "user", "client_id": "client", "device_id": "ble.device", "visitor_hash": "visitor",
	"accept_language": "lang", "properties": "props", "contact": "contact", "click_ids": "click",
}

// WirePlatform is the platform whose request format an ad platform
// destination of platform p sends in; false for PlatformNone.
func WirePlatform(p plan.Platform) (adwire.Platform, bool) {
	switch p {
	case plan.PlatformMeta:
		return adwire.Meta, true
	case plan.PlatformGoogle:
		return adwire.GA4, true
	case plan.PlatformTikTok:
		return adwire.TikTok, true
	}
	return 0, false
}

// SentFields returns the fields of w's requests that carry what rule f
// puts in the record: none when f keeps nothing, and none for the user
// agent unless the header itself is kept (the reduced form is never sent).
func SentFields(w adwire.Platform, f FieldRule) []adwire.Field {
	m := ruleMembers[f.Field]
	if !f.Kept || m == "" || f.Field == "user_agent" && f.Action != plan.UAKeep.String() {
		return nil
	}
	return adwire.Sent(w, m)
}

// wireLine is one state's line of an ad platform recipient's section:
// what leaves for the platform (from package adwire, which the platform
// mappings are tested against), what its record holds that is never sent,
// what its policy drops, and the events it does not get.
func wireLine(w adwire.Platform, p plan.Platform, state string, rules []FieldRule) inline {
	var sent, unsent []inline
	var dropped, notSent []string
	for _, f := range rules {
		switch {
		case isTraffic(f.Field) && !f.Kept:
			notSent = append(notSent, f.Category+" ("+f.Field+": "+f.Action+")")
			continue
		case isTraffic(f.Field):
			continue // which events, not what of them
		case !f.Kept:
			dropped = append(dropped, f.Category)
			continue
		}
		fs := SentFields(w, f)
		if len(fs) == 0 {
			unsent = append(unsent, line(f.Category))
			continue
		}
		sent = append(sent, append(line(f.Category+" ("+f.Action+"): "), wireList(fs)...))
		var left []string // members under contact or click in its record that are not sent
		switch f.Field {
		case "contact":
			for c := contact.Field(0); c < contact.NumFields; c++ {
				left = appendUnsent(left, fs, "contact."+c.String())
			}
		case "click_ids":
			for _, k := range anonymize.ClickKeys(p) {
				left = appendUnsent(left, fs, "click."+k)
			}
		}
		if len(left) > 0 {
			unsent = append(unsent, append(line(f.Category+": "), codeList(left)...))
		}
	}
	var other []adwire.Field // members no field rule is about: the event's name and id
	for _, fd := range adwire.Fields(w) {
		if !ruled(fd.Record) {
			other = append(other, fd)
		}
	}
	if len(other) > 0 {
		sent = append(sent, append(line("the event's "), wireList(other)...))
	}
	l := line(code(state), ": sent to the platform (", w.String(), "): ", joinInline(sent, "nothing"),
		"; in its record in the spool but never sent to the platform: ", joinInline(unsent, "nothing"),
		"; dropped ", joinOr(dropped, "nothing"))
	if len(notSent) > 0 {
		l = append(l, line("; events it does not get at all: ", strings.Join(notSent, ", "))...)
	}
	return append(l, line(".")...)
}

// wireList says where each of fs goes: "`ip` as `data[].user_data.ip`,
// ...", with its form where it is not the recorded value itself.
func wireList(fs []adwire.Field) inline {
	var l inline
	for i, f := range fs {
		if i > 0 {
			l = append(l, span{Text: ", "})
		}
		l = append(l, line(code(f.Record), " as ", code(f.Wire))...)
		if f.Form != adwire.Recorded {
			l = append(l, line(" ("+f.Form.String()+")")...)
		}
		if f.Unless != "" {
			l = append(l, line(" when the record has no ", code(f.Unless))...)
		}
		if f.With != "" {
			l = append(l, line(" only when the record has ", code(f.With), " too")...)
		}
	}
	return l
}

// appendUnsent appends member to left unless one of fs sends it.
func appendUnsent(left []string, fs []adwire.Field, member string) []string {
	for _, f := range fs {
		if f.Record == member {
			return left
		}
	}
	return append(left, member)
}

// ruled reports whether a field rule decides record member m.
func ruled(m string) bool {
	for _, r := range ruleMembers {
		if m == r || strings.HasPrefix(m, r+".") {
			return true
		}
	}
	return false
}

// joinInline joins items with "; ", or is empty when there are none.
func joinInline(items []inline, empty string) inline {
	if len(items) == 0 {
		return line(empty)
	}
	var l inline
	for i, it := range items {
		if i > 0 {
			l = append(l, span{Text: "; "})
		}
		l = append(l, it...)
	}
	return l
}
