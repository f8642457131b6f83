package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/beacongate/beacongate/adwire"
	"github.com/beacongate/beacongate/anonymize"
	"github.com/beacongate/beacongate/anonymize/geo"
	"github.com/beacongate/beacongate/anonymize/pseudonym"
	"github.com/beacongate/beacongate/anonymize/suppress"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/explain"
	"github.com/beacongate/beacongate/ropa"
	"github.com/beacongate/beacongate/upstream/adplatform"
	"github.com/beacongate/beacongate/wiring"
)

const explainUsage = `usage: beacongate explain [-config FILE] [-request FILE] [-ip ADDR] [-at TIME] [-data DIR] [-json]

Dry run: reads one sample request and shows, for each consent state (none,
analytics, ads), every field as it arrived, what the policy does with it,
what the record holds, and which destinations would receive it: for an
ad platform (meta_capi, ga4, tiktok), the request its sink makes of the
record (only some of its members, contact data hashed). The request
goes through the gateway's own parser, so rejections are shown as the
server would make them. A sample whose user, client or device id is on
the suppression list is shown suppressed, as the server drops it on
arrival. Nothing is stored or sent.

The sample (from -request FILE, else stdin) is one of:
  an HTTP request:   GET /p.gif?site=shop&url=... HTTP/1.1
                     User-Agent: ...
                     Cookie: euconsent-v2=...
                     (a blank line and a body for POST; Content-Length is computed;
                     with Transfer-Encoding: chunked the body is taken as chunked)
  a URL alone:       https://collect.example/p.gif?site=shop&url=...  (a pixel GET)
  a JSON body alone: {"site":"shop","event":"add_to_cart",...}  (POST /b;
                     an object with "sightings" goes to POST /ble)

`

// maxExplainInput bounds the sample read; a real request is a few KiB.
const maxExplainInput = 4 << 20

// runExplain implements "beacongate explain". Exit codes: 0 explained (a
// rejected request included), 1 invalid config or unreadable sample, 2 bad
// usage.
func runExplain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "config `FILE` (default: the embedded default config)")
	requestPath := fs.String("request", "", "sample request `FILE` (default: stdin)")
	ipFlag := fs.String("ip", "203.0.113.77", "the client's address as the gateway sees it (the TCP peer); X-Forwarded-For in the sample counts only if this is in server.trusted_proxies")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	dataFlag := fs.String("data", "", "the gateway's data `DIR`, for its key store and suppression list (default: the config's server.data_dir)")
	atFlag := fs.String("at", "", "receive `TIME` of the sample request, RFC 3339 (default: now); it picks the pseudonym key period, so a fixed -at with a derived secret gives the same pseudonyms on every run")
	fs.Usage = func() {
		fmt.Fprint(stderr, explainUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	peer, err := netip.ParseAddr(*ipFlag)
	if err != nil {
		// Never the value: it may be a visitor's address (netip's error
		// quotes it).
		fmt.Fprintln(stderr, "beacongate explain: -ip: want an IPv4 or IPv6 address such as 203.0.113.77")
		return 2
	}
	clk := clock.Real
	if *atFlag != "" {
		at, err := time.Parse(time.RFC3339Nano, *atFlag)
		if err != nil {
			fmt.Fprintf(stderr, "beacongate explain: -at: want an RFC 3339 time such as 2026-11-24T12:00:00Z\n")
			return 2
		}
		clk = clock.Fixed(at)
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		printConfigError(stderr, "beacongate explain", *configPath, err)
		return 1
	}
	if *dataFlag != "" {
		if err := cfg.Apply(config.Overrides{DataDir: *dataFlag}); err != nil {
			fmt.Fprintln(stderr, "beacongate explain:", err)
			return 1
		}
	}
	in := stdin
	if *requestPath != "" {
		f, err := os.Open(*requestPath)
		if err != nil {
			fmt.Fprintf(stderr, "beacongate explain: %v\n", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	sample, err := io.ReadAll(io.LimitReader(in, maxExplainInput+1))
	if err != nil {
		fmt.Fprintf(stderr, "beacongate explain: cannot read the sample request: %v\n", err)
		return 1
	}
	if len(sample) > maxExplainInput {
		fmt.Fprintf(stderr, "beacongate explain: the sample request is larger than %d bytes\n", maxExplainInput)
		return 1
	}
	if len(bytes.TrimSpace(sample)) == 0 {
		fmt.Fprintln(stderr, "beacongate explain: the sample request is empty")
		return 1
	}
	x, err := newExplainer(cfg, clk)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate explain: %v\n", err)
		return 1
	}
	out := x.Explain(sample, peer)
	if *configPath == "" {
		out.Config = "embedded default"
	} else {
		out.Config = *configPath
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		err = enc.Encode(out)
	} else {
		err = out.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "beacongate explain: %v\n", err)
		return 1
	}
	return 0
}

// printConfigError prints a config load error, one problem per line.
func printConfigError(w io.Writer, cmd, path string, err error) {
	var list config.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Fprintln(w, e)
		}
		fmt.Fprintf(w, "%s: %s: the config has %d problem(s); see beacongate config check\n", cmd, path, len(list))
		return
	}
	fmt.Fprintf(w, "%s: %v\n", cmd, err)
}

// newExplainer builds the gateway and engine as the server does (see
// app.settings), with pseudonym keys and GeoIP that never fail: explain only
// illustrates, so a missing secret or database becomes a note.
func newExplainer(cfg *config.Config, clk clock.Clock) (*explain.Explainer, error) {
	var notes []string
	noGeo := false
	a := &app{clock: clk} // only keys, geo and clock: app.settings builds the gateway settings from them
	keys, err := newKeyring(&cfg.Pseudonym, clk)
	if err != nil {
		if cfg.Pseudonym.Mode != config.PseudonymDerived {
			return nil, err
		}
		notes = append(notes, "pseudonym.mode is derived, but the secret cannot be read here ("+err.Error()+
			"): an ephemeral key stands in, so the pseudonyms shown differ from the server's")
		if keys, err = pseudonym.New(pseudonym.Options{Mode: pseudonym.Ephemeral, Period: cfg.Pseudonym.Period.D(), Clock: clk}); err != nil {
			return nil, err
		}
	} else if cfg.Pseudonym.Mode == config.PseudonymEphemeral {
		notes = append(notes, "pseudonyms use a fresh ephemeral key, as a restarted server would")
	} else if cfg.Privacy.KeyStore {
		// The server takes each period's key from its key store: so does
		// explain, read-only (it never creates or destroys a key).
		stored, note := storedKeyring(cfg, clk)
		notes = append(notes, note)
		if stored != nil {
			keys = stored
		}
	}
	a.keys = keys
	switch path := cfg.GeoIP.Database; {
	case path == "":
		notes = append(notes, "no geo: geoip.database is not set")
	default:
		g, err := geo.NewReloadable(path)
		if err != nil {
			notes = append(notes, "no geo: "+err.Error())
			noGeo = true
		} else {
			a.geo = g
		}
	}
	built, err := a.settings(cfg)
	if err != nil {
		return nil, err
	}
	list, note := readSuppression(cfg)
	if note != "" {
		notes = append(notes, note)
	}
	o := explain.Options{
		Plan: built.plan, Facts: ropa.FactsOf(cfg), Settings: built.settings,
		Deps:           anonymize.Deps{Keys: a.keys, Geo: a.geo, Clock: clk},
		MaxHeaderBytes: int(cfg.Server.MaxHeaderBytes), MaxBodyBytes: int(cfg.Server.MaxBodyBytes),
		Notes: notes, NoGeo: noGeo,
	}
	if list != nil {
		o.Suppression = list
	}
	o.PlatformRequest = platformPreview(cfg, clk)
	return explain.New(o)
}

// platformPreview maps the record an ad platform destination gets to the
// request its sink sends, with the sink's own mapping (adplatform.Preview,
// on the destination's options and the sites' origins, as wiring builds
// the sink), so that explain shows what leaves for the platform rather
// than the record the sink reads it from.
func platformPreview(cfg *config.Config, clk clock.Clock) func(int, []byte) (string, []byte, string) {
	origins := adplatform.NewOrigins(wiring.SiteOrigins(cfg))
	return func(i int, record []byte) (string, []byte, string) {
		if i < 0 || i >= len(cfg.Destinations) {
			return "", nil, ""
		}
		o, ok := wiring.PlatformOptions(&cfg.Destinations[i])
		if !ok {
			return "", nil, ""
		}
		o.Origins, o.Clock = origins, clk
		body, unsent := adplatform.Preview(o, record)
		// adwire names the platforms as the record of processing does.
		return adwire.Platform(o.Platform).String(), body, unsent
	}
}

// readSuppression opens the server's suppression list for a dry run,
// creating nothing: in ephemeral mode it reads <data_dir>/subject.key
// only if it exists (without it no entry of the list can match). It
// returns nil and a note when the list cannot be checked here.
func readSuppression(cfg *config.Config) (*suppress.List, string) {
	var key *pseudonym.SubjectKey
	var err error
	if cfg.Pseudonym.Mode == config.PseudonymDerived {
		var s pseudonym.Secret
		if s, err = wiring.LoadSecret(&cfg.Pseudonym); err == nil {
			key, err = pseudonym.SubjectKeyFromSecret(s)
		}
	} else {
		key, err = pseudonym.LoadSubjectKeyFile(filepath.Join(cfg.Server.DataDir, "subject.key"))
		if errors.Is(err, os.ErrNotExist) {
			return nil, ""
		}
	}
	var list *suppress.List
	if err == nil {
		list, err = suppress.Open(suppressionFile(cfg), key, nil)
	}
	if err != nil {
		return nil, "the suppression list cannot be checked here (" + err.Error() + "): a suppressed subject's sample is shown as if it were not suppressed"
	}
	return list, ""
}

// storedKeyring is the keyring the server uses with privacy.key_store,
// opened read-only for a dry run, and a note saying what that shows; nil
// and a note saying why when the store cannot be read here.
func storedKeyring(cfg *config.Config, clk clock.Clock) (*pseudonym.Keyring, string) {
	dir := keyStoreDir(cfg)
	ks, err := openKeyStore(cfg, clk.Now(), true)
	if err == nil {
		var secret pseudonym.Secret
		if secret, err = wiring.LoadSecret(&cfg.Pseudonym); err == nil {
			var kr *pseudonym.Keyring
			kr, err = pseudonym.New(pseudonym.Options{Period: cfg.Pseudonym.Period.D(), Mode: pseudonym.Derived, Secret: secret, Keys: ks, Clock: clk})
			if err == nil {
				return kr, "pseudonyms come from the key store in " + dir + ", read-only: a period whose key was destroyed, or that has no key yet (the server makes it at the period's first event), shows none"
			}
		}
	}
	return nil, "privacy.key_store is on, but the key store in " + dir + " cannot be read here (" + err.Error() +
		"; -data DIR names the gateway's data directory): pseudonyms are derived from the secret, as the server does only for periods before its store existed"
}
