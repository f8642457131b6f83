package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/tag"
)

func tagCmd(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := run(append([]string{"tag"}, args...), strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func TestTagCommand(t *testing.T) {
	out, errs, code := tagCmd("-url", "https://collect.example/", "-site", "shop.example")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		`src="https://collect.example` + tag.Path() + `"`,
		`integrity="` + tag.SRI() + `"`,
		`crossorigin="anonymous"`,
		`data-site="shop.example"`,
		`<script>window.bg=typeof bg=="function"?bg:function(){`,
		"<!-- Content-Security-Policy, if the page sets one, must allow: " + tag.CSP("https://collect.example") + " -->",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("snippet lacks %s:\n%s", want, out)
		}
	}
	if out, _, code := tagCmd("-sri"); code != 0 || out != tag.SRI()+"\n" {
		t.Errorf("-sri: exit %d, %q; want %q", code, out, tag.SRI())
	}
	for _, bad := range [][]string{{"-url", "collect.example"}, {"-url", "ftp://x"}, {"-site", `a"b`}, {"extra"}} {
		if _, errs, code := tagCmd(bad...); code != 2 || errs == "" {
			t.Errorf("%q: exit %d, stderr %q; want 2 and a message", bad, code, errs)
		}
	}
}

// TestReadmeTagSnippet fails when the README's embed snippet does not name
// this build's bg.js and its integrity hash (run `beacongate tag` and paste).
func TestReadmeTagSnippet(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	snippet := readmeTagSnippet(t, string(readme))
	for _, want := range []string{tag.Path(), `integrity="` + tag.SRI() + `"`} {
		if !strings.Contains(snippet, want) {
			t.Errorf("README's bg.js snippet lacks %s (stale: paste the output of beacongate tag):\n%s", want, snippet)
		}
	}
}

// readmeTagSnippet returns the HTML block of the README between the
// <!-- bg.js snippet --> marker and the end of its code fence.
func readmeTagSnippet(t *testing.T, readme string) string {
	t.Helper()
	_, after, ok := strings.Cut(readme, "<!-- bg.js snippet -->")
	if !ok {
		t.Fatal("README.md has no <!-- bg.js snippet --> marker")
	}
	_, after, _ = strings.Cut(after, "```html\n")
	block, _, ok := strings.Cut(after, "```")
	if !ok {
		t.Fatal("README.md: the bg.js snippet's code fence is not closed")
	}
	return block
}

// TestBinaryLinksNoTagTooling fails when esbuild (used by go generate ./tag
// and the tag's tests) or chromedp (the browser suite) is linked into the
// gateway binary.
func TestBinaryLinksNoTagTooling(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH")
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	if !strings.Contains(string(out), "github.com/beacongate/beacongate/tag\n") {
		t.Fatalf("the binary does not link the tag package; go list output looks wrong")
	}
	for _, bad := range []string{"github.com/evanw/esbuild", "github.com/chromedp/", "github.com/beacongate/beacongate/tag/internal/minify"} {
		if strings.Contains(string(out), bad) {
			t.Errorf("the beacongate binary links %s", bad)
		}
	}
}
