package tag

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/tag/internal/minify"
)

// maxGzipBytes is the budget for the served tag.
const maxGzipBytes = 3 << 10

// TestMinifiedUpToDate fails when bg.min.js is not what `go generate ./tag`
// makes from bg.src.js.
func TestMinifiedUpToDate(t *testing.T) {
	src, err := os.ReadFile("bg.src.js")
	if err != nil {
		t.Fatal(err)
	}
	want, err := minify.JS(src)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(JS(), want) {
		t.Fatalf("bg.min.js is stale (%d bytes, esbuild makes %d from bg.src.js): run go generate ./tag and commit", len(JS()), len(want))
	}
}

// TestGzipSize fails when the tag grows past 3 KB gzipped.
func TestGzipSize(t *testing.T) {
	n := len(Gzip())
	t.Logf("bg.js: %d bytes minified, %d bytes gzipped (budget %d)", len(JS()), n, maxGzipBytes)
	if n > maxGzipBytes {
		t.Fatalf("bg.js is %d bytes gzipped, over the %d-byte budget", n, maxGzipBytes)
	}
	zr, err := gzip.NewReader(bytes.NewReader(Gzip()))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(plain, JS()) {
		t.Fatalf("Gzip() does not decompress to JS(): %v", err)
	}
}

func TestNameAndSRI(t *testing.T) {
	if !regexp.MustCompile(`^bg\.[0-9a-f]{12}\.js$`).MatchString(Name()) {
		t.Errorf("Name() = %q", Name())
	}
	if Path() != "/"+Name() {
		t.Errorf("Path() = %q", Path())
	}
	sum := sha512.Sum384(JS())
	if want := "sha384-" + base64.StdEncoding.EncodeToString(sum[:]); SRI() != want {
		t.Errorf("SRI() = %q, want %q", SRI(), want)
	}
	s := Snippet("https://collect.example", "shop.example")
	for _, want := range []string{`src="https://collect.example` + Path() + `"`, `integrity="` + SRI() + `"`, `crossorigin="anonymous"`, `data-site="shop.example"`, " async "} {
		if !strings.Contains(s, want) {
			t.Errorf("Snippet lacks %s:\n%s", want, s)
		}
	}
}

// TestCSP fails when CSP's hash is not that of the snippet's inline script
// as the browser hashes it (its text between <script> and </script>), or
// names another origin than the gateway's.
func TestCSP(t *testing.T) {
	s := Snippet("https://collect.example/collect", "shop.example")
	inline, _, _ := strings.Cut(strings.TrimPrefix(s, "<script>"), "</script>")
	sum := sha256.Sum256([]byte(inline))
	want := "script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "' https://collect.example; connect-src https://collect.example"
	if got := CSP("https://collect.example/collect"); got != want {
		t.Errorf("CSP = %q\nwant %q", got, want)
	}
	if got := CSP("collect.example"); got != "" {
		t.Errorf("CSP of a base without a scheme = %q; want none", got)
	}
}

// TestNoDependencies fails when the served tag loads anything at run time:
// no import, no script element, no other URL than the gateway's own.
func TestNoDependencies(t *testing.T) {
	for _, bad := range []string{"import(", "importScripts", "createElement(\"script\"", "http://", "https://", "eval(", "document.write"} {
		if bytes.Contains(JS(), []byte(bad)) {
			t.Errorf("bg.min.js contains %q", bad)
		}
	}
}
