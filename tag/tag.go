// Package tag holds bg.js, beacongate's first-party tag, embedded in the
// binary: its bytes (plain and gzipped), the versioned name it is served
// under and its Subresource Integrity hash.
//
// bg.src.js is the source; bg.min.js is generated from it with esbuild by
// `go generate ./tag` and committed (a test fails when it is stale). The tag
// package imports no other package of this module.
package tag

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	_ "embed" // bg.min.js
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"sync"
)

//go:generate go run ./gen

//go:embed bg.min.js
var js []byte

// AliasPath is the short-lived, unversioned URL path of the tag. Pages
// should load Path, which never changes content and is cached for a year.
const AliasPath = "/bg.js"

// JS returns the minified tag. The slice is shared: callers must not
// modify it.
func JS() []byte { return js }

var hashed = sync.OnceValues(func() (string, string) {
	sum := sha256.Sum256(js)
	sri := sha512.Sum384(js)
	return "bg." + hex.EncodeToString(sum[:6]) + ".js", "sha384-" + base64.StdEncoding.EncodeToString(sri[:])
})

// Name returns the versioned file name, bg.<12 hex digits of SHA-256>.js:
// it changes whenever the content does.
func Name() string {
	n, _ := hashed()
	return n
}

// Path returns the versioned URL path, "/" + Name().
func Path() string { return "/" + Name() }

// SRI returns the Subresource Integrity value for the integrity attribute
// of the <script> element ("sha384-" and the base64 digest).
func SRI() string {
	_, s := hashed()
	return s
}

var gzipped = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression) // a valid level: never fails
	zw.Write(js)
	zw.Close()
	return b.Bytes()
})

// Gzip returns the tag compressed with gzip at the best level, computed once.
// The slice is shared: callers must not modify it.
func Gzip() []byte { return gzipped() }

// stub is the snippet's inline script: it queues bg() calls made before
// the tag has loaded. CSP hashes it byte for byte. It asks for a function,
// not just a value: window.bg is also an element with id="bg" (a page's
// background), which a snippet pasted after it would otherwise keep, so
// that the page's own bg() calls threw until the tag loaded.
const stub = `window.bg=typeof bg=="function"?bg:function(){(bg.q=bg.q||[]).push(arguments)};`

// Snippet returns the HTML that embeds the tag served by the gateway at
// base (e.g. "https://collect.example.com") for site. The stub queues bg()
// calls made before the tag has loaded.
func Snippet(base, site string) string {
	return `<script>` + stub + `</script>
<script async src="` + base + Path() + `" integrity="` + SRI() + `" crossorigin="anonymous" data-site="` + site + `"></script>`
}

// CSP returns what a page's Content-Security-Policy must allow for the
// snippet of the gateway at base: the inline stub by its hash and the tag
// from the gateway's origin (script-src), and the tag's beacons to that
// origin (connect-src; a beacon it refuses is dropped without an error
// the tag can see). A base that is not an absolute http(s) URL gives "".
func CSP(base string) string {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	origin := u.Scheme + "://" + u.Host
	sum := sha256.Sum256([]byte(stub))
	return "script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "' " + origin + "; connect-src " + origin
}
