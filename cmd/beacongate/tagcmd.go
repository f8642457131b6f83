package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/beacongate/beacongate/tag"
)

// runTag implements `beacongate tag [-url BASE] [-site ID] [-sri]`: it
// prints the HTML snippet that embeds this binary's bg.js, with its
// versioned URL and Subresource Integrity hash, or with -sri the hash only.
func runTag(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("beacongate tag", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://localhost:8080", "the gateway's public base URL, as the page's visitors reach it")
	site := fs.String("site", "example.com", "the site id the tag sends (listed under sites in the config)")
	sriOnly := fs.Bool("sri", false, "print only the integrity value (sha384-…)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // the usage was asked for
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: beacongate tag [-url BASE] [-site ID] [-sri]")
		return 2
	}
	if *sriOnly {
		fmt.Fprintln(stdout, tag.SRI())
		return 0
	}
	b := strings.TrimSuffix(*base, "/")
	u, err := url.Parse(b)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		fmt.Fprintln(stderr, "beacongate tag: -url must be an http or https base URL such as https://collect.example.com")
		return 2
	}
	if *site == "" || strings.ContainsAny(*site, "\"<>&'") {
		fmt.Fprintln(stderr, "beacongate tag: -site must be a site id without quotes or < > &")
		return 2
	}
	fmt.Fprintf(stdout, "<!-- beacongate bg.js %s, %d bytes gzipped -->\n<!-- Content-Security-Policy, if the page sets one, must allow: %s -->\n%s\n",
		tag.Name(), len(tag.Gzip()), tag.CSP(b), tag.Snippet(b, *site))
	return 0
}
