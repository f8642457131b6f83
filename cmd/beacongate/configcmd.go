package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/anonymize/geo"
	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/anonymize/suppress"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/plan"
	"github.com/beacongate/beacongate/wiring"
)

const configUsage = `usage:
  beacongate config check FILE   check FILE; list every problem and exit 1, or print a summary and exit 0
  beacongate config default      print the built-in default config, with comments
`

// runConfig implements "beacongate config ...". args are the arguments after
// "config". It returns the process exit code: 0 ok, 1 invalid config, 2 bad usage.
func runConfig(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, configUsage)
		return 2
	}
	if len(args) == 2 && (args[0] == "check" || args[0] == "default") && isHelp(args[1]) {
		fmt.Fprint(stdout, configUsage) // "config check -h" asks for help, not for a file named -h
		return 0
	}
	switch args[0] {
	case "check":
		if len(args) != 2 {
			fmt.Fprint(stderr, configUsage)
			return 2
		}
		return configCheck(args[1], stdout, stderr)
	case "default":
		if len(args) != 1 {
			fmt.Fprint(stderr, configUsage)
			return 2
		}
		if _, err := stdout.Write(config.DefaultYAML()); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, configUsage)
		return 0
	}
	unknownCommand(stderr, "beacongate config", args[0], []string{"check", "default", "help"}, configUsage)
	return 2
}

func configCheck(path string, stdout, stderr io.Writer) int {
	c, err := config.Load(path)
	if err != nil {
		var list config.ErrorList
		if errors.As(err, &list) {
			for _, e := range list {
				fmt.Fprintln(stderr, e)
			}
			n := "problems"
			if len(list) == 1 {
				n = "problem"
			}
			fmt.Fprintf(stderr, "%s: %d %s\n", path, len(list), n)
		} else {
			fmt.Fprintf(stderr, "%s: %v\n", path, err)
		}
		return 1
	}
	// A start takes a file without settings as the defaults; a reload
	// refuses it (half-written): say both, so neither surprises.
	if c.Empty() {
		fmt.Fprintf(stderr, "note: %s: the file holds no settings: the gateway starts on the built-in defaults, and a reload refuses it\n", path)
	}
	for _, n := range c.Notes() {
		fmt.Fprintf(stderr, "note: %s: %s\n", path, n)
	}
	// Files that are absent here are not errors: secrets and databases are
	// often only mounted where the gateway runs. Say so, so a typo shows.
	for _, f := range c.Files() {
		if _, err := os.Stat(f.Path); errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "note: %s: %s: %s does not exist here; it must exist where the gateway runs\n", path, f.Key, f.Path)
		}
	}
	// Often set only where the gateway runs: a note, as a file not here.
	if p := &c.Pseudonym; p.Mode == config.PseudonymDerived && p.SecretEnv != "" && p.SecretFile == "" {
		if _, err := wiring.LoadSecret(p); err != nil {
			fmt.Fprintf(stderr, "note: %s: pseudonym.secret_env: here, %v; it must hold the secret where the gateway runs, or the gateway does not start\n",
				path, errors.Unwrap(err))
		}
	}
	p, err := checkFilesHere(c)
	if err != nil {
		lines := strings.Split(err.Error(), "\n")
		for _, l := range lines {
			fmt.Fprintf(stderr, "%s: %s\n", path, l)
		}
		n := "problems"
		if len(lines) == 1 {
			n = "problem"
		}
		fmt.Fprintf(stderr, "%s: %d %s\n", path, len(lines), n)
		return 1
	}
	// What the config allows but an ad platform cannot take: each such
	// event would be dead-lettered unsent.
	if p != nil {
		for _, n := range wiring.PlatformNotes(p) {
			fmt.Fprintf(stderr, "note: %s: %s\n", path, n)
		}
		// Allowlisted, but never written as a property: the operator
		// who listed it expects it in the records.
		for _, u := range anonymize.UnrecordedProperties(p) {
			fmt.Fprintf(stderr, "note: %s: properties.allow: %s is never recorded as a property: %s\n", path, u.Name, u.Reason)
		}
	}
	// The gateway warns of it at start; this is the limit here, which
	// may not be the one where the gateway runs.
	if msg := maxConnsProblem(c.Server.MaxConns, fileLimit()); msg != "" {
		fmt.Fprintf(stderr, "note: %s: %s; the limit is config check's own: the gateway's, where it runs, may differ\n", path, msg)
	}
	for _, n := range listenAddressesHere(c) {
		fmt.Fprintf(stderr, "note: %s: %s\n", path, n)
	}
	for _, n := range clearTextCredentials(c) {
		fmt.Fprintf(stderr, "note: %s: %s\n", path, n)
	}
	for _, n := range proxiesTrustingEveryone(c) {
		fmt.Fprintf(stderr, "note: %s: %s\n", path, n)
	}
	// The gateway warns of it at start too.
	if n := smallK(c); n != "" {
		fmt.Fprintf(stderr, "note: %s: %s\n", path, n)
	}
	// What serve warns of at every start: such a destination gets nothing
	// from visitors under GDPR.
	for _, i := range noVendorDestinations(c) {
		fmt.Fprintf(stderr, "note: %s: destinations[%d] (%s) has %s; set its tcf.vendor_id to the recipient's IAB vendor id, or tcf.without_vendor: true for your own storage\n",
			path, i, c.Destinations[i].Name, noVendorWhy)
	}
	fmt.Fprintf(stdout, "ok: %s: %s\n", path, c.Summary())
	return 0
}

// checkFilesHere reads what the gateway reads at start beyond the file,
// where it is here: the directories it makes (dirsHere), the pseudonym
// secret's file, the GeoIP database, destinations' TLS certificates and
// keys (tlsFilesHere), in ephemeral mode the data directory's
// subject.key (read only, never made), the BLE opt-out list with its key,
// the suppression list privacy.suppression_file names (or the data
// directory's, when it is here), and the vendor list of
// consent.tcf.gvl_file with which the plan is compiled. A
// database that is no usable MaxMind DB, an opt-out or suppression list
// with a line that is no hash, a vendor list that cannot be read, or a
// destination's tcf.vendor_id that the list does not hold (or deleted)
// would keep the gateway from starting. A file that is not here is a note
// above, and nothing more is checked of it.
//
// It returns the plan for the notes that follow; nil when the vendor list
// is not here and the plan does not compile without it.
func checkFilesHere(c *config.Config) (*plan.Plan, error) {
	here := func(path string) bool {
		_, err := os.Stat(path)
		return !errors.Is(err, fs.ErrNotExist)
	}
	errs := dirsHere(c)
	if p := c.GeoIP.Database; p != "" && here(p) {
		if _, err := geo.Open(p); err != nil { // read into memory: nothing to close
			errs = append(errs, fmt.Errorf("geoip.database: %w", err))
		}
	}
	if p := &c.Pseudonym; p.Mode == config.PseudonymDerived && p.SecretFile != "" && here(p.SecretFile) {
		// As the start loads it: config validation does not hold it to
		// the loader's every rule (at most 4 KiB).
		if _, err := wiring.LoadSecret(p); err != nil {
			errs = append(errs, err)
		}
	}
	if key := filepath.Join(c.Server.DataDir, "subject.key"); c.Pseudonym.Mode != config.PseudonymDerived && isDir(c.Server.DataDir) && here(key) {
		// Ephemeral mode: the start reads the data directory's subject
		// key (making it when absent); read it as the start does, making
		// nothing.
		if _, err := pseudonym.LoadSubjectKeyFile(key); err != nil {
			errs = append(errs, fmt.Errorf("server.data_dir: %w", err))
		}
	}
	errs = append(errs, tlsFilesHere(c, here)...)
	if b := &c.BLE; b.OptOutFile != "" && here(b.OptOutFile) && here(b.OptOutKeyFile) {
		if _, err := openOptOut(b); err != nil { // as the start and every reload read it
			errs = append(errs, err)
		}
	}
	// Without privacy.suppression_file, the start reads the data
	// directory's list: read it when that directory is here (a data_dir
	// in the way of which is a file was reported above).
	if f := c.Privacy.SuppressionFile; f != "" || isDir(c.Server.DataDir) {
		f = suppressionFile(c)
		// Read as the start reads it (a missing file is an empty list);
		// the key only hashes ids, which a check never does.
		if _, err := suppress.Open(f, nil, nil); err != nil {
			errs = append(errs, fmt.Errorf("privacy.suppression_file: %w", err))
		}
	}
	var pl *plan.Plan
	if p := c.Consent.TCF.GVLFile; p == "" || here(p) {
		gvl, err := wiring.LoadGVL(c)
		if err == nil {
			pl, err = wiring.Compile(c, gvl)
		}
		errs = append(errs, err)
	} else if p, err := wiring.Compile(c, nil); err == nil {
		pl = p
	}
	return pl, errors.Join(errs...)
}

// dirsHere finds, for each directory the start makes (server.data_dir,
// spool.dir, each file destination's dir), the nearest path of it that is
// here: one that is no directory (/dev/null, a regular file) keeps the
// gateway from starting ("mkdir: not a directory"). It only looks: nothing
// is made. A path that cannot be looked at here (permissions) is left to
// the start. A file in the way of several (a spool under a data_dir that
// is a file) is reported once, for the first key.
func dirsHere(c *config.Config) []error {
	type dir struct{ key, path string }
	dirs := []dir{{"server.data_dir", c.Server.DataDir}, {"spool.dir", c.Spool.Dir}}
	for i := range c.Destinations {
		if d := &c.Destinations[i]; d.Type == config.DestinationFile {
			dirs = append(dirs, dir{fmt.Sprintf("destinations[%d].file.dir", i), d.File.Dir})
		}
	}
	var errs []error
	reported := map[string]bool{}
	for _, d := range dirs {
		if d.path == "" {
			continue
		}
		want := filepath.Clean(d.path)
		for q := want; ; q = filepath.Dir(q) {
			fi, err := os.Stat(q)
			if err == nil {
				if !fi.IsDir() && !reported[q] {
					reported[q] = true
					if q == want {
						errs = append(errs, fmt.Errorf("%s: %s is not a directory", d.key, q))
					} else {
						errs = append(errs, fmt.Errorf("%s: %s is not a directory, so %s cannot be made", d.key, q, want))
					}
				}
				break
			}
			if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) || filepath.Dir(q) == q {
				break
			}
		}
	}
	return errs
}

// isDir reports whether path is a directory here.
func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// tlsFilesHere builds the TLS settings of each http, kafka and nats
// destination as the start does (wiring.TLSClientConfig), when every file
// they name is here: a ca_file with no PEM certificate in it, or a
// cert_file and key_file that are no key pair, would keep the gateway from
// starting. The errors name the key, e.g. destinations[0].http.tls.ca_file.
func tlsFilesHere(c *config.Config, here func(string) bool) []error {
	var errs []error
	for i := range c.Destinations {
		d := &c.Destinations[i]
		var t config.TLS
		switch d.Type {
		case config.DestinationHTTP:
			if d.HTTP.TLS != (config.HTTPTLS{}) {
				t = d.HTTP.TLS.Client()
			}
		case config.DestinationKafka:
			t = d.Kafka.TLS
		case config.DestinationNATS:
			t = d.NATS.TLS
		}
		if !t.Enabled {
			continue
		}
		missing := false
		for _, f := range []string{t.CAFile, t.CertFile, t.KeyFile} {
			missing = missing || (f != "" && !here(f)) // a note above
		}
		if missing {
			continue
		}
		if _, err := wiring.TLSClientConfig(&t); err != nil {
			errs = append(errs, fmt.Errorf("destinations[%d].%s.%w", i, d.Type, err))
		}
	}
	return errs
}

// clearTextCredentials notes each destination that sends a credential
// over plain http:// to a host that is not loopback: an http destination
// with a bearer_token_file, an ad platform whose endpoint is http://. A
// note, not an error: a proxy on the way (a service mesh's sidecar) may
// encrypt it, which config check cannot see.
func clearTextCredentials(c *config.Config) []string {
	var notes []string
	for i := range c.Destinations {
		d := &c.Destinations[i]
		var urlKey, fileKey, raw string
		switch d.Type {
		case config.DestinationHTTP:
			if d.HTTP.BearerTokenFile == "" {
				continue
			}
			urlKey, fileKey, raw = "http.url", "http.bearer_token_file", d.HTTP.URL
		case config.DestinationMetaCAPI:
			urlKey, fileKey, raw = "meta_capi.endpoint", "meta_capi.access_token_file", d.MetaCAPI.Endpoint
		case config.DestinationGA4:
			urlKey, fileKey, raw = "ga4.endpoint", "ga4.api_secret_file", d.GA4.Endpoint
		case config.DestinationTikTok:
			urlKey, fileKey, raw = "tiktok.endpoint", "tiktok.access_token_file", d.TikTok.Endpoint
		default:
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "http" || isLoopbackHost(u.Host) {
			continue
		}
		notes = append(notes, fmt.Sprintf("destinations[%d] (%s): %s is http://, so the token of %s crosses the network in clear text; use an https:// URL, unless a proxy on the way encrypts it",
			i, d.Name, urlKey, fileKey))
	}
	return notes
}

// proxiesTrustingEveryone notes each server.trusted_proxies entry that
// covers a whole address family (0.0.0.0/0, ::/0): every peer is then a
// trusted proxy, and any client names its own address in the forwarding
// header. A note, not an error: behind some cloud balancers the operator
// cannot list their addresses, and a firewall may let only them in.
func proxiesTrustingEveryone(c *config.Config) []string {
	var notes []string
	for i, p := range c.Server.TrustedProxies {
		if p.Bits() != 0 {
			continue
		}
		family := "IPv6"
		if p.Addr().Is4() {
			family = "IPv4"
		}
		notes = append(notes, fmt.Sprintf("server.trusted_proxies[%d] (%s) trusts every %s address as a proxy: any client that reaches the gateway directly names its own address in %s, "+
			"and the records' ip and geo, the visitor hash and server.max_requests_per_client follow it; list your proxies' own addresses, or let only them reach the gateway",
			i, p, family, c.Server.ClientIPHeader))
	}
	return notes
}

// listenAddressesHere notes server.listen and server.admin when the
// gateway could not listen on them here: a host that is no address of
// this host, or a name that does not resolve to one (net.Listen fails at
// start). Notes, not errors: it may be an address of the host where the
// gateway runs. Nothing is bound; a port in use is not looked for. A
// name's lookup is bounded by listenLookupTimeout.
func listenAddressesHere(c *config.Config) []string {
	var local []netip.Addr
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				local = append(local, p.Addr().Unmap())
			}
		}
	}
	isLocal := func(s string) bool {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return false
		}
		ip = ip.WithZone("").Unmap()
		return ip.IsUnspecified() || ip.IsLoopback() || slices.Contains(local, ip)
	}
	var notes []string
	for _, l := range []struct{ key, addr string }{{"server.listen", c.Server.Listen}, {"server.admin", c.Server.Admin}} {
		host, _, err := net.SplitHostPort(l.addr)
		if err != nil || host == "" {
			continue
		}
		if _, err := netip.ParseAddr(host); err == nil {
			if !isLocal(host) {
				notes = append(notes, fmt.Sprintf("%s: here, %s is no address of this host, so the gateway cannot listen on %q; it must be one where the gateway runs", l.key, host, l.addr))
			}
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), listenLookupTimeout)
		addrs, err := lookupHost(ctx, host)
		cancel()
		switch {
		case err != nil:
			notes = append(notes, fmt.Sprintf("%s: here, %s does not resolve (%v), so the gateway cannot listen on %q; it must resolve to an address of the host where the gateway runs", l.key, host, err, l.addr))
		case !slices.ContainsFunc(addrs, isLocal):
			notes = append(notes, fmt.Sprintf("%s: here, %s resolves to no address of this host (%s), so the gateway cannot listen on %q; it must resolve to one where the gateway runs", l.key, host, strings.Join(addrs, ", "), l.addr))
		}
	}
	return notes
}

// listenLookupTimeout bounds config check's lookup of a listen address's
// host name: it stays fast with a resolver that does not answer.
const listenLookupTimeout = 2 * time.Second

// lookupHost resolves a listen address's host name for config check; a
// variable for tests, which must not depend on the machine's DNS.
var lookupHost = net.DefaultResolver.LookupHost

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help":
		return true
	}
	return false
}

// smallK notes ble.k below 3 with ble.output: aggregates: with k 2 a count
// left out is exactly 1, so "suppressed" names one shopper, and with k 1
// nothing is left out at all. A note, not an error: k 1 may be deliberate
// (tests, a demo). The gateway logs the same warning at start.
func smallK(c *config.Config) string {
	if c.BLE.Output != config.BLEOutputAggregates || c.BLE.K >= 3 {
		return ""
	}
	why := "with k 2 a count left out is exactly 1 (one shopper, whom suppressed then points at)"
	if c.BLE.K == 1 {
		why = "with k 1 no count is ever left out, and a cell may stand for a single shopper"
	}
	return fmt.Sprintf("ble.k: %d is a minimum count below 3: %s; set ble.k to 3 or more (default 5) unless this is a test", c.BLE.K, why)
}
