package ropa

import (
	"strings"
	"testing"

	"github.com/beacongate/beacongate/adwire"
	"github.com/beacongate/beacongate/plan"
)

// TestAdPlatformRecipientSaysWhatLeaves: the section of an ad platform
// recipient says what its requests carry (package adwire, which the
// mappings are tested against), and names what its record holds but never
// leaves for the platform. It used to list every category its policy
// keeps in the record as what the platform receives: Meta and TikTok the
// location, the user, client and device pseudonyms, the visitor hash and
// the language, none of which their requests carry; TikTok the hashed
// names, city, zip and country; GA4 the IP address and the external id.
func TestAdPlatformRecipientSaysWhatLeaves(t *testing.T) {
	r := build(t, loadExample(t, "shop-retargeting.yaml"))
	md, _, text := render(t, r)
	section := func(name string) (sent, unsent string) {
		t.Helper()
		_, s, ok := strings.Cut(md, "### Recipient `"+name+"`")
		if !ok {
			t.Fatalf("no section for recipient %s", name)
		}
		s, _, _ = strings.Cut(s, "\n## ")
		s, _, _ = strings.Cut(s, "\n### ")
		_, s, ok = strings.Cut(s, "- `ads`: ")
		if !ok {
			t.Fatalf("recipient %s: no ads line", name)
		}
		s, _, _ = strings.Cut(s, "\n")
		sent, unsent, ok = strings.Cut(s, "; in its record in the spool but never sent to the platform: ")
		if !ok {
			t.Fatalf("recipient %s: the ads line does not say what is never sent: %s", name, s)
		}
		unsent, _, _ = strings.Cut(unsent, "; dropped ")
		return sent, unsent
	}
	f := func(name string, sentWant, sentNot, unsentWant []string) {
		t.Helper()
		sent, unsent := section(name)
		for _, w := range sentWant {
			if !strings.Contains(sent, w) {
				t.Errorf("recipient %s: what is sent lacks %q:\n%s", name, w, sent)
			}
		}
		for _, w := range sentNot {
			if strings.Contains(sent, w) {
				t.Errorf("recipient %s: what is sent names %q, which its requests never carry:\n%s", name, w, sent)
			}
		}
		for _, w := range unsentWant {
			if !strings.Contains(unsent, w) {
				t.Errorf("recipient %s: what is never sent lacks %q:\n%s", name, w, unsent)
			}
		}
	}
	pseudonyms := []string{"Location", "User ids", "Client ids", "Device ids", "Visitor hash", "Language"}
	f("meta", []string{"`ip` as `data[].user_data.client_ip_address`", "`contact.em` as `data[].user_data.em[]` (SHA-256 hex",
		"`click.fbc` as `data[].user_data.fbc`", "`url` as `data[].event_source_url`"},
		append(pseudonyms, "Referrer URL"), append(pseudonyms, "Referrer URL"))
	f("tiktok", []string{"`ip` as `data[].user.ip`", "`contact.external_id` as `data[].user.external_id`", "`referrer` as `data[].page.referrer`"},
		append(pseudonyms, "contact.fn", "contact.ct"), append(pseudonyms, "`contact.fn`", "`contact.ln`", "`contact.ct`", "`contact.zp`", "`contact.country`"))
	f("ga4", []string{"`user` as `user_id`", "`client` as `client_id` when the record has no `click.ga_client_id`",
		"`contact.ct` as `user_data.address[].city` (in clear", "`click.ga_client_id` as `client_id`"},
		[]string{"IP address", "Location", "Visitor hash", "Device ids", "contact.external_id", "click.gclid"},
		[]string{"IP address", "Location", "Visitor hash", "Device ids", "Language", "`contact.external_id`", "`click.gclid`"})
	if !strings.Contains(text, "sent to the platform (Meta Conversions API)") {
		t.Error("the HTML does not say what is sent to Meta")
	}

	// Every kept category of every ad platform recipient is either sent
	// (each wire place named) or said never to be sent.
	for i, rd := range r.Destinations {
		w, ok := WirePlatform(r.plan.Destinations[i].Platform)
		if !ok {
			continue
		}
		sent, unsent := section(rd.Name)
		for _, fr := range rd.Rules[plan.StateAds] {
			if !fr.Kept || isTraffic(fr.Field) {
				continue
			}
			fs := SentFields(w, fr)
			if len(fs) == 0 && !strings.Contains(unsent, fr.Category) {
				t.Errorf("recipient %s: %s is kept in its record, never sent, and not said so", rd.Name, fr.Category)
			}
			for _, x := range fs {
				if !strings.Contains(sent, "`"+x.Wire+"`") {
					t.Errorf("recipient %s: %s goes as %s, not said", rd.Name, fr.Category, x.Wire)
				}
			}
		}
		for _, x := range adwire.Fields(w) {
			if !strings.Contains(sent, "`"+x.Record+"` as `"+x.Wire+"`") {
				t.Errorf("recipient %s: the request's %s (record %s) is not named", rd.Name, x.Wire, x.Record)
			}
		}
	}
}
