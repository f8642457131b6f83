package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// reportLayoutJS checks the rendered report: in every table cell, each word
// of each text node (whitespace separates words; a hyphen ends one, as the
// break after it is a natural one) must lie on one line, so no cell breaks a
// token in the middle. A <wbr> ends a text node, so a long token marked up
// with break points may wrap there and only there. It also reports whether
// the page is wider than the viewport (a token that cannot wrap pushes its
// table out, listed in wide). The result is JSON:
// {"broken":[{"cell","word"}],"pageWidth","viewport","wide":[]}.
const reportLayoutJS = `(() => {
  const broken = [];
  const cellName = (cell) => {
    const table = cell.closest("table");
    const tables = Array.from(document.querySelectorAll("table"));
    let h = table, heading = "";
    while (h && !heading) {
      h = h.previousElementSibling;
      if (h && /^H[1-3]$/.test(h.tagName)) heading = h.textContent;
    }
    const row = cell.parentElement;
    return "table " + tables.indexOf(table) + " (under \"" + heading + "\"), row " +
      Array.from(table.rows).indexOf(row) + ", column " + Array.from(row.cells).indexOf(cell) +
      ": " + JSON.stringify(cell.textContent.slice(0, 80));
  };
  for (const cell of document.querySelectorAll("td, th")) {
    const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const words = /[^\s-]+-*|-+/g;
      for (let m; (m = words.exec(n.data)); ) {
        const r = document.createRange();
        r.setStart(n, m.index);
        r.setEnd(n, m.index + m[0].length);
        const rects = Array.from(r.getClientRects()).filter((x) => x.width > 0 && x.height > 0);
        if (rects.length < 2) continue;
        const first = rects[0];
        if (rects.some((x) => Math.abs(x.top - first.top) > first.height / 2)) {
          broken.push({cell: cellName(cell), word: m[0]});
        }
      }
    }
  }
  const vw = document.documentElement.clientWidth, wide = [];
  for (const e of document.querySelectorAll("body > *")) {
    if (e.getBoundingClientRect().right > vw + 0.5) {
      wide.push(e.tagName.toLowerCase() + " " + JSON.stringify(e.textContent.slice(0, 60)));
    }
  }
  return JSON.stringify({broken: broken, pageWidth: document.documentElement.scrollWidth, viewport: vw, wide: wide});
})()`

type reportLayout struct {
	Broken []struct {
		Cell string `json:"cell"`
		Word string `json:"word"`
	} `json:"broken"`
	PageWidth int      `json:"pageWidth"`
	Viewport  int      `json:"viewport"`
	Wide      []string `json:"wide"`
}

// TestE2EReportInChromium renders the HTML report of every example config
// and of the embedded default with the real binary, opens each in headless
// Chromium at a desktop and at a narrow width, takes a full-page
// screenshot (written to the test's temp dir, checked to be a PNG of the
// page with something drawn on it), and checks that no table cell breaks a
// word in the middle and that no table makes the page wider than the
// window.
func TestE2EReportInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser suite: not in -short mode")
	}
	t.Parallel() // its own browser; runs beside TestE2ETag
	dir := t.TempDir()
	actx, cancelAlloc := tagBrowser(t, dir) // skips without chromium
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	startBrowser(t, bctx, cancelBrowser)

	configs := map[string]string{"default": ""}
	paths, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	if err != nil || len(paths) < 3 {
		t.Fatalf("examples: %v, %d found; want at least 3", err, len(paths))
	}
	for _, p := range paths {
		configs[strings.TrimSuffix(filepath.Base(p), ".yaml")] = p
	}
	for name, cfg := range configs {
		t.Run(name, func(t *testing.T) {
			page := filepath.Join(dir, name+".html")
			args := []string{"report", "-format", "html", "-o", page}
			if cfg != "" {
				args = append(args, "-config", cfg)
			}
			if code, _, stderr := runCLI(t, args...); code != 0 {
				t.Fatalf("beacongate %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
			}
			abs, err := filepath.Abs(page)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancelTab := chromedp.NewContext(bctx)
			defer cancelTab()
			ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			for _, width := range []int64{1280, 800} {
				if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900), chromedp.Navigate("file://"+abs)); err != nil {
					t.Fatalf("%dpx: loading the report: %v", width, err)
				}
				res, err := chromedp.Run(ctx, chromedp.Evaluate[string](reportLayoutJS))
				if err != nil {
					t.Fatalf("%dpx: layout check: %v", width, err)
				}
				var l reportLayout
				if err := json.Unmarshal([]byte(res), &l); err != nil {
					t.Fatalf("%dpx: layout check result %q: %v", width, res, err)
				}
				for _, b := range l.Broken {
					t.Errorf("%dpx: %s breaks the word %q across lines", width, b.Cell, b.Word)
				}
				if l.PageWidth > l.Viewport {
					t.Errorf("%dpx: the page is %dpx wide, wider than the %dpx window: a cell cannot wrap its content; too wide: %v", width, l.PageWidth, l.Viewport, l.Wide)
				}
				// The full-page screenshot lays the page out anew at its full
				// height: measure the window's layout first.
				shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatalf("%dpx: screenshot: %v", width, err)
				}
				checkScreenshot(t, shot, int(width))
				file := filepath.Join(dir, name+"-"+itoa(int(width))+".png")
				if err := os.WriteFile(file, shot, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("%dpx: screenshot %s (%d bytes)", width, file, len(shot))
			}
		})
	}
}

// checkScreenshot fails unless shot is a PNG as wide as the window (less
// a scroll bar of up to 20 px), at
// least a screen high, and not blank: a sample of its pixels has several
// colours (text, table borders, header shading on white).
func checkScreenshot(t *testing.T, shot []byte, width int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	b := img.Bounds()
	if b.Dx() > width || b.Dx() < width-20 || b.Dy() < 900 || len(shot) < 20_000 {
		t.Fatalf("screenshot %dx%d, %d bytes: want %d wide (less a scroll bar), at least 900 high, at least 20 kB", b.Dx(), b.Dy(), len(shot), width)
	}
	colours := map[[3]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 5 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
		}
	}
	if len(colours) < 8 {
		t.Fatalf("the screenshot has %d colours: the page looks blank", len(colours))
	}
}
