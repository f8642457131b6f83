package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beacongate/beacongate/internal/httpheader"
	"github.com/beacongate/beacongate/internal/paramname"
	"github.com/beacongate/beacongate/internal/tokenfile"
)

// validator runs the checks that need more than one value at a time, or
// the meaning of a value: ranges of durations and sizes, formats of
// addresses and names, uniqueness, and contradictions between settings.
type validator struct {
	file string
	idx  *index
	errs ErrorList
	// tooLarge holds the durations and sizes too large for their type,
	// by key path (the walker's): the range checks report each with the
	// key's maximum, and Parse the rest with the type's.
	tooLarge map[string]*FieldError
	notes    []string // see Config.Notes
}

// noEffect notes, for each key in keys that the file sets to a value other
// than its default, that it has no effect: msg says why.
func (v *validator) noEffect(msg string, keys ...keyValue) {
	for _, k := range keys {
		if v.idx.has(k.path) && k.value != k.def {
			v.notes = append(v.notes, fmt.Sprintf("%s: %v has no effect %s", k.path, k.value, msg))
		}
	}
}

// keyValue is a key's path, its value and its default.
type keyValue struct {
	path       string
	value, def any
}

// noEffectNotes finds the keys set where they have no effect. Errors say so of
// keys the default file leaves out (spool.fsync_max_delay); these are
// notes, since the default file writes these keys out, with their
// defaults, where they have no effect either.
func (v *validator) noEffectNotes(c *Config) {
	def := builtin()
	if len(c.Server.TrustedProxies) == 0 {
		v.noEffect("without server.trusted_proxies (the header is read only from them); list your proxies there, or remove it",
			keyValue{"server.client_ip_header", c.Server.ClientIPHeader, def.Server.ClientIPHeader})
	}
	if c.GeoIP.Database == "" {
		v.noEffect("without geoip.database (no database, no location); set geoip.database, or remove it",
			keyValue{"geoip.lookup_from", c.GeoIP.LookupFrom, def.GeoIP.LookupFrom})
	}
	if b, d := &c.BLE, &def.BLE; b.Output == BLEOutputSightings {
		v.noEffect("with ble.output: sightings (it applies to aggregates only); remove it, or set output: aggregates",
			keyValue{"ble.interval", b.Interval, d.Interval}, keyValue{"ble.absence", b.Absence, d.Absence},
			keyValue{"ble.lateness", b.Lateness, d.Lateness}, keyValue{"ble.enter_rssi", b.EnterRSSI, d.EnterRSSI},
			keyValue{"ble.enter_after", b.EnterAfter, d.EnterAfter}, keyValue{"ble.k", b.K, d.K},
			keyValue{"ble.max_devices", b.MaxDevices, d.MaxDevices}, keyValue{"ble.max_cells", b.MaxCells, d.MaxCells})
	}
}

// tooBig reports a value at path too large for its type, if there is
// one, as too large for the key, whose largest value is max; it returns
// whether it did.
func (v *validator) tooBig(path string, max fmt.Stringer) bool {
	return v.tooBigf(path, "at most %s", max)
}

// tooBigf is tooBig with the allowed range said by format and args.
func (v *validator) tooBigf(path, format string, args ...any) bool {
	e := v.tooLarge[path]
	if e == nil {
		return false
	}
	delete(v.tooLarge, path)
	e.Msg = e.text + " is too large; " + fmt.Sprintf(format, args...)
	v.errs = append(v.errs, e)
	return true
}

func (v *validator) errf(path, format string, args ...any) {
	line, col := v.idx.pos(path)
	v.errs = append(v.errs, &FieldError{File: v.file, Line: line, Column: col, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// duration checks that d, at path, is within lo..hi, and reports whether
// it is.
func (v *validator) duration(path string, d Duration, lo, hi time.Duration) bool {
	if v.tooBig(path, Duration(hi)) {
		return false
	}
	if d.D() < lo || d.D() > hi {
		v.errf(path, "%s is out of range %s..%s", d, Duration(lo), Duration(hi))
		return false
	}
	return true
}

// retry checks a destination's retry block at path. max_backoff is held
// to initial_backoff only when both are within their ranges: else the
// one out of range is the problem, and the other may be a default the
// file never wrote.
func (v *validator) retry(path string, r *Retry) {
	okInitial := v.duration(path+".initial_backoff", r.InitialBackoff, time.Millisecond, time.Minute)
	if v.duration(path+".max_backoff", r.MaxBackoff, time.Millisecond, time.Hour) && okInitial && r.MaxBackoff < r.InitialBackoff {
		v.errf(path+".max_backoff", "%s is shorter than initial_backoff (%s)", r.MaxBackoff, r.InitialBackoff)
	}
	v.duration(path+".redirect_dead_letter_after", r.RedirectDeadLetterAfter, time.Second, 168*time.Hour)
	v.duration(path+".auth_dead_letter_after", r.AuthDeadLetterAfter, time.Second, 168*time.Hour)
}

func (v *validator) size(path string, b, lo, hi ByteSize) {
	if v.tooBig(path, hi) {
		return
	}
	if b < lo || b > hi {
		v.errf(path, "%s is out of range %s..%s", b, lo, hi)
	}
}

func (v *validator) validate(c *Config) {
	v.server(&c.Server)
	v.sites(c.Sites)
	v.pathShape(&c.Scan)
	v.properties(&c.Properties)
	v.consent(&c.Consent)
	v.pseudonym(&c.Pseudonym)
	for _, st := range []struct {
		key string
		p   *Policy
	}{{"none", &c.Policies.None}, {"analytics", &c.Policies.Analytics}, {"ads", &c.Policies.Ads}} {
		base := "policies." + st.key
		v.policy(base, st.p)
		// The site-wide policies reach every destination, the warehouse
		// included: contact data and click ids are a destination's own.
		if st.p.Contact != ContactDrop {
			v.errf(base+".contact", "hash is for ad platform destinations only: set it under destinations[].policies.%s of a meta_capi, ga4 or tiktok destination", st.key)
		}
		if st.p.ClickIDs != ClickIDsDrop {
			v.errf(base+".click_ids", "keep is for the destination that needs them only: set it under destinations[].policies.%s", st.key)
		}
	}
	v.destinations(c)
	v.spool(&c.Spool)
	if msg := spoolDirProblem(c); msg != "" {
		v.errf("spool.dir", "%s", msg)
	}
	v.ble(&c.BLE)
	if b := &c.BLE; b.Output == BLEOutputAggregates && b.Interval.D() >= time.Second &&
		b.Lateness.D()+c.Server.MaxSightingAhead.D() > 2*b.Interval.D() {
		// The aggregation keeps at most 4 intervals open at once (one of
		// them for the interval still open at a restart): a sighting of
		// a further one is dropped as late, though acknowledged.
		v.errf("ble.interval", "%s is too short for ble.lateness (%s) plus server.max_sighting_ahead (%s): with output aggregates they must be at most twice the interval, or sightings of intervals beyond those open would be dropped", b.Interval, b.Lateness, c.Server.MaxSightingAhead)
	}
	if c.BLE.Output == BLEOutputAggregates && len(c.Destinations) > 0 && !slices.ContainsFunc(c.Destinations, func(d Destination) bool { return !d.Type.AdPlatform() }) {
		v.errf("ble.output", "aggregates go to every destination but the ad platforms, and every destination is one: add one of type file, http, kafka or nats, or set output: sightings")
	}
	v.privacy(c)
	v.noEffectNotes(c)
}

var (
	siteIDRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	propertyRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$`)
	destNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	envNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	topicRE    = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)
)

// hostPort checks a listen address "host:port"; the host may be empty.
// With needHost (a broker) the error does not quote s, which may be a URL
// with a password in it (sasl://user:pw@broker:9092).
func (v *validator) hostPort(path, s string, needHost bool) bool {
	q := fmt.Sprintf("%q ", s)
	if needHost {
		q = ""
	}
	host, port, err := net.SplitHostPort(s)
	switch {
	case err != nil && needHost:
		v.errf(path, "is not host:port; write e.g. kafka-1.example.net:9092, without a scheme such as kafka://")
		return false
	case err != nil:
		v.errf(path, "%sis not host:port; write e.g. \":8080\" or \"127.0.0.1:9100\"", q)
		return false
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (needHost && n == 0) {
		v.errf(path, "%shas no valid port; the port is a number 1..65535", q)
		return false
	}
	if needHost && host == "" {
		v.errf(path, "has no host; write host:port, e.g. kafka-1.example.net:9092")
		return false
	}
	return true
}

// ListenersClash says how the admin listener's address admin cannot be
// bound beside the public listener's address listen ("is also", "shares
// the port of"), or "" when both can be bound. Addresses that cannot
// clash: different ports, port 0 (the kernel picks one), or two different
// specific hosts. A wildcard host ("", "::", "0.0.0.0") takes the port on
// every address of its family ("" and "::" on both), and "localhost" is
// the loopback addresses.
func ListenersClash(listen, admin string) string {
	lh, lp, err1 := net.SplitHostPort(listen)
	ah, ap, err2 := net.SplitHostPort(admin)
	if err1 != nil || err2 != nil || lp != ap || lp == "0" {
		return ""
	}
	if listen == admin {
		return "is also"
	}
	if hostsOverlap(lh, ah) {
		return "shares the port of"
	}
	return ""
}

// hostsOverlap reports whether listeners on hosts a and b with the same
// port clash.
func hostsOverlap(a, b string) bool {
	wild := func(h string) bool { return h == "" || h == "::" }
	v4 := func(h string) bool {
		ip, err := netip.ParseAddr(h)
		return h == "localhost" || (err == nil && ip.Unmap().Is4())
	}
	switch {
	case wild(a) || wild(b):
		return true
	case a == "0.0.0.0":
		return v4(b)
	case b == "0.0.0.0":
		return v4(a)
	}
	norm := func(h string) string {
		if h == "localhost" {
			return "127.0.0.1"
		}
		if ip, err := netip.ParseAddr(h); err == nil {
			return ip.Unmap().String()
		}
		return strings.ToLower(h)
	}
	return norm(a) == norm(b)
}

func (v *validator) server(s *Server) {
	okListen := v.hostPort("server.listen", s.Listen, false)
	okAdmin := v.hostPort("server.admin", s.Admin, false)
	if okListen && okAdmin {
		switch msg := ListenersClash(s.Listen, s.Admin); msg {
		case "":
		case "is also":
			v.errf("server.admin", "%q is also server.listen; the admin listener needs its own address", s.Admin)
		default:
			v.errf("server.admin", "%q %s server.listen %q, so one of them cannot listen; give the admin listener its own port", s.Admin, msg, s.Listen)
		}
	}
	v.duration("server.read_timeout", s.ReadTimeout, 100*time.Millisecond, 5*time.Minute)
	v.duration("server.write_timeout", s.WriteTimeout, 100*time.Millisecond, 5*time.Minute)
	v.duration("server.idle_timeout", s.IdleTimeout, time.Second, time.Hour)
	v.duration("server.max_sighting_age", s.MaxSightingAge, time.Minute, 90*24*time.Hour)
	v.duration("server.max_sighting_ahead", s.MaxSightingAhead, time.Second, time.Hour)
	v.size("server.max_header_bytes", s.MaxHeaderBytes, 1<<10, 64<<10)
	v.duration("server.drain_delay", s.DrainDelay, 0, 5*time.Minute)
	v.duration("server.shutdown_timeout", s.ShutdownTimeout, time.Second, 10*time.Minute)
	if s.MaxConns < 0 {
		v.errf("server.max_conns", "is negative; use 0 to derive it from the open-file limit")
	}
	v.size("server.max_body_bytes", s.MaxBodyBytes, 64<<10, 1<<20)
	seen := map[CIDR]int{}
	for i, p := range s.TrustedProxies {
		if j, dup := seen[p]; dup {
			v.errf(itemPath("server.trusted_proxies", i), "%s is listed twice (also entry %d); remove one", p, j)
		}
		seen[p] = i
	}
	if !isHeaderName(s.ClientIPHeader) {
		v.errf("server.client_ip_header", "is not a header name; write one name of letters, digits and '-', e.g. X-Forwarded-For")
	}
	if strings.TrimSpace(s.DataDir) == "" {
		v.errf("server.data_dir", "is empty; name a directory, or remove the key for %q", defaultDataDir)
	}
	v.adminTokenFile(s.AdminTokenFile)
}

// MinAdminTokenLen is the shortest admin token accepted, in bytes.
const MinAdminTokenLen = 16

// maxAdminTokenFile bounds what ReadAdminTokenFile reads: a token is a
// line, and a path that names some other file (a log, a database) must
// not be read whole, nor taken for a token.
const maxAdminTokenFile = 4 << 10

// ReadAdminTokenFile reads an admin token file of at most 4 KiB; a larger
// file is an error that says it is no token file. The server and config
// check read it with it.
func ReadAdminTokenFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxAdminTokenFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxAdminTokenFile {
		return nil, fmt.Errorf("larger than %d KiB: not an admin token file (one line with the token)", maxAdminTokenFile>>10)
	}
	return b, nil
}

// AdminToken checks the contents of an admin token file and returns the
// token, without the white space around it. The server reads the file
// with it; config check applies it to a file that exists where it runs.
// Its errors never quote the token.
func AdminToken(b []byte) ([]byte, error) {
	tok := bytes.TrimSpace(b)
	if len(tok) < MinAdminTokenLen {
		return nil, fmt.Errorf("the admin token is shorter than %d characters; write a long random one, e.g. head -c 32 /dev/urandom | base64", MinAdminTokenLen)
	}
	if bytes.ContainsAny(tok, " \t\r\n") {
		return nil, errors.New("the admin token contains white space; write it on one line without spaces")
	}
	for _, c := range tok {
		if c < 0x21 || c > 0x7e {
			return nil, errors.New("the admin token contains a byte that is not printable ASCII; write it as text, e.g. head -c 32 /dev/urandom | base64")
		}
	}
	return tok, nil
}

// adminTokenFile checks server.admin_token_file when the file exists here,
// like every secret file (not readable by every user), and as the server
// will when it starts (a file that does not exist is a note of config
// check: it may be mounted only where the gateway runs).
func (v *validator) adminTokenFile(name string) {
	if name == "" {
		return
	}
	fi, err := os.Stat(name)
	switch {
	case err == nil && fi.IsDir():
		// The start cannot read it: say so here, not only there.
		v.errf("server.admin_token_file", "%s is a directory, not a file; name the file that holds the token", name)
		return
	case err != nil:
		return // the server says why it cannot read it
	}
	// The server refuses it whatever kind of file it is (/dev/null).
	if err := SecretMode(name, fi.Mode()); err != nil {
		v.errf("server.admin_token_file", "%v", err)
	}
	if !fi.Mode().IsRegular() {
		return // not read here: a device or pipe may block
	}
	b, err := ReadAdminTokenFile(name)
	if err != nil {
		v.errf("server.admin_token_file", "cannot read %s: %v", name, err)
		return
	}
	if _, err := AdminToken(b); err != nil {
		v.errf("server.admin_token_file", "%s: %v", name, err)
	}
}

func (v *validator) sites(sites []Site) {
	ids := map[string]int{}
	for i, s := range sites {
		base := itemPath("sites", i)
		switch j, dup := ids[s.ID]; {
		case s.ID == "":
			// The walker reports a missing id; an empty one is reported here.
			if v.idx.has(base + ".id") {
				v.errf(base+".id", "is empty; a site id is 1 to 64 letters, digits, '.', '_' or '-'")
			}
		case !siteIDRE.MatchString(s.ID):
			v.errf(base+".id", "%q is not a valid site id; use 1 to 64 letters, digits, '.', '_' or '-'", s.ID)
		case dup:
			v.errf(base+".id", "%q is also the id of sites[%d]; ids must be unique", s.ID, j)
		}
		ids[s.ID] = i
		origins := map[string]bool{}
		for k, o := range s.Origins {
			p := itemPath(base+".origins", k)
			if msg := checkOrigin(o); msg != "" {
				v.errf(p, "%s", msg)
			} else if origins[o] {
				v.errf(p, "%q is listed twice; remove one", o)
			}
			origins[o] = true
		}
		if s.ServerToServer && len(s.Origins) > 0 {
			v.errf(base+".server_to_server", "a server-to-server site takes no browser origins; remove origins or server_to_server")
		}
		for k, r := range s.Routes {
			if msg := checkRoute(r); msg != "" {
				v.errf(itemPath(base+".routes", k), "%s", msg)
			}
		}
	}
}

// pathShape checks the path-shape rule's bounds, and the parameter names
// the scanner must match (it refuses the others at start).
func (v *validator) pathShape(s *Scan) {
	for _, l := range []struct {
		key   string
		names []string
	}{{"scan.extra_click_ids", s.ExtraClickIDs}, {"scan.drop_params", s.DropParams}} {
		for i, n := range l.names {
			if reason := paramname.Check(n); reason != "" {
				v.errf(itemPath(l.key, i), "%s", reason)
			}
		}
	}
	if s.PathMaxLength < 0 || s.PathMaxLength > 1024 {
		v.errf("scan.path_max_length", "%d is out of range 0..1024 (0 means 32)", s.PathMaxLength)
	}
	if s.PathMaxDigitPercent < 0 || s.PathMaxDigitPercent > 100 {
		v.errf("scan.path_max_digit_percent", "%d is out of range 0..100 (0 means 30)", s.PathMaxDigitPercent)
	}
}

// checkRoute checks a sites[].routes pattern (the scanner compiles it).
func checkRoute(r string) string {
	if !strings.HasPrefix(r, "/") {
		return `a route is a path starting with '/', e.g. "/products/{sku}"`
	}
	if strings.ContainsAny(r, "?#") {
		return "a route is a path only, without '?' or '#'"
	}
	for _, seg := range strings.Split(r[1:], "/") {
		if !strings.ContainsAny(seg, "{}") {
			continue
		}
		if !strings.HasPrefix(seg, "{") || !strings.HasSuffix(seg, "}") {
			return "a placeholder is a whole segment: {type} or {name:type}"
		}
		t := seg[1 : len(seg)-1]
		if k := strings.IndexByte(t, ':'); k >= 0 {
			t = t[k+1:]
		}
		switch t {
		case "sku", "number", "slug", "uuid", "opaque", "id":
		default:
			return "unknown placeholder type " + strconv.Quote(t) + "; use sku, number, slug, uuid, opaque or id"
		}
	}
	return ""
}

func checkOrigin(o string) string {
	const want = `an origin is scheme://host[:port], e.g. "https://shop.example.com"`
	if strings.Contains(o, "@") {
		// Never the value: it may carry a password, and config check
		// prints this, a refused reload logs and audits it.
		return "holds a user name or password (an '@'), which no origin has; " + want
	}
	if strings.Contains(o, "*") {
		return fmt.Sprintf("%q: wildcards are not supported; list each origin; %s", o, want)
	}
	u, err := url.Parse(o)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return fmt.Sprintf("%q is not an origin; %s", o, want)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("%q: scheme must be https or http; %s", o, want)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Contains(o, "#") || strings.Contains(o, "?"):
		return fmt.Sprintf("%q has more than scheme, host and port; %s", o, want)
	case u.Path == "/":
		return fmt.Sprintf("%q ends with /; browsers send origins without it: %q", o, strings.TrimSuffix(o, "/"))
	case u.Path != "":
		return fmt.Sprintf("%q has a path; %s", o, want)
	case (u.Scheme == "https" && u.Port() == "443") || (u.Scheme == "http" && u.Port() == "80"):
		return fmt.Sprintf("%q names the default port; browsers send the origin without it: %q", o, u.Scheme+"://"+u.Hostname())
	case o != strings.ToLower(o):
		return fmt.Sprintf("%q has capitals; browsers send origins in lower case: %q", o, strings.ToLower(o))
	}
	return ""
}

func (v *validator) properties(p *Properties) {
	seen := map[string]bool{}
	for i, name := range p.Allow {
		path := itemPath("properties.allow", i)
		switch {
		case !propertyRE.MatchString(name):
			v.errf(path, "%q is not a valid property name; use 1 to 64 letters, digits, '_', '.' or '-'", name)
		case seen[name]:
			v.errf(path, "%q is listed twice; remove one", name)
		}
		seen[name] = true
	}
}

// uniquePurposes reports repeated entries of a purpose list.
func (v *validator) uniquePurposes(path string, ps []Purpose) PurposeSet {
	var s PurposeSet
	for i, p := range ps {
		if s.Has(p) {
			v.errf(itemPath(path, i), "%s is listed twice; remove one", p)
		}
		s = s.With(p)
	}
	return s
}

func (v *validator) consent(c *Consent) {
	v.duration("consent.tcf.max_age", c.TCF.MaxAge, 24*time.Hour, 3650*24*time.Hour)
	used := v.uniquePurposes("consent.purposes", c.Purposes)
	v.uniquePurposes("consent.default", c.Default)
	for i, p := range c.Default {
		if !used.Has(p) {
			v.errf(itemPath("consent.default", i), "%s is not in consent.purposes (%s); add it there or remove it here", p, used)
		}
	}
	seen := map[Signal]bool{}
	for i, s := range c.Priority {
		if seen[s] {
			v.errf(itemPath("consent.priority", i), "%s is listed twice; remove one", s)
		}
		seen[s] = true
	}
	switch {
	case c.Merge == MergePriority && len(c.Priority) == 0:
		v.errf("consent.priority", "is empty, so with merge: priority no signal would count; list signals, most trusted first")
	case c.Merge == MergePriority && !slices.ContainsFunc(c.Priority, Signal.grants):
		// The opt-outs apply whether listed or not, and the grant
		// signals not listed are ignored: nothing could grant.
		v.errf("consent.priority", "lists no signal that grants purposes (explicit, tcf, gpp, consent_mode), so with merge: priority every request would get consent.default, whatever its signals say; list the signals that decide, most trusted first")
	case c.Merge == MergeMostRestrictive && v.idx.has("consent.priority"):
		v.errf("consent.priority", "has no effect with merge: most_restrictive; remove it, or set merge: priority")
	}
	rules := []struct {
		p    Purpose
		rule *TCFRule
	}{
		{PurposeAnalytics, &c.TCF.Mapping.Analytics},
		{PurposeAds, &c.TCF.Mapping.Ads},
		{PurposePersonalization, &c.TCF.Mapping.Personalization},
		{PurposePreciseGeo, &c.TCF.Mapping.PreciseGeo},
		{PurposeDeviceStorage, &c.TCF.Mapping.DeviceStorage},
	}
	for _, r := range rules {
		base := "consent.tcf.mapping." + r.p.String()
		// The engine compiles every purpose's rule, used or not, and
		// refuses one that requires nothing.
		switch {
		case len(r.rule.Purposes) > 0 || len(r.rule.SpecialFeatures) > 0:
		case used.Has(r.p):
			v.errf(base, "maps to no TCF purpose or special feature, so any TC string would grant %s; list what it needs", r.p)
		default:
			v.errf(base, "maps to no TCF purpose or special feature, which the gateway refuses (any TC string would grant %s); list what it needs, or remove the key to keep its default", r.p)
		}
		var ps [256]bool
		for i, id := range r.rule.Purposes {
			if ps[id] {
				v.errf(itemPath(base+".purposes", i), "%d is listed twice; remove one", id)
			}
			ps[id] = true
		}
		var fs [256]bool
		for i, id := range r.rule.SpecialFeatures {
			if fs[id] {
				v.errf(itemPath(base+".special_features", i), "%d is listed twice; remove one", id)
			}
			fs[id] = true
		}
	}
}

func (v *validator) pseudonym(p *Pseudonym) {
	v.duration("pseudonym.period", p.Period, time.Minute, 2160*time.Hour)
	switch p.Mode {
	case PseudonymDerived:
		switch {
		case p.SecretFile != "" && p.SecretEnv != "":
			v.errf("pseudonym.secret_env", "is set as well as secret_file; set only one")
		case p.SecretFile == "" && p.SecretEnv == "":
			v.errf("pseudonym.mode", "derived needs a secret; set secret_file or secret_env, or use mode: ephemeral")
		}
	case PseudonymEphemeral:
		if p.SecretFile != "" {
			v.errf("pseudonym.secret_file", "has no effect with mode: ephemeral; remove it, or set mode: derived")
		}
		if p.SecretEnv != "" {
			v.errf("pseudonym.secret_env", "has no effect with mode: ephemeral; remove it, or set mode: derived")
		}
	}
	if p.SecretEnv != "" && !envNameRE.MatchString(p.SecretEnv) {
		// Never the value: one that is no variable name may be the secret
		// itself, written where its variable's name belongs.
		v.errf("pseudonym.secret_env", "is not an environment variable name (letters, digits and '_', not starting with a digit); name the variable that holds the secret, never the secret itself")
	}
	v.secretFile("pseudonym.secret_file", p.SecretFile, MinSecretLen)
}

// SecretMode returns an error saying how to fix it when mode, the mode of
// the file name that holds a secret, lets every user read it or write it;
// else nil. Whoever may replace a secret knows it from then on: the
// pseudonyms' keys of every later period (the gateway's
// pseudonym.LoadSecretFile refuses it too), the opt-out list's key (a new
// key ends every opt-out silently), the admin token (the next start takes
// the one they wrote), a token or private key.
func SecretMode(name string, mode fs.FileMode) error {
	switch perm := mode.Perm(); {
	case perm&0o004 != 0:
		return fmt.Errorf("%s is readable by every user (mode %04o); run chmod o-rwx %s", name, perm, name)
	case perm&0o002 != 0:
		return fmt.Errorf("%s is writable by every user (mode %04o); run chmod o-rwx %s", name, perm, name)
	}
	return nil
}

// MinSecretLen is the shortest pseudonym secret accepted, in bytes.
const MinSecretLen = 32

// secretFile checks a file that holds a secret, if it exists here: it must
// be a regular file that not every user can read. A file that does not exist
// is not an error here: secrets are often mounted only where the gateway
// runs; the gateway fails at start if it is still missing.
func (v *validator) secretFile(path, name string, minLen int) {
	if name == "" {
		return
	}
	fi, err := os.Stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		v.errf(path, "cannot check %s: %v", name, err)
		return
	}
	if !fi.Mode().IsRegular() {
		v.errf(path, "%s is not a regular file", name)
		return
	}
	if err := SecretMode(name, fi.Mode()); err != nil {
		v.errf(path, "%v", err)
	}
	if minLen > 0 {
		if n, err := secretLen(name); err != nil {
			v.errf(path, "cannot read %s: %v", name, err)
		} else if n < minLen && minLen < MinSecretLen {
			// A credential someone else issues: random bytes are no
			// token a platform accepts, nor a PEM key.
			v.errf(path, "%s is empty; write the token, password or key you were given into it", name)
		} else if n < minLen {
			v.errf(path, "%s holds %d bytes; a secret needs at least %d (e.g. head -c 48 /dev/urandom | base64 > %s)", name, n, minLen, name)
		}
	}
}

// tokenFile checks a file that holds a token someone else issues (a
// bearer token, an ad platform's token or API secret) when it exists
// here, as secretFile does, and reads it as the gateway will at start
// (tokenfile.Read: the first line is the token).
func (v *validator) tokenFile(path, name string) {
	if name == "" {
		return
	}
	v.secretFile(path, name, 0)
	if fi, err := os.Stat(name); err != nil || !fi.Mode().IsRegular() {
		return // absent here (a note), or reported by secretFile
	}
	_, err := tokenfile.Read(name)
	switch {
	case errors.Is(err, tokenfile.ErrEmpty):
		v.errf(path, "%s is empty; write the token, password or key you were given into it", name)
	case errors.Is(err, tokenfile.ErrFirstLineEmpty), errors.Is(err, tokenfile.ErrTooLong):
		v.errf(path, "%s: %v", name, err)
	case err != nil:
		v.errf(path, "cannot read %s: %v", name, err)
	}
}

func secretLen(name string) (int, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	return len(strings.TrimSpace(string(b))), err
}

func (v *validator) policy(base string, p *Policy) {
	if p.IP.Action != IPTruncate {
		for _, k := range []string{".ip.v4_prefix", ".ip.v6_prefix"} {
			if v.idx.has(base + k) {
				v.errf(base+k, "has no effect unless ip.action is truncate; remove it")
			}
		}
	} else {
		if p.IP.V4Prefix == 32 {
			v.errf(base+".ip.v4_prefix", "32 keeps the whole IPv4 address; lower it, or say action: keep")
		}
		if p.IP.V6Prefix == 128 {
			v.errf(base+".ip.v6_prefix", "128 keeps the whole IPv6 address; lower it, or say action: keep")
		}
	}
	switch g := p.Geo.Grid; {
	case g > 0 && g < 0.01:
		v.errf(base+".geo.grid", "%g is finer than 0.01° (about 1 km); allowed 0 (no coordinates) or 0.01..10", g)
	case g > 0 && p.Geo.Level != GeoCity && !v.idx.has(base+".geo.grid"):
		// A destination's policy that sets level alone inherits the
		// site-wide grid: the error names the key this policy wrote.
		v.errf(base+".geo.level", "%s leaves out the city, which the coordinates of geo.grid %g (inherited from the site-wide policy) need; set level: city, or grid: 0 here", p.Geo.Level, g)
	case g > 0 && p.Geo.Level != GeoCity:
		v.errf(base+".geo.grid", "coordinates need geo.level: city (it is %s); set grid: 0 or level: city", p.Geo.Level)
	}
}

// destinationTCF checks a destination's vendor declarations.
func (v *validator) destinationTCF(base string, t *DestinationTCF, gvl bool) {
	declared := len(t.Purposes)+len(t.LegitimateInterest)+len(t.FlexiblePurposes)+len(t.SpecialFeatures) > 0
	switch {
	case t.VendorID == 0 && declared:
		v.errf(base+".vendor_id", "is 0, but purposes or special features are declared for a vendor; set the vendor id or remove them")
	case t.VendorID != 0 && t.WithoutVendor:
		v.errf(base+".without_vendor", "is true, but vendor_id is set; a vendor is checked as one, so remove one of them")
	case t.VendorID != 0 && gvl && declared:
		v.errf(base+".purposes", "declarations come from consent.tcf.gvl_file; remove them here")
	case t.VendorID != 0 && !gvl && len(t.Purposes)+len(t.LegitimateInterest)+len(t.SpecialFeatures) == 0:
		v.errf(base+".purposes", "vendor %d declares no purpose; list what it uses (purposes, legitimate_interest, special_features) or set consent.tcf.gvl_file", t.VendorID)
	}
	for k, p := range t.LegitimateInterest {
		switch p {
		case 1, 3, 4, 5, 6:
			v.errf(itemPath(base+".legitimate_interest", k), "purpose %d needs consent under TCF 2.2; move it to purposes", p)
		}
		for _, q := range t.Purposes {
			if p == q {
				v.errf(itemPath(base+".legitimate_interest", k), "purpose %d is also under purposes; a purpose has one basis (see flexible_purposes)", p)
			}
		}
	}
	for k, p := range t.FlexiblePurposes {
		found := false
		for _, q := range append(append([]TCFPurpose{}, t.Purposes...), t.LegitimateInterest...) {
			found = found || p == q
		}
		if !found {
			v.errf(itemPath(base+".flexible_purposes", k), "purpose %d is neither under purposes nor legitimate_interest", p)
		}
	}
}

func (v *validator) destinations(c *Config) {
	if len(c.Destinations) == 0 {
		v.errf("destinations", "is empty, so accepted events would go nowhere; add one, e.g. {name: local, type: file}")
		return
	}
	if n := len(c.Destinations); n > MaxDestinations {
		v.errf(itemPath("destinations", MaxDestinations), "is one too many: %d destinations are listed, at most %d are supported (the spool routes each event with one bit per destination); remove this one and those after it", n, MaxDestinations)
	}
	used := NewPurposeSet(c.Consent.Purposes...)
	names := map[string]int{}
	fileDirs := map[string]int{}
	for i := range c.Destinations {
		d := &c.Destinations[i]
		base := itemPath("destinations", i)
		switch j, dup := names[d.Name]; {
		case d.Name == "":
			if v.idx.has(base + ".name") {
				v.errf(base+".name", "is empty; name each destination, e.g. local or warehouse")
			}
		case !destNameRE.MatchString(d.Name):
			v.errf(base+".name", "%q is not a valid name; use 1 to 32 lower-case letters, digits, '_' or '-'", d.Name)
		case dup:
			v.errf(base+".name", "%q is also the name of destinations[%d]; names must be unique", d.Name, j)
		}
		names[d.Name] = i
		v.uniquePurposes(base+".requires", d.Requires)
		v.destinationTCF(base+".tcf", &d.TCF, c.Consent.TCF.GVLFile != "")
		// Keys the file does not set come from the site-wide policies, which
		// are checked on their own.
		for _, st := range []struct {
			key string
			p   *Policy
		}{{"none", &d.Policies.None}, {"analytics", &d.Policies.Analytics}, {"ads", &d.Policies.Ads}} {
			if v.idx.has(base + ".policies." + st.key) {
				v.policy(base+".policies."+st.key, st.p)
			}
			if st.p.Contact == ContactHash && !d.Type.AdPlatform() {
				v.errf(base+".policies."+st.key+".contact", "hash needs an ad platform destination (type meta_capi, ga4 or tiktok), whose normalisation it follows; this one is %s", d.Type)
			}
			if (d.Type == DestinationMetaCAPI || d.Type == DestinationTikTok) && st.p.HTTPClients != BotsDrop {
				v.errf(base+".policies."+st.key+".http_clients", "must be drop (or left out) for a %s destination: it takes no app events from the gateway, whose app data the platform requires", d.Type)
			}
		}
		if d.Type.AdPlatform() && !slices.Contains(d.Requires, PurposeAds) {
			// Fail closed: without it every visitor's events would go to
			// an ad network, consent or not (TikTok takes an event with
			// no user data at all).
			v.errf(base+".requires", "must list ads for a %s destination, which sends events to an ad platform: requires: [ads] (or [analytics, ads])", d.Type)
		}
		for k, p := range d.Requires {
			if !used.Has(p) {
				v.errf(itemPath(base+".requires", k), "%s is not in consent.purposes (%s), so it is never granted and this destination would get nothing; add it there or remove it here", p, used)
			}
		}
		for _, blk := range []struct {
			key string
			t   DestinationType
		}{{"file", DestinationFile}, {"http", DestinationHTTP}, {"kafka", DestinationKafka}, {"nats", DestinationNATS},
			{"meta_capi", DestinationMetaCAPI}, {"ga4", DestinationGA4}, {"tiktok", DestinationTikTok}} {
			if d.Type != blk.t && v.idx.has(base+".type") && v.idx.has(base+"."+blk.key) {
				v.errf(base+"."+blk.key, "is set but type is %s; remove it, or set type: %s", d.Type, blk.key)
			}
		}
		v.size(base+".batch.max_bytes", d.Batch.MaxBytes, 1<<10, 256<<20)
		v.duration(base+".batch.max_age", d.Batch.MaxAge, time.Millisecond, time.Hour)
		// level's range, 0..9, is checked for every codec by the field's
		// jsonschema tag: gzip takes 1..9, and zstd takes the zstd
		// command's levels 1..9, which the encoder maps onto its speeds
		// (zstd.EncoderLevelFromZstd: 1-2 fastest, 3-5 default, 6-9 better).
		if why := uncompressedDestination(d.Type); why != "" {
			// These sinks take the records unencoded: the shipper's
			// batch compression is never applied.
			for _, key := range []string{"compression", "level"} {
				if v.idx.has(base + "." + key) {
					v.errf(base+"."+key, "has no effect for a %s destination, which %s; remove it", d.Type, why)
				}
			}
		} else if d.Compression == CompressionNone && d.Level != 0 {
			v.errf(base+".level", "has no effect with compression: none; remove it")
		}
		if d.Type == DestinationFile && d.Compression != CompressionZstd {
			// The file sink writes zstd frames only, and refuses to start
			// on another codec.
			v.errf(base+".compression", "%s is not available for a file destination, which writes zstd files (.ndjson.zst); remove it, or write zstd", d.Compression)
		}
		switch d.Type {
		case DestinationFile:
			v.fileDest(base+".file", &d.File, c, i, fileDirs)
		case DestinationHTTP:
			v.httpDest(base+".http", &d.HTTP)
		case DestinationKafka:
			v.kafkaDest(base+".kafka", &d.Kafka)
		case DestinationNATS:
			v.natsDest(base+".nats", &d.NATS)
		case DestinationMetaCAPI:
			v.metaDest(base+".meta_capi", &d.MetaCAPI)
		case DestinationGA4:
			v.ga4Dest(base+".ga4", &d.GA4)
		case DestinationTikTok:
			v.tiktokDest(base+".tiktok", &d.TikTok)
		}
	}
}

// uncompressedDestination says why a destination of type t takes no batch
// compression, or "" when it does.
func uncompressedDestination(t DestinationType) string {
	switch t {
	case DestinationNATS:
		return "publishes each record as a message of its own"
	case DestinationMetaCAPI, DestinationGA4, DestinationTikTok:
		return "sends the platform's own request format"
	}
	return ""
}

func (v *validator) fileDest(base string, f *FileDestination, c *Config, i int, dirs map[string]int) {
	v.size(base+".max_file_bytes", f.MaxFileBytes, 1<<20, 64<<30)
	v.duration(base+".max_file_age", f.MaxFileAge, time.Second, 168*time.Hour)
	if j, dup := dirs[f.Dir]; dup && !f.dirDerived { // derived dirs only collide when names do, which is reported
		v.errf(base+".dir", "%q is also the dir of destinations[%d]; give each file destination its own", f.Dir, j)
	} else {
		for _, msg := range fileDirProblems(c, i) {
			v.errf(base+".dir", "%s", msg)
		}
	}
	dirs[f.Dir] = i
}

// fileDirProblems returns what is wrong with where destinations[i], a file
// destination, writes: its dir must not hold data_dir or the spool, nor
// lie inside the spool, the dead letters' folder or the dir of an earlier
// file destination (a retention rule sweeps its folder and those below).
func fileDirProblems(c *Config, i int) []string {
	f := &c.Destinations[i].File
	deadletter := filepath.Join(c.Server.DataDir, "deadletter")
	var out []string
	switch {
	case f.Dir == c.Spool.Dir:
		out = append(out, fmt.Sprintf("%q is also spool.dir; give the output its own directory", f.Dir))
	case dirHolds(f.Dir, c.Server.DataDir):
		out = append(out, fmt.Sprintf("%q holds server.data_dir %q (the spool, keys and audit log); give the output a directory of its own, e.g. a folder under data_dir", f.Dir, c.Server.DataDir))
	case dirHolds(deadletter, f.Dir) || dirHolds(f.Dir, deadletter):
		out = append(out, fmt.Sprintf("%q and the dead letters' folder %q are one inside the other; give the output a directory of its own", f.Dir, deadletter))
	case dirHolds(f.Dir, c.Spool.Dir) || dirHolds(c.Spool.Dir, f.Dir):
		out = append(out, fmt.Sprintf("%q and spool.dir %q are one inside the other; give the output a directory of its own, outside the spool", f.Dir, c.Spool.Dir))
	}
	for j, d := range c.Destinations[:i] {
		if d.Type == DestinationFile && d.File.Dir != f.Dir && (dirHolds(d.File.Dir, f.Dir) || dirHolds(f.Dir, d.File.Dir)) {
			out = append(out, fmt.Sprintf("%q and the dir of destinations[%d], %q, are one inside the other; give each file destination a directory of its own", f.Dir, j, d.File.Dir))
		}
	}
	return out
}

// BLESpoolFolder is the folder of server.data_dir that holds the spool of
// ble.output: aggregates.
const BLESpoolFolder = "ble-spool"

// spoolDirProblem says what is wrong with spool.dir, or returns "": it
// must be neither server.data_dir nor the BLE spool's folder, whose LOCK
// files (the data directory's lock, the BLE spool's) the spool's lock
// would take again, so that the start failed saying another beacongate
// runs there; and the BLE spool's segments, which no destination gets
// record by record, would be read as the spool's own.
func spoolDirProblem(c *Config) string {
	s := c.Spool.Dir
	if strings.TrimSpace(s) == "" {
		return "" // reported by spool
	}
	switch ble := filepath.Join(c.Server.DataDir, BLESpoolFolder); {
	case samePath(s, c.Server.DataDir):
		return fmt.Sprintf("%q is server.data_dir, whose lock the spool's would take again; give the spool a folder of its own, e.g. %s, or remove spool.dir for <data_dir>/spool", s, filepath.Join(c.Server.DataDir, "spool"))
	case samePath(s, ble):
		return fmt.Sprintf("%q is the BLE spool's folder %s (ble.output: aggregates); give the spool a folder of its own, or remove spool.dir for <data_dir>/spool", s, ble)
	}
	return ""
}

// samePath reports whether a and b name the same directory, comparing
// cleaned absolute paths (symbolic links are not followed).
func samePath(a, b string) bool { return dirHolds(a, b) && dirHolds(b, a) }

// dirHolds reports whether the directory outer is inner or one of its
// ancestors, comparing cleaned absolute paths (symbolic links are not
// followed).
func dirHolds(outer, inner string) bool {
	o, err1 := filepath.Abs(outer)
	in, err2 := filepath.Abs(inner)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(o, in)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// urlPortOK reports whether u's port, if it names one, is a TCP port
// 1..65535: url.Parse takes any digits (":99999"), and every dial then fails.
func urlPortOK(u *url.URL) bool {
	p := u.Port()
	if p == "" {
		return true
	}
	n, err := strconv.ParseUint(p, 10, 16)
	return err == nil && n > 0
}

var reservedHeaders = map[string]bool{
	"authorization": true, "content-type": true, "content-encoding": true, "content-length": true,
	"host": true, "transfer-encoding": true, "connection": true, "idempotency-key": true,
}

func (v *validator) httpDest(base string, h *HTTPDestination) {
	if h.URL == "" {
		v.errf(base+".url", "is missing; an http destination needs the URL batches are POSTed to")
	} else if u, err := url.Parse(h.URL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		// Never the URL itself: it may carry a token or a password, and
		// config check prints this, a refused reload logs and audits it.
		v.errf(base+".url", "is not an http or https URL with a host (e.g. https://collector.example/ingest)")
	} else if u.User != nil {
		v.errf(base+".url", "holds a user name or password; put credentials in bearer_token_file, not in the config")
	} else if !urlPortOK(u) {
		v.errf(base+".url", "has no valid port; the port is a number 1..65535, or leave it out for the scheme's default")
	} else if u.Scheme == "http" && h.TLS.set() {
		v.errf(base+".tls", "is set but url is http://, which sends no TLS; use an https:// url, or remove tls")
	}
	v.tlsFiles(base+".tls", h.TLS.CertFile, h.TLS.KeyFile)
	for k, val := range h.Headers {
		p := base + ".headers." + k
		switch {
		case !httpheader.ValidName(k):
			// Neither quoted nor in the path: a key typed into the name
			// would be (the walker says the same of a file's keys).
			v.errf(base+".headers", "has a name that is no header name (it holds a space, ':', '=' or another character than letters, digits and !#$%%&'*+-.^_`|~); not quoted here, since it may hold a key typed into it")
		case reservedHeaders[strings.ToLower(k)]:
			v.errf(p, "%s is set by the gateway; remove it (for a token use bearer_token_file)", k)
		case !httpheader.ValidValue(val):
			// Never the value: it may be a key.
			v.errf(p, "value holds a control character (a line break, NUL or another byte below space but tab, or DEL), which no HTTP request can carry; remove it")
		}
	}
	v.tokenFile(base+".bearer_token_file", h.BearerTokenFile)
	v.duration(base+".timeout", h.Timeout, 100*time.Millisecond, 5*time.Minute)
	v.retry(base+".retry", &h.Retry)
}

func (v *validator) kafkaDest(base string, k *KafkaDestination) {
	if len(k.Brokers) == 0 {
		v.errf(base+".brokers", "is empty; list at least one broker as host:port")
	}
	seen := map[string]bool{}
	for i, b := range k.Brokers {
		p := itemPath(base+".brokers", i)
		if v.hostPort(p, b, true) && seen[b] {
			v.errf(p, "%q is listed twice; remove one", b)
		}
		seen[b] = true
	}
	switch {
	case k.Topic == "":
		v.errf(base+".topic", "is missing; name the topic to produce to")
	case !topicRE.MatchString(k.Topic) || k.Topic == "." || k.Topic == "..":
		v.errf(base+".topic", "%q is not a valid topic name; use up to 249 letters, digits, '.', '_' or '-'", k.Topic)
	}
	t := &k.TLS
	if !t.Enabled {
		for _, f := range []struct{ key, val string }{{"ca_file", t.CAFile}, {"cert_file", t.CertFile}, {"key_file", t.KeyFile}, {"server_name", t.ServerName}} {
			if f.val != "" {
				v.errf(base+".tls."+f.key, "is set but tls.enabled is false; set enabled: true, or remove it")
			}
		}
	}
	v.tlsFiles(base+".tls", t.CertFile, t.KeyFile)
	s := &k.SASL
	if s.Mechanism == SASLNone {
		if s.Username != "" || s.PasswordFile != "" {
			v.errf(base+".sasl.mechanism", "is none but a username or password_file is set; choose plain, scram-sha-256 or scram-sha-512, or remove them")
		}
		return
	}
	if s.Username == "" {
		v.errf(base+".sasl.username", "is missing; sasl.mechanism %s needs a username", s.Mechanism)
	}
	if s.PasswordFile == "" {
		v.errf(base+".sasl.password_file", "is missing; sasl.mechanism %s needs a password_file", s.Mechanism)
	}
	if s.Mechanism == SASLPlain && !t.Enabled {
		v.errf(base+".sasl.mechanism", "plain sends the password in clear text; set tls.enabled: true, or use scram-sha-512")
	}
	v.secretFile(base+".sasl.password_file", s.PasswordFile, 1)
}

// tlsFiles checks a tls block's client certificate and key at path: both
// or neither, and the key not readable by every user.
func (v *validator) tlsFiles(path, certFile, keyFile string) {
	if (certFile == "") != (keyFile == "") {
		v.errf(path, "cert_file and key_file go together; set both for mutual TLS, or neither")
	}
	v.secretFile(path+".key_file", keyFile, 1)
}

func (v *validator) spool(s *Spool) {
	if strings.TrimSpace(s.Dir) == "" {
		v.errf("spool.dir", "is empty")
	}
	v.size("spool.max_bytes", s.MaxBytes, 16<<20, 16<<40)
	v.size("spool.segment_bytes", s.SegmentBytes, 1<<20, 1<<30)
	if s.SegmentBytes*2 > s.MaxBytes && s.MaxBytes >= 16<<20 {
		if v.idx.has("spool.segment_bytes") {
			v.errf("spool.segment_bytes", "%s is more than half of max_bytes (%s); the spool needs room for at least two segments", s.SegmentBytes, s.MaxBytes)
		} else {
			// The file set max_bytes (or durability) only: say where the
			// segment size it never wrote comes from.
			v.errf("spool.segment_bytes", "%s (the default with durability: %s) is more than half of max_bytes (%s); the spool needs room for at least two segments: set segment_bytes to at most %s, or raise max_bytes",
				s.SegmentBytes, s.Durability, s.MaxBytes, s.MaxBytes/2)
		}
	}
	v.duration("spool.fsync_max_delay", s.FsyncMaxDelay, 0, time.Second)
	if s.Durability == DurabilityProcess && v.idx.has("spool.fsync_max_delay") {
		v.errf("spool.fsync_max_delay", "has no effect with durability: process; remove it, or set durability: fsync")
	}
	v.duration("spool.gather_window", s.GatherWindow, 0, time.Millisecond)
	if s.Durability == DurabilityFsync && v.idx.has("spool.gather_window") {
		v.errf("spool.gather_window", "has no effect with durability: fsync (writes gather for fsync_max_delay); remove it, or set durability: process")
	}
	v.duration("spool.block_timeout", s.BlockTimeout, time.Millisecond, time.Minute)
	if s.WhenFull == WhenFullShed && s.PixelWhenFull == WhenFullShed && v.idx.has("spool.block_timeout") {
		v.errf("spool.block_timeout", "has no effect with when_full: shed and pixel_when_full: shed; remove it, or set either to block")
	}
}

// isHeaderName reports whether s is a plausible HTTP header name: letters,
// digits and '-', at most 64 bytes (a subset of RFC 9110's token).
func isHeaderName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
