package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/beacongate/beacongate/adwire"
	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/anonymize/suppress"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/contact"
	"github.com/beacongate/beacongate/retail"
	"github.com/beacongate/beacongate/ropa"
	"github.com/beacongate/beacongate/suggest"
	"github.com/beacongate/beacongate/wiring"
)

const subjectUsage = `Usage:
  beacongate subject -config FILE -site SITE [-kind subject|mac|adid] -id ID -from DATE -to DATE [-format text|json] [-data DIR]
  beacongate subject -config FILE -kind email|phone|external_id -id VALUE [-format text|json] [-data DIR]
  beacongate subject suppress|unsuppress -config FILE [-kind subject|user|client] -site SITE -id ID [-data DIR]
  beacongate subject suppress|unsuppress -config FILE -kind mac|adid -id ID [-data DIR]
  beacongate subject list -config FILE [-data DIR]

The first form prints, per pseudonym period between -from and -to, the
pseudonym that identifier ID had on SITE. A user or client id (-kind
subject, the default) is taken exactly as it was sent: look its pseudonym
up or delete it downstream in the user, client and device fields. A BLE
device id is taken as the gateway normalises it: with -kind mac a MAC in
any notation (aa:bb:cc:dd:ee:ff, aa-bb-..., aabb.ccdd.eeff, aabbccddeeff,
any case), with -kind adid an advertising or app instance id in any case.
Without -kind the id is taken exactly as sent and only so (its device
forms are other identifiers, which may be other people's). The device's
pseudonyms are to be found in the device field. It also prints, per UTC
day, the visitor hash a BLE sighting of the device gets on SITE (keyed by
site and device id; none for a randomized MAC), to be found in the
visitor field. Per field it names the destinations that can have received
it (their policies keep it; an ad platform's requests carry it) and those
that never do: do not send the values there. It says where a pseudonym cannot be recomputed: ephemeral
keys (never stored) or destroyed keys. The
second form prints, per ad platform destination that receives hashed
contact data (contact: hash), the hash that e-mail address, phone number or
external id had there, normalised by that platform's rules: look it up or
delete it at the platform (these hashes do not rotate).
suppress adds the subject to the suppression list (its keyed hash only):
a running gateway drops its events on arrival within seconds; unsuppress
removes it. When the config lists sites, suppress refuses a SITE not among
them (the gateway takes no event of it; a lookup notes it). -kind says what ID is: subject (the default; user or client are
the same), a user or client id exactly as sent, matched on SITE only (a
device id is matched as the BLE endpoint normalises it; a note says when
the id typed differs from that form); or mac or adid, a store device (a MAC in any notation, an
advertising or app instance id in any case) whose BLE sightings are
dropped on every site: a shopper who asked not to be counted. This
replaces "beacongate optout"; a device on the older ble.optout_file list
is still dropped, and unsuppress removes it from there too (a running
gateway re-reads that list only on reload or restart). list prints
the list (hashes only). Every lookup and list, and every suppress or
unsuppress that changes the list, is written to the audit log, naming the
subject by its keyed hash only (list by the number of hashes shown). When that
entry cannot be written (privacy.audit_log on), the command prints none
of its answer, names the audit log to fix and exits 1; a suppress or
unsuppress has changed the list by then, and says so.
`

// maxSubjectPeriods bounds one lookup: ten years of daily periods.
const maxSubjectPeriods = 3660

// subjectPeriod is one period of a lookup.
type subjectPeriod struct {
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Key       string    `json:"key"`                 // derived, stored, absent, destroyed, ephemeral or unverified
	Pseudonym string    `json:"pseudonym,omitempty"` // empty when it cannot be computed
	// Device holds the other pseudonyms the device field may carry for the
	// id: those of its normalised device forms where they differ from
	// Pseudonym's (see deviceForms).
	Device []string `json:"device,omitempty"`
}

// subjectVisitorDay is one visitor period (a UTC day) of a lookup.
type subjectVisitorDay struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Key   string    `json:"key"` // as subjectPeriod's, for the visitor key
	// Visitor holds the BLE visitor hashes of the id's device forms on the
	// site that day; empty when they cannot be computed.
	Visitor []string `json:"visitor,omitempty"`
}

// subjectReport is the lookup's result.
type subjectReport struct {
	Site        string   `json:"site"`
	Kind        string   `json:"kind"` // subject, mac or adid: what the id was taken as
	SubjectHash string   `json:"subject_hash"`
	Period      string   `json:"period"`
	Fields      []string `json:"fields"`
	// Destinations are those that can have received a value of one of
	// Fields (Where says which of which); the others never receive them.
	Destinations []string `json:"destinations"`
	// Where says, per field of Fields and for the BLE visitor hash, which
	// destinations can have received its values and which never do.
	Where   []subjectWhere  `json:"where"`
	Periods []subjectPeriod `json:"periods"`
	// VisitorDays are the visitor periods overlapping the range, with the
	// visitor hashes a BLE sighting of the device gets (none for a
	// randomized MAC).
	VisitorDays []subjectVisitorDay `json:"visitor_days,omitempty"`
	Notes       []string            `json:"notes"`
}

// keyNotes explains each key state to the officer.
var keyNotes = map[string]string{
	"derived":   "derived: the key comes from the secret; the pseudonym is exact",
	"stored":    "stored: the key is in the key store; the pseudonym is exact",
	"absent":    "absent: no key was made for the period, so no event was pseudonymized in it",
	"destroyed": "destroyed: the key was destroyed (keys forget or key_retention); the pseudonym cannot be recomputed by anyone using the key store",
	"ephemeral": "ephemeral: pseudonym.mode is ephemeral, its keys are never stored; pseudonyms cannot be recomputed, by design",
	// unverified: privacy.key_store is on, but the data dir holds no key
	// store; the note names the directory (unverifiedNote).
	"unverified": "",
}

// keyNote is the note on key state k.
func keyNote(cfg *config.Config, k string) string {
	if k == "unverified" {
		return unverifiedNote(keyStoreDir(cfg))
	}
	return keyNotes[k]
}

// unverifiedNote is the note of the "unverified" periods: the key store
// expected in dir is not there.
func unverifiedNote(dir string) string {
	return "unverified: privacy.key_store is on but there is no key store in " + dir +
		"; the pseudonym is the one a key derived from the secret gives, right only if no gateway has run with the key store on this data dir (a gateway keys the periods after it started with the store from the store): check -data or server.data_dir"
}

// runSubject runs "beacongate subject ...". It fails when its answer
// cannot be written (writtenOrFail).
func runSubject(args []string, stdout, stderr io.Writer) int {
	return writtenOrFail("beacongate subject", stdout, stderr, func(w io.Writer) int { return subject(args, w, stderr) })
}

// writtenOrFail runs cmd with stdout and turns its exit code 0 into 1 when
// a write to stdout failed (a full disk under a redirection, a closed
// pipe): an answer cut short must not look delivered.
func writtenOrFail(name string, stdout, stderr io.Writer, cmd func(io.Writer) int) int {
	w := &stickyWriter{w: stdout}
	code := cmd(w)
	if code == 0 && w.err != nil {
		fmt.Fprintf(stderr, "%s: cannot write the output: %v\n", name, w.err)
		return 1
	}
	return code
}

// stickyWriter passes writes to w until one fails, then keeps that error.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	s.err = err
	return n, err
}

// subject is runSubject's body.
func subject(args []string, stdout, stderr io.Writer) int {
	verb := "lookup"
	if len(args) > 0 && (args[0] == "suppress" || args[0] == "unsuppress" || args[0] == "list") {
		verb, args = args[0], args[1:]
	} else if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		unknownCommand(stderr, "beacongate subject", args[0], []string{"suppress", "unsuppress", "list"}, subjectUsage)
		return 2
	}
	fs := flag.NewFlagSet("beacongate subject", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, subjectUsage) }
	cfgPath := fs.String("config", "", "the gateway's config file")
	data := fs.String("data", "", "the gateway's data directory (default: the config's server.data_dir)")
	site := fs.String("site", "", "the site id")
	id := fs.String("id", "", "the identifier, exactly as it was sent")
	from := fs.String("from", "", "first `DATE` (2006-01-02 or RFC 3339)")
	to := fs.String("to", "", "end `DATE`, exclusive")
	format := fs.String("format", "text", "text or json")
	kind := fs.String("kind", "subject", "what -id is: subject, user or client (exactly as sent), or mac or adid (a store device, in any notation; suppressed on every site)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // the usage was asked for
		}
		return 2
	}
	if field, isContact := contactKinds[*kind]; isContact {
		return lookupContact(*cfgPath, *data, *kind, field, *id, *format, verb, stdout, stderr)
	}
	k, ok := subjectKinds[*kind]
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "beacongate subject: unexpected argument %q\n\n%s", fs.Arg(0), subjectUsage)
		return 2
	case !ok:
		fmt.Fprintf(stderr, "beacongate subject: -kind must be subject, user, client, mac, adid, email, phone or external_id\n")
		return 2
	case *cfgPath == "" || verb != "list" && *id == "" || (k == kindSubject || verb == "lookup") && verb != "list" && *site == "":
		fmt.Fprintf(stderr, "beacongate subject: -config, -id and (but to suppress or unsuppress -kind mac|adid) -site are required\n\n%s", subjectUsage)
		return 2
	case k == kindMAC && verb != "list" && !isMAC(*id):
		fmt.Fprintf(stderr, "beacongate subject %s: -id is not a MAC address (aa:bb:cc:dd:ee:ff, aa-bb-..., aabb.ccdd.eeff or aabbccddeeff); use -kind adid for other device ids\n", verb)
		return 2
	}
	cfg, err := officerConfig(*cfgPath, *data)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate subject: %v\n", err)
		return 1
	}
	if verb == "list" {
		return listSuppressed(cfg, stdout, stderr)
	}
	key, err := subjectKey(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate subject: %v\n", err)
		return 1
	}
	siteKnown := k != kindSubject && verb != "lookup" || knownSite(cfg, *site)
	if verb == "suppress" && !siteKnown {
		// The gateway refuses every event of a site it does not list
		// (400 unknown site): the entry would match nothing, while the
		// subject's events on the site meant go on.
		fmt.Fprintf(stderr, "beacongate subject suppress: -site: not one of the sites in the config (%s), so the gateway takes no event of it and the entry would match none%s; nothing was suppressed\n", strings.Join(siteIDs(cfg), ", "), didYouMean(*site, siteIDs(cfg)))
		return 2
	}
	if verb != "lookup" {
		return editSubject(cfg, key, verb, k, *site, *id, stdout, stderr)
	}
	// The audit log names a subject by its keyed hash on the site, a store
	// device by its device hash (the same in every notation).
	hashHex, auditKind := key.Hex([]byte(*site), []byte(*id)), "subject"
	if k != kindSubject {
		h := suppress.DeviceHash(key, []byte(*id))
		hashHex, auditKind = hex.EncodeToString(h[:]), "device"
	}
	start, err1 := parseDate(*from)
	end, err2 := parseDate(*to)
	if err := errors.Join(err1, err2); err != nil || !end.After(start) {
		fmt.Fprintf(stderr, "beacongate subject: -from and -to must be dates with -from before -to (2006-01-02 or RFC 3339)\n")
		return 2
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "beacongate subject: -format must be text or json\n")
		return 2
	}
	rep, err := lookupSubject(cfg, k, *site, *id, start, end)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate subject: %v\n", err)
		return 1
	}
	rep.SubjectHash = hashHex
	if !siteKnown {
		// Records of a site the config no longer lists may still be
		// downstream, so the lookup goes on, but the officer is told.
		rep.Notes = append(rep.Notes, "site: -site is not one of the sites in the config ("+strings.Join(siteIDs(cfg), ", ")+"), so the gateway takes no event of it now: these pseudonyms are found only in records of a time when it did"+didYouMean(*site, siteIDs(cfg)))
	}
	if err := auditCLI(cfg, "subject.lookup", "site", *site, "kind", auditKind, "subject", hashHex,
		"from", start.Format(time.RFC3339), "to", end.Format(time.RFC3339)); err != nil {
		fmt.Fprintf(stderr, "beacongate subject: %v; a lookup that is not recorded is not shown\n", err)
		return 1
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
		return 0
	}
	fmt.Fprintf(stdout, "%s %s on site %s, pseudonym period %s\n", auditKind, rep.SubjectHash, rep.Site, rep.Period)
	fmt.Fprintf(stdout, "look for the pseudonyms only where they can have gone (by the config as it is now):\n")
	var visitorWhere subjectWhere
	for _, w := range rep.Where {
		if w.Field == "visitor" {
			visitorWhere = w
			continue
		}
		fmt.Fprintf(stdout, "  %-7s field: %s\n", w.Field, whereWords(w))
	}
	fmt.Fprintln(stdout)
	for _, p := range rep.Periods {
		ps := p.Pseudonym
		if ps == "" {
			ps = "(cannot be computed)"
		}
		for _, d := range p.Device {
			ps += "  device " + d
		}
		fmt.Fprintf(stdout, "%s  %-9s  %s\n", p.Start.Format(time.RFC3339), p.Key, ps)
	}
	if len(rep.VisitorDays) > 0 {
		fmt.Fprintf(stdout, "\nBLE visitor hashes, per UTC day: look for them in the visitor field of the ble records: %s\n\n", whereWords(visitorWhere))
	}
	for _, d := range rep.VisitorDays {
		vs := "(cannot be computed)"
		if len(d.Visitor) > 0 {
			vs = strings.Join(d.Visitor, "  ")
		}
		fmt.Fprintf(stdout, "%s  %-9s  %s\n", d.Start.Format(time.RFC3339), d.Key, vs)
	}
	fmt.Fprintln(stdout)
	for _, n := range rep.Notes {
		fmt.Fprintln(stdout, n)
	}
	return 0
}

// knownSite reports whether the gateway takes events of site: any site
// when the config lists none, else only a listed one, exactly as written
// (the gateway's checkSite).
func knownSite(cfg *config.Config, site string) bool {
	if len(cfg.Sites) == 0 {
		return true
	}
	for i := range cfg.Sites {
		if cfg.Sites[i].ID == site {
			return true
		}
	}
	return false
}

// siteIDs lists the config's site ids.
func siteIDs(cfg *config.Config) []string {
	ids := make([]string, len(cfg.Sites))
	for i := range cfg.Sites {
		ids[i] = cfg.Sites[i].ID
	}
	return ids
}

// didYouMean is " (did you mean X?)" for the site id closest to s, or "".
func didYouMean(s string, ids []string) string {
	if c := suggest.Closest(s, ids); c != "" {
		return " (did you mean " + c + "?)"
	}
	return ""
}

// subjectKind is what an identifier names on the suppression list.
type subjectKind uint8

const (
	kindSubject subjectKind = iota // a user, client or device id on one site
	kindMAC                        // a store device by its MAC, every site
	kindAdID                       // a store device by another id, every site
)

var subjectKinds = map[string]subjectKind{"subject": kindSubject, "user": kindSubject, "client": kindSubject, "mac": kindMAC, "adid": kindAdID}

// editSubject adds (verb suppress) or removes (unsuppress) one subject or
// store device on the suppression list, and records the change in the
// audit log. A device is also removed from the older opt-out list.
func editSubject(cfg *config.Config, key *pseudonym.SubjectKey, verb string, k subjectKind, site, id string, stdout, stderr io.Writer) int {
	var h suppress.Hash
	what := "subject"
	if k == kindSubject {
		h = suppress.SubjectHash(key, []byte(site), []byte(id))
	} else {
		h, what, site = suppress.DeviceHash(key, []byte(id)), "device", "every site"
	}
	hashHex := hex.EncodeToString(h[:])
	changed, err := suppress.Edit(suppressionFile(cfg), h, verb == "suppress")
	if err != nil {
		fmt.Fprintf(stderr, "beacongate subject %s: %v\n", verb, err)
		return 1
	}
	legacy := false // taken off the older opt-out list
	if k != kindSubject && verb == "unsuppress" {
		if legacy, err = removeOptOut(&cfg.BLE, id); err != nil {
			fmt.Fprintf(stderr, "beacongate subject %s: %v\n", verb, err)
			return 1
		}
		changed = changed || legacy
	}
	if changed {
		kv := []string{"site", site, "subject", hashHex}
		if k != kindSubject {
			kv = []string{"kind", "device", "subject", hashHex}
		}
		if err := auditCLI(cfg, "suppression."+verb, kv...); err != nil {
			// The list has changed; only the record of it is missing.
			fmt.Fprintf(stderr, "beacongate subject %s: the %s is %sed in %s, but the change is not recorded: %v\n", verb, what, verb, suppressionFile(cfg), err)
			return 1
		}
	}
	state := map[bool]string{true: "now", false: "already"}[changed]
	fmt.Fprintf(stdout, "%s %s on %s: %s %sed (%s); a running gateway applies it within seconds\n", what, hashHex, site, state, verb, suppressionFile(cfg))
	if k == kindSubject {
		// The BLE endpoint normalises a device id before the list is
		// checked: as typed, this entry matches no sighting of a device.
		if df, _ := deviceForms(k, []byte(id)); len(df) != 1 || !bytes.Equal(df[0], []byte(id)) {
			fmt.Fprintln(stdout, "note: the id was taken exactly as typed, as a user or client id; a store device's sightings carry their id normalised (a MAC as aa:bb:cc:dd:ee:ff, an advertising id lower-cased), which this entry does not match: to suppress a store device, use -kind mac or -kind adid")
		}
	}
	if legacy {
		// The gateway reads the older list at start and on reload only.
		fmt.Fprintf(stdout, "also removed from the older opt-out list %s (ble.optout_file), which a running gateway re-reads only on reload (SIGHUP or POST /-/reload) or restart: until then it still drops the device\n", cfg.BLE.OptOutFile)
	}
	return 0
}

// listSuppressed prints the suppression list (hashes only) and what the
// older opt-out list still holds, once the audit log has recorded it.
func listSuppressed(cfg *config.Config, stdout, stderr io.Writer) int {
	path := suppressionFile(cfg)
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stderr, "beacongate subject list: %v\n", err)
		return 1
	}
	set, err := suppress.Parse(b)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate subject list: %s: %v\n", path, err)
		return 1
	}
	hs := make([]string, 0, len(set))
	for h := range set {
		hs = append(hs, hex.EncodeToString(h[:]))
	}
	sort.Strings(hs)
	old, err := openOptOut(&cfg.BLE)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate subject list: %v\n", err)
		return 1
	}
	// The hashes name everyone who objected, as a lookup's pseudonyms name
	// one subject: reading them is recorded, with their number only.
	kv := []string{"hashes", strconv.Itoa(len(hs))}
	if old != nil {
		kv = append(kv, "optout_file_devices", strconv.Itoa(old.Len()))
	}
	if err := auditCLI(cfg, "suppression.list", kv...); err != nil {
		fmt.Fprintf(stderr, "beacongate subject list: %v; a list that is not recorded is not shown\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "# %s: keyed hashes of suppressed subjects and store devices (the identifiers are never stored)\n", path)
	for _, h := range hs {
		fmt.Fprintln(stdout, h)
	}
	fmt.Fprintf(stdout, "# %d subject(s) and device(s)\n", len(hs))
	if old != nil {
		fmt.Fprintf(stdout, "# and %d device(s) on the older opt-out list %s (ble.optout_file), still honoured; beacongate subject unsuppress -kind mac|adid removes them\n", old.Len(), cfg.BLE.OptOutFile)
	}
	return 0
}

// isMAC reports whether id is a MAC address in a notation the BLE endpoint
// accepts.
func isMAC(id string) bool {
	_, ok := retail.AppendMAC(nil, []byte(id))
	return ok
}

// deviceForms returns the device ids the BLE endpoint makes of id, sent as
// a device of kind k, with the endpoint's own normalisation (package
// retail): a MAC in any notation becomes aa:bb:cc:dd:ee:ff (-kind mac);
// an advertising id is lower-cased and an app instance id kept as sent
// (-kind adid). Without a kind it says what the id would become as a
// device (a MAC notation read as a MAC), which a lookup only notes: those
// forms are other identifiers. The first is the normal form; randomized
// says it is a MAC with the locally administered bit.
func deviceForms(k subjectKind, id []byte) (forms [][]byte, randomized bool) {
	if k != kindAdID {
		if mac, ok := retail.AppendMAC(nil, id); ok {
			return [][]byte{mac}, retail.Randomized(mac)
		}
		if k == kindMAC {
			return nil, false // refused before
		}
	}
	lower := retail.AppendLowerASCII(nil, id)
	forms = [][]byte{lower}
	if !bytes.Equal(lower, id) {
		forms = append(forms, id) // as an app_instance_id, which is kept as sent
	}
	return forms, false
}

// lookupSubject computes the subject's pseudonym in every period that
// overlaps [start, end), without creating a key. For -kind subject it is
// the id's exactly as typed, and no other; for -kind mac|adid its device
// normal form's, the other device forms' pseudonyms (deviceForms) going
// in Device.
func lookupSubject(cfg *config.Config, k subjectKind, site, id string, start, end time.Time) (*subjectReport, error) {
	period := cfg.Pseudonym.Period.D()
	ps := int64(period / time.Second)
	first, last := floorDiv(start.Unix(), ps), floorDiv(end.Unix()-1, ps)
	if last-first+1 > maxSubjectPeriods {
		return nil, fmt.Errorf("the range covers %d periods; look up at most %d at once", last-first+1, maxSubjectPeriods)
	}
	// The gateway's visitor keys last the default visitor period (a UTC
	// day); it has no setting.
	vps := int64(pseudonym.DefaultVisitorPeriod / time.Second)
	vfirst, vlast := floorDiv(start.Unix(), vps), floorDiv(end.Unix()-1, vps)
	if vlast-vfirst+1 > maxSubjectPeriods {
		return nil, fmt.Errorf("the range covers %d visitor days; look up at most %d at once", vlast-vfirst+1, maxSubjectPeriods)
	}
	rep := &subjectReport{Site: site, Kind: "subject", Period: period.String(), Fields: []string{"user", "client", "device"}}
	// Without -kind the id is taken exactly as sent, and only so: what it
	// would become as a store device (lower-cased, or read as a MAC) is
	// another identifier, which may be another person's (user ids that
	// differ in case, a customer number of 12 digits that reads as a MAC).
	// Its device forms are looked up only when the officer says it is a
	// device (-kind mac|adid); the notes say so when they would differ.
	asTyped := []byte(id)
	var forms [][]byte
	visitorForms := [][]byte{asTyped} // the device ids a sighting may have carried
	randomized := false
	otherDeviceForm := false
	switch k {
	case kindMAC, kindAdID:
		forms, randomized = deviceForms(k, asTyped)
		visitorForms = forms
		rep.Kind = map[subjectKind]string{kindMAC: "mac", kindAdID: "adid"}[k]
		rep.Fields = []string{"device"}
		asTyped, forms = forms[0], forms[1:]
	default:
		df, _ := deviceForms(k, asTyped)
		otherDeviceForm = len(df) != 1 || !bytes.Equal(df[0], asTyped)
	}
	where, err := whereFields(cfg, append(append([]string(nil), rep.Fields...), "visitor"))
	if err != nil {
		return nil, err
	}
	rep.Where, rep.Destinations = where, []string{}
	for _, d := range cfg.Destinations {
		for _, w := range where {
			if w.Field != "visitor" && slices.Contains(w.Destinations, d.Name) {
				rep.Destinations = append(rep.Destinations, d.Name)
				break
			}
		}
	}
	var keys *pseudonym.Keyring
	var store *pseudonym.KeyStore
	noStore := false // privacy.key_store on, and no store in the data dir
	if cfg.Pseudonym.Mode == config.PseudonymDerived {
		secret, err := wiring.LoadSecret(&cfg.Pseudonym)
		if err != nil {
			return nil, err
		}
		o := pseudonym.Options{Mode: pseudonym.Derived, Secret: secret, Period: period, Clock: cliClock}
		if cfg.Privacy.KeyStore {
			st, err := openKeyStore(cfg, cliClock.Now(), true)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
			if st != nil {
				store, o.Keys = st, st
			} else {
				noStore = true
			}
		}
		if keys, err = pseudonym.New(o); err != nil {
			return nil, err
		}
	}
	// keyState is the state of the key of period idx of span seconds for
	// purpose ("pseudonym" or "visitor").
	keyState := func(purpose string, span, idx int64) string {
		switch {
		case keys == nil:
			return "ephemeral"
		case store != nil:
			return store.State(purpose, span, idx).String()
		case noStore:
			return "unverified"
		}
		return "derived"
	}
	seen := map[string]bool{}
	for idx := first; idx <= last; idx++ {
		p := subjectPeriod{Start: time.Unix(idx*ps, 0).UTC(), End: time.Unix((idx+1)*ps, 0).UTC(), Key: keyState("pseudonym", ps, idx)}
		if keys != nil {
			p.Pseudonym = string(keys.AppendPseudonym(nil, []byte(site), asTyped, p.Start))
			for _, f := range forms { // the other device forms, none equal to asTyped
				if d := keys.AppendPseudonym(nil, []byte(site), f, p.Start); len(d) > 0 {
					p.Device = append(p.Device, string(d))
				}
			}
		}
		if !seen[p.Key] {
			seen[p.Key] = true
			rep.Notes = append(rep.Notes, keyNote(cfg, p.Key))
		}
		rep.Periods = append(rep.Periods, p)
	}
	for idx := vfirst; idx <= vlast; idx++ {
		d := subjectVisitorDay{Start: time.Unix(idx*vps, 0).UTC(), End: time.Unix((idx+1)*vps, 0).UTC(), Key: keyState("visitor", vps, idx)}
		if keys != nil && !randomized { // a randomized MAC gets no visitor hash
			for _, f := range visitorForms {
				if v := anonymize.AppendBLEVisitorHash(nil, keys, []byte(site), f, d.Start); len(v) > 0 {
					d.Visitor = append(d.Visitor, string(v))
				}
			}
		}
		if !seen[d.Key] {
			seen[d.Key] = true
			rep.Notes = append(rep.Notes, keyNote(cfg, d.Key))
		}
		rep.VisitorDays = append(rep.VisitorDays, d)
	}
	if len(forms) > 0 {
		rep.Notes = append(rep.Notes, "device: the pseudonyms of the id as the BLE endpoint normalises a device id (a MAC to aa:bb:cc:dd:ee:ff, an ad id lower-cased, an app instance id as sent); look for them in the device field")
	}
	if otherDeviceForm {
		rep.Notes = append(rep.Notes, "device: the id was taken exactly as sent; if it is a store device's MAC or advertising id, look it up with -kind mac or -kind adid, which normalise it as the BLE endpoint does (here that would give another identifier, which may be another person's)")
	}
	if randomized {
		rep.Notes = append(rep.Notes, "visitor: the MAC is randomized (locally administered): its sightings have no visitor hash; find them by the device pseudonym")
	} else {
		rep.Notes = append(rep.Notes, "visitor: a BLE sighting's visitor hash is keyed by the site and the device id per UTC day, and is listed per day for the id as a device id: look for it in the visitor field of ble records. A web event's visitor hash depends on the address and browser, not on an identifier: it cannot be looked up from this one")
	}
	rep.Notes = append(rep.Notes, "where: the destinations are those whose policy under the config as it is now keeps the field, in a state that reaches them, and, for an ad platform, whose request format carries it: do not send these values to the others, which never received them. Records written under an earlier config (another policy version) may have gone elsewhere")
	return rep, nil
}

// whereWords says where w's field can be found, and where it never goes.
func whereWords(w subjectWhere) string {
	s := "no destination receives it"
	if len(w.Destinations) > 0 {
		s = "in " + strings.Join(w.Destinations, ", ")
	}
	if len(w.Never) > 0 {
		s += "; never received by " + strings.Join(w.Never, ", ")
	}
	return s
}

// floorDiv divides rounding toward minus infinity, as the keyring counts
// periods.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// contactKinds are the -kind values of contact data, and their fields.
var contactKinds = map[string]contact.Field{"email": contact.Email, "phone": contact.Phone, "external_id": contact.ExternalID}

// contactHash is the hash one ad platform destination received for a
// contact value.
type contactHash struct {
	Destination string `json:"destination"`
	Platform    string `json:"platform"`
	Field       string `json:"field"`
	Hash        string `json:"hash,omitempty"`
	Error       string `json:"error,omitempty"` // why the value is never sent (e.g. not an e-mail)
}

// lookupContact prints, per ad platform destination that hashes contact
// data, the hash id had there. The value itself is never printed or
// audited: the audit log names it by its keyed hash.
func lookupContact(cfgPath, data, kind string, field contact.Field, id, format, verb string, stdout, stderr io.Writer) int {
	switch {
	case verb != "lookup":
		fmt.Fprintf(stderr, "beacongate subject %s: -kind %s is for lookups; suppress a visitor by user, client or device id\n", verb, kind)
		return 2
	case cfgPath == "" || id == "":
		fmt.Fprintf(stderr, "beacongate subject: -config and -id are required\n\n%s", subjectUsage)
		return 2
	case format != "text" && format != "json":
		fmt.Fprintf(stderr, "beacongate subject: -format must be text or json\n")
		return 2
	}
	cfg, err := officerConfig(cfgPath, data)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate subject: %v\n", err)
		return 1
	}
	hashes := contactHashes(cfg, field, []byte(id))
	if cfg.Privacy.AuditLog {
		// The audit log names the value by its keyed hash: without the
		// key the lookup cannot be recorded, and is not shown.
		key, err := subjectKey(cfg)
		if err == nil {
			err = auditCLI(cfg, "subject.lookup", "kind", kind, "subject", key.Hex([]byte("*"+kind), []byte(id)))
		}
		if err != nil {
			fmt.Fprintf(stderr, "beacongate subject: %v; a lookup that is not recorded is not shown\n", err)
			return 1
		}
	}
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(struct {
			Kind   string        `json:"kind"`
			Hashes []contactHash `json:"hashes"`
		}{kind, hashes})
		return 0
	}
	if len(hashes) == 0 {
		fmt.Fprintln(stdout, "no destination receives hashed contact data (no ad platform destination has contact: hash): none was sent anywhere")
		return 0
	}
	for _, h := range hashes {
		v := h.Hash
		if v == "" {
			v = "(never sent: " + h.Error + ")"
		}
		fmt.Fprintf(stdout, "%s (%s) %s: %s\n", h.Destination, h.Platform, h.Field, v)
	}
	return 0
}

// contactHashes computes, for each ad platform destination whose policy
// hashes contact data in some state, the hash of v as field.
func contactHashes(cfg *config.Config, field contact.Field, v []byte) []contactHash {
	var out []contactHash
	for i := range cfg.Destinations {
		d := &cfg.Destinations[i]
		ps := &d.Policies
		if ps.None.Contact != config.ContactHash && ps.Analytics.Contact != config.ContactHash && ps.Ads.Contact != config.ContactHash {
			continue
		}
		p, ok := anonymize.ContactPlatform(wiring.PlatformOf(d.Type))
		if !ok {
			continue
		}
		h := contactHash{Destination: d.Name, Platform: p.String(), Field: field.String()}
		w, _ := ropa.WirePlatform(wiring.PlatformOf(d.Type))
		if len(adwire.Sent(w, "contact."+field.String())) == 0 {
			// Hashed into its record, but its requests do not carry it.
			h.Error = "the " + w.String() + " requests carry no contact." + field.String()
		} else if b, err := contact.AppendHashed(nil, p, field, v); err != nil {
			h.Error = err.Error()
		} else {
			h.Hash = string(b)
		}
		out = append(out, h)
	}
	return out
}
