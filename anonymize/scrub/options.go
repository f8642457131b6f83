package scrub

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/beacongate/beacongate/internal/paramname"
)

// Options configures a [Cleaner]. The zero value is the default: built-in
// click identifiers and sensitive names removed, utm_* kept, UUIDs treated
// as tokens.
type Options struct {
	// ExtraClickIDs are query and fragment parameter names removed in
	// addition to the built-in click identifiers (see [BuiltinClickIDs]).
	// Matched case-insensitively, with '-' and '_' alike (a name of several
	// words also run together: dateOfBirth for date_of_birth), after
	// percent-decoding. Reported as
	// KindClickID.
	ExtraClickIDs []string

	// DropParams are parameter names removed whatever their value, in
	// addition to the built-in sensitive names (see [BuiltinDropParams]).
	// Matched as ExtraClickIDs are; in URLs, a name of several words also
	// as the last words of a longer name (loyalty_card removes
	// member-loyalty-card and memberLoyaltyCard). Reported as KindParam.
	DropParams []string

	// DropUTM removes utm_* campaign parameters too. By default they are
	// kept (their values are still scanned like any other).
	DropUTM bool

	// KeepUUIDs stops treating UUIDs as tokens. By default a UUID in a
	// path segment becomes "[token]" and a parameter holding one is
	// removed, because a UUID names one object (often a user, session or
	// order) and the gateway cannot tell which.
	KeepUUIDs bool

	// Sites declare hosts and routes of page URLs, used by
	// [Cleaner.AppendPageURL].
	Sites []Site

	// Shape is the path-shape rule applied in [URLPath] mode to page URL
	// segments of a declared site that match no route.
	Shape Shape
}

// DefaultOptions returns the default options, which are the zero value.
func DefaultOptions() Options { return Options{} }

// BuiltinClickIDs are the click and cross-site identifiers always removed
// from queries and fragments: the ad networks' click ids, e-mail tool
// recipient ids, and Google Analytics' cross-domain linker (_gl, _ga), which
// carries the client id.
var BuiltinClickIDs = []string{
	"gclid", "gbraid", "wbraid", "dclid", "fbclid", "msclkid", "ttclid",
	"twclid", "li_fat_id", "mc_eid", "_hsenc", "_hsmi", "igshid", "yclid",
	"srsltid", "mkt_tok", "oly_enc_id", "vero_id", "_gl", "_ga", "epik",
	"_kx", "sccid", "rdt_cid", "irclickid", "qclid",
	"ck_subscriber_id", "ml_subscriber", "ml_subscriber_hash",
}

// BuiltinDropParams are parameter names always removed because of what
// they name, even when the value does not look like personal data
// ("password=hunter2").
var BuiltinDropParams = []string{
	// Contact data.
	"email", "e-mail", "mail", "phone", "tel", "mobile",
	"email_address", "emailaddress", "phone_number", "phonenumber", "telephone", "mobile_number",
	// Passwords in several languages, PINs and one-time codes.
	"password", "passwd", "pwd", "pass", "passwort", "kennwort", "mot_de_passe", "motdepasse", "mdp",
	"contrasena", "contraseña", "senha", "wachtwoord", "haslo", "parola", "losenord", "salasana",
	"pin", "otp", "cvv", "cvc",
	// Payment cards (HTML's autocomplete tokens cc-number and cc-csc).
	"cc_number", "card_number", "cc_csc",
	// Secrets, credentials and signatures.
	"secret", "client_secret", "key", "api-key", "apikey", "api_key", "signature", "sig",
	"x-amz-signature", "x-amz-credential", "x-amz-security-token", "credential", "credentials", "jwt",
	// OAuth and OpenID Connect.
	"code", "auth_code", "authorization_code", "state", "nonce", "code_verifier", "code_challenge",
	"token", "access_token", "id_token", "refresh_token", "auth", "reset_token", "resettoken", "reset",
	// Sessions.
	"session", "sessionid", "session_id", "sid", "jsessionid", "phpsessid", "aspsessionid", "cfid", "cftoken",
	// Who the visitor is: names, dates of birth, postal addresses.
	"name", "fullname", "full_name", "first_name", "firstname", "last_name", "lastname", "surname",
	"vorname", "nachname", "nom", "prenom", "username", "user_name", "login",
	"given_name", "family_name", "middle_name", // OpenID Connect's claims
	// The site's own id of the visitor, which records carry only as a
	// pseudonym (the gateway's uid; Segment's ajs_uid and ajs_aid, its
	// user and anonymous ids).
	"uid", "user_id", "userid", "user-id", "customer_id", "customerid", "customer-id", "member_id", "memberid",
	"ajs_uid", "ajs_aid",
	"ssn", "social_security_number", "passport", "passport_number", "cpf",
	"dob", "birthdate", "birthday", "birth_date", "date_of_birth", "geburtsdatum",
	"address", "addr", "street", "strasse", "straße", "adresse", "address1", "address2", "address_line1",
	// Where the visitor is, to the metre (a store locator's "?lat=...&lng="):
	// finer than any geo level a policy allows.
	"lat", "lng", "lon", "latitude", "longitude", "latlng", "latlon", "lat_lng", "ll", "coords", "coordinates", "geolocation",
}

// BuiltinURLDropParams are more parameter names always removed from URLs
// (queries, fragments, matrix parameters) because they name the visitor:
// by a user, login or display name, an abbreviated first or last name (fn
// and ln as the gateway's contact data and the ad platforms name them, as
// a campaign's personalised landing page carries them: "?fn=Jane&ln=Doe"),
// the site's id of the visitor under the name the same contact data give
// it (external_id), a contact field prefixed with its owner. Unlike
// [BuiltinDropParams] they are no rule for property keys
// ([Cleaner.SensitiveName] says nothing of them): a property the site
// allowlists under such a name ("user" for a user type, "nick" for a
// product's) is governed by the allowlist and the value scanner alone.
var BuiltinURLDropParams = []string{
	"user", "usr", "user_login", "userlogin", "login_name", "loginname", "logon",
	"nickname", "nick", "display_name", "displayname", "screen_name", "screenname",
	"fname", "lname", "benutzer", "benutzername", "customer_name", "customername",
	"user_email", "useremail", "customer_email", "cardholder", "cardholder_name",
	"fn", "ln", "external_id", "externalid",
}

// wholeNamesOnly are the single words of BuiltinDropParams and
// BuiltinURLDropParams that match a parameter's whole name only, never as
// its last word (see [Cleaner.lookupSuffix]): as the last word of a
// longer name they mostly name something else, which ordinary analytics
// parameters carry (product-name, promo_code, campaign_id in order_uid,
// sort_key, filter_state, is_mobile, day-pass, map_pin, last_login,
// new_session, an affiliate's aff_sid, new_user; nom and parola are also
// French and Italian for "name" and "word", mdp, sig, ll, usr, fn and ln
// too short to tell).
var wholeNamesOnly = []string{
	"name", "nom", "code", "key", "state", "auth", "reset", "session", "sid", "uid", "login",
	"mobile", "pass", "pin", "sig", "mdp", "parola", "ll",
	"user", "usr", "nick", "logon", "benutzer", "fn", "ln",
}

// kindURLParam marks a name of BuiltinURLDropParams in Cleaner.params: a
// parameter removed from URLs as KindParam, and no sensitive property key.
const kindURLParam Kind = 255

// maxParamName bounds configured names; longer names in a URL cannot match
// and are not lower-cased (the lookup buffer lives on the stack).
const maxParamName = paramname.MaxLen

// Cleaner removes personal data from URLs and text. It is immutable after
// [New] and safe for concurrent use.
type Cleaner struct {
	params map[string]Kind // lower-case name → KindClickID, KindParam or kindURLParam
	// paramFirst[n] has bit b set when a name of params (or, with
	// dropUTM, a utm_* name) can have n bytes and first byte b: most names
	// in a URL fail this test, which is cheaper than the map lookup.
	paramFirst [maxParamName + 1][4]uint64
	// suffixes holds, run together, the sensitive names that also match
	// as the last words of a URL's parameter name (billing-first-name,
	// confirmPassword): see lookupSuffix. suffixFirst filters them as
	// paramFirst does params.
	suffixes    map[string]struct{}
	suffixFirst [maxParamName + 1][4]uint64
	dropUTM     bool
	keepUUIDs   bool

	sites          map[string]*site
	shapeMaxLen    int
	shapeMaxDigits int
}

// OptionError reports one invalid configured name.
type OptionError struct {
	Field  string // "ExtraClickIDs" or "DropParams"
	Index  int    // position in the list
	Reason string
}

// Error implements error.
func (e *OptionError) Error() string {
	return "scrub: " + e.Field + "[" + strconv.Itoa(e.Index) + "]: " + e.Reason
}

// New compiles opts into a Cleaner. All invalid names are reported
// together, joined with errors.Join.
func New(opts Options) (*Cleaner, error) {
	c := &Cleaner{
		params: make(map[string]Kind, len(BuiltinClickIDs)+len(BuiltinDropParams)+len(BuiltinURLDropParams)+
			len(opts.ExtraClickIDs)+len(opts.DropParams)),
		dropUTM:   opts.DropUTM,
		keepUUIDs: opts.KeepUUIDs,
	}
	for _, n := range BuiltinURLDropParams {
		c.params[paramKey(n)] = kindURLParam
	}
	for _, n := range BuiltinDropParams {
		c.params[paramKey(n)] = KindParam
	}
	for _, n := range BuiltinClickIDs {
		c.params[paramKey(n)] = KindClickID
	}
	var errs []error
	add := func(field string, names []string, k Kind) {
		for i, n := range names {
			if reason := paramname.Check(n); reason != "" {
				errs = append(errs, &OptionError{Field: field, Index: i, Reason: reason})
				continue
			}
			c.params[paramKey(n)] = k
		}
	}
	add("DropParams", opts.DropParams, KindParam)
	add("ExtraClickIDs", opts.ExtraClickIDs, KindClickID)
	c.addJoinedNames()
	c.addSuffixNames(opts.DropParams)
	for n := range c.params {
		if len(n) > 0 && len(n) <= maxParamName {
			c.paramFirst[len(n)][n[0]>>6] |= 1 << (n[0] & 63)
		}
	}
	if c.dropUTM { // utm_* names of any length pass the filter too
		for n := len("utm_"); n <= maxParamName; n++ {
			c.paramFirst[n]['u'>>6] |= 1 << ('u' & 63)
		}
	}
	c.shapeMaxLen, c.shapeMaxDigits = opts.Shape.MaxLength, opts.Shape.MaxDigitPercent
	if c.shapeMaxLen <= 0 {
		c.shapeMaxLen = defaultMaxLength
	}
	if c.shapeMaxDigits <= 0 {
		c.shapeMaxDigits = defaultMaxDigitPercent
	}
	for i, s := range opts.Sites {
		st := &site{}
		for _, h := range s.Hosts {
			st.hosts = append(st.hosts, lowerString(h))
		}
		for _, r := range s.Routes {
			segs, reason := parseRoute(r)
			if reason != "" {
				errs = append(errs, &OptionError{Field: "Sites", Index: i, Reason: "route " + strconv.Quote(r) + ": " + reason})
				continue
			}
			st.routes = append(st.routes, segs)
		}
		if c.sites == nil {
			c.sites = map[string]*site{}
		}
		c.sites[s.ID] = st
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// MustNew is like New but panics on error. It is meant for tests and for
// options known at compile time.
func MustNew(opts Options) *Cleaner {
	c, err := New(opts)
	if err != nil {
		panic(err)
	}
	return c
}

// minJoinedName is the shortest run-together spelling addJoinedNames adds:
// shorter ones ("a_b" → "ab") could be a harmless parameter's name.
const minJoinedName = 5

// addJoinedNames adds to c.params, for each name of two or more words
// ("date_of_birth", also written date-of-birth), its spelling run together
// ("dateofbirth"), which is how a camel-case form field (dateOfBirth)
// reads once letter case is ignored, with the same kind. An underscore
// that starts a name is part of it (_ga stays apart from ga), and a
// spelling already listed keeps its own kind.
func (c *Cleaner) addJoinedNames() {
	var multi []string
	for n := range c.params {
		if strings.Contains(strings.TrimLeft(n, "_"), "_") {
			multi = append(multi, n)
		}
	}
	slices.Sort(multi) // two names joining alike: the first in order sets the kind
	for _, n := range multi {
		lead := len(n) - len(strings.TrimLeft(n, "_"))
		joined := n[:lead] + strings.ReplaceAll(n[lead:], "_", "")
		if len(joined) < minJoinedName {
			continue
		}
		if _, ok := c.params[joined]; !ok {
			c.params[joined] = c.params[n]
		}
	}
}

// addSuffixNames fills c.suffixes: each name of several words
// (first_name, date_of_birth, api-key), built in or of DropParams, run
// together if that is at least minJoinedName bytes long, and each single
// word built in but not in wholeNamesOnly (password, email, phone, token,
// ssn and other distinctive words). A configured single word matches
// whole names only: the gateway cannot tell whether it is distinctive.
func (c *Cleaner) addSuffixNames(dropParams []string) {
	c.suffixes = map[string]struct{}{}
	add := func(n string, builtin bool) {
		k := paramKey(n)
		lead := len(k) - len(strings.TrimLeft(k, "_"))
		words := k[lead:]
		if !strings.Contains(words, "_") {
			if builtin && !slices.Contains(wholeNamesOnly, words) {
				c.suffixes[words] = struct{}{}
			}
			return
		}
		if j := strings.ReplaceAll(words, "_", ""); len(j) >= minJoinedName {
			c.suffixes[j] = struct{}{}
		}
	}
	for _, n := range BuiltinDropParams {
		add(n, true)
	}
	for _, n := range BuiltinURLDropParams {
		add(n, true)
	}
	for _, n := range dropParams {
		if paramname.Check(n) == "" {
			add(n, false)
		}
	}
	for n := range c.suffixes {
		if len(n) > 0 && len(n) <= maxParamName {
			c.suffixFirst[len(n)][n[0]>>6] |= 1 << (n[0] & 63)
		}
	}
}

// paramKey is the form in which Cleaner.params holds name: lower case, each
// '-' written '_' (see foldParamByte).
func paramKey(name string) string {
	b := []byte(name)
	for i, c := range b {
		b[i] = foldParamByte(c)
	}
	return string(b)
}

// foldParamByte folds one byte of a parameter name for matching: ASCII
// letter case is ignored, and '-' matches '_', since a form names its
// fields in either style ("first-name", "first_name", "date-of-birth").
func foldParamByte(c byte) byte {
	switch {
	case c >= 'A' && c <= 'Z':
		return c + 'a' - 'A'
	case c == '-':
		return '_'
	}
	return c
}

func lowerString(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
