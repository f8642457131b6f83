package ropa

import (
	"regexp"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/config"
)

// TestReportTableOfContents: both forms open with a table of contents that
// links every section and subsection heading, in document order, and every
// link leads to an anchor that exists.
func TestReportTableOfContents(t *testing.T) {
	for name, cfg := range map[string]*config.Config{"default": config.Default(), "retail-ble": loadExample(t, "retail-ble.yaml")} {
		t.Run(name, func(t *testing.T) {
			r := build(t, cfg)
			md, html, _ := render(t, r)
			var want []block
			for _, b := range r.document().blocks {
				if b.Kind == kindHeading && b.Level >= 2 && b.ID != "contents" {
					want = append(want, b)
				}
			}
			if len(want) < 10 {
				t.Fatalf("only %d headings below the title", len(want))
			}

			// HTML: a nav of links, one per heading, each to an id on the page.
			nav := regexp.MustCompile(`(?s)<nav id="contents"[^>]*>(.*?)</nav>`).FindStringSubmatch(html)
			if nav == nil {
				t.Fatal("HTML has no <nav id=\"contents\">")
			}
			links := regexp.MustCompile(`<a href="#([^"]+)">`).FindAllStringSubmatch(nav[1], -1)
			if len(links) != len(want) {
				t.Fatalf("HTML contents has %d links, want %d", len(links), len(want))
			}
			for i, l := range links {
				if l[1] != want[i].ID {
					t.Errorf("HTML contents link %d goes to #%s, want #%s", i, l[1], want[i].ID)
				}
				if !strings.Contains(html, ` id="`+l[1]+`"`) {
					t.Errorf("HTML contents link #%s has no target", l[1])
				}
			}
			if strings.Index(html, `<nav id="contents"`) > strings.Index(html, `id="`+want[0].ID+`"`) {
				t.Error("HTML contents come after the first section")
			}

			// Markdown: a nested list of links, h3 indented under h2, and an
			// explicit anchor above each heading.
			mdLinks := regexp.MustCompile(`(?m)^( *)- \[(.+)\]\(#([a-z0-9_-]+)\)$`).FindAllStringSubmatch(md, -1)
			if len(mdLinks) != len(want) {
				t.Fatalf("Markdown contents has %d links, want %d", len(mdLinks), len(want))
			}
			for i, l := range mdLinks {
				if l[3] != want[i].ID {
					t.Errorf("Markdown contents link %d goes to #%s, want #%s", i, l[3], want[i].ID)
				}
				if indent := 2 * (want[i].Level - 2); len(l[1]) != indent {
					t.Errorf("Markdown contents link #%s indented %d, want %d", l[3], len(l[1]), indent)
				}
				if l[2] != mdInline(want[i].Text, false) {
					t.Errorf("Markdown contents link %q, want the heading text %q", l[2], mdInline(want[i].Text, false))
				}
				anchor := `<a id="` + l[3] + `"></a>` + "\n\n" + strings.Repeat("#", want[i].Level) + " "
				if !strings.Contains(md, anchor) {
					t.Errorf("Markdown has no anchor %q above its heading", l[3])
				}
			}
		})
	}
}
