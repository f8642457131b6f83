package ropa

import (
	"bufio"
	"html/template"
	"io"
	"strings"
)

// WriteMarkdown writes the report as GitHub-flavoured Markdown. Every value
// taken from the config is escaped, so it renders as text: Markdown and HTML
// in a value are shown, never interpreted.
func (r *Report) WriteMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for i, b := range r.document().blocks {
		if i > 0 {
			bw.WriteByte('\n')
		}
		switch b.Kind {
		case kindHeading:
			if b.Level > 1 {
				// An explicit anchor, so that the table of contents links
				// work whatever slugs a renderer makes of headings. IDs are
				// [a-z0-9_-] only, never config text with markup.
				bw.WriteString(`<a id="` + b.ID + `"></a>` + "\n\n")
			}
			bw.WriteString(strings.Repeat("#", b.Level) + " " + mdInline(b.Text, false) + "\n")
		case kindTOC:
			bw.WriteString("**Contents**\n\n")
			mdTOC(bw, b.TOC, "")
		case kindPara:
			bw.WriteString(mdInline(b.Text, false) + "\n")
		case kindList:
			for _, it := range b.Items {
				bw.WriteString("- " + mdInline(it, false) + "\n")
			}
		case kindTable:
			bw.WriteString("|")
			for _, h := range b.Head {
				bw.WriteString(" " + mdText(h, true) + " |")
			}
			bw.WriteString("\n|")
			for range b.Head {
				bw.WriteString(" --- |")
			}
			bw.WriteString("\n")
			for _, row := range b.Rows {
				bw.WriteString("|")
				for _, c := range row {
					bw.WriteString(" " + mdInline(c, true) + " |")
				}
				bw.WriteString("\n")
			}
		}
	}
	return bw.Flush()
}

// mdTOC writes the table of contents as a nested list of links, the
// entries of each level indented two spaces under their parent.
func mdTOC(bw *bufio.Writer, toc []tocEntry, indent string) {
	for _, e := range toc {
		bw.WriteString(indent + "- [" + mdInline(e.Text, false) + "](#" + e.ID + ")\n")
		mdTOC(bw, e.Sub, indent+"  ")
	}
}

func mdInline(l inline, inTable bool) string {
	var b strings.Builder
	for _, s := range l {
		if s.Code {
			b.WriteString(mdCode(s.Text, inTable))
		} else {
			b.WriteString(mdText(s.Text, inTable))
		}
	}
	return b.String()
}

// mdText escapes plain text: Markdown punctuation gets a backslash, and
// <, > and & become entities so that no HTML in a value reaches a renderer.
func mdText(s string, inTable bool) string {
	var b strings.Builder
	for _, c := range flatten(s) {
		switch c {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\\', '`', '*', '_', '[', ']', '|', '#', '!':
			if c == '|' && !inTable {
				b.WriteRune(c)
				continue
			}
			b.WriteByte('\\')
			b.WriteRune(c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// mdCode writes s as a code span, whose content Markdown shows literally:
// the fence is one backtick longer than the longest run inside. In a table
// '|' still ends the cell, so it is escaped there (GFM removes the backslash).
func mdCode(s string, inTable bool) string {
	if strings.ContainsAny(s, "<>") {
		// Code spans are literal in CommonMark, but not every renderer
		// honours that for HTML; show such values as escaped text instead.
		return mdText(s, inTable)
	}
	s = flatten(s)
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	if inTable {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// flatten replaces line breaks and other control characters by spaces, so a
// value cannot end a table row or start a new block.
func flatten(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// WriteHTML writes the report as one self-contained HTML page (inline
// style, no scripts, no external assets; the only links are those of the
// table of contents to headings of the page). html/template escapes every value.
// The markup is also well-formed XML (XHTML), so it can be checked with any
// XML parser.
func (r *Report) WriteHTML(w io.Writer) error {
	source := r.Source
	if source == "" {
		source = "embedded default"
	}
	return htmlTemplate.Execute(w, struct {
		Title  string
		Blocks []block
	}{"Record of processing: beacongate (" + source + ", policy " + r.PolicyVersion + ")", r.document().blocks})
}

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{"wbr": wbr}).Parse(`<!DOCTYPE html>
<html lang="en" xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; line-height: 1.45; max-width: 75em; margin: 2em auto; padding: 0 1em; color: #1a1a1a; }
h1 { font-size: 1.7em; border-bottom: 2px solid #444; padding-bottom: .2em; }
h2 { font-size: 1.35em; margin-top: 2em; border-bottom: 1px solid #bbb; }
h3 { font-size: 1.1em; margin-top: 1.5em; }
table { border-collapse: collapse; margin: .8em 0; width: 100%; font-size: .92em; }
th, td { border: 1px solid #bbb; padding: .35em .5em; text-align: left; vertical-align: top; }
th { background: #eee; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; background: #f3f3f3; padding: 0 .2em; border-radius: 3px; }
nav ul { padding-left: 1.2em; margin: .3em 0; }
@media print { body { max-width: none; } h2 { page-break-after: avoid; } }
</style>
</head>
<body>
{{range .Blocks}}{{template "block" .}}
{{end}}</body>
</html>
{{define "toc"}}<ul>
{{range .}}<li><a href="#{{.ID}}">{{template "inline" .Text}}</a>{{if .Sub}}
{{template "toc" .Sub}}{{end}}</li>
{{end}}</ul>{{end}}
{{define "inline"}}{{range .}}{{if .Code}}<code>{{wbr .Text}}</code>{{else}}{{wbr .Text}}{{end}}{{end}}{{end}}
{{define "block"}}{{if eq .Kind "h"}}{{if eq .Level 1}}<h1 id="{{.ID}}">{{template "inline" .Text}}</h1>{{else if eq .Level 2}}<h2 id="{{.ID}}">{{template "inline" .Text}}</h2>{{else}}<h3 id="{{.ID}}">{{template "inline" .Text}}</h3>{{end}}
{{- else if eq .Kind "toc"}}<nav id="contents" aria-labelledby="contents-title">
<h2 id="contents-title">Contents</h2>
{{template "toc" .TOC}}
</nav>
{{- else if eq .Kind "p"}}<p>{{template "inline" .Text}}</p>
{{- else if eq .Kind "ul"}}<ul>
{{range .Items}}<li>{{template "inline" .}}</li>
{{end}}</ul>
{{- else if eq .Kind "table"}}<table>
<thead><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr>{{range .}}<td>{{template "inline" .}}</td>{{end}}</tr>
{{end}}</tbody>
</table>{{end}}{{end}}`))

// wbrMinLen is the length from which a token gets break points: a shorter
// one fits the narrowest column of the report's tables at a window 800 px
// wide (TestE2EReportInChromium), so it is never broken.
const wbrMinLen = 20

// wbr escapes s for HTML and marks, in each whitespace-separated token of
// at least wbrMinLen bytes, where it may wrap: after '/', ',', ':' and '_'
// and before '.', '?', '#', '&', '=' and '@', the points at which URLs,
// paths, host lists, dotted config keys and SNAKE_CASE names are broken by
// hand. Nothing else may wrap but whitespace and hyphens (the style sets no
// break-word rule), so a long token never breaks in the middle of a word,
// and never pushes its table out of the page either.
func wbr(s string) template.HTML {
	var b strings.Builder
	for len(s) > 0 {
		i := strings.IndexAny(s, " \t\n")
		tok, rest := s, ""
		if i >= 0 {
			tok, rest = s[:i], s[i:]
		}
		if len(tok) < wbrMinLen {
			b.WriteString(template.HTMLEscapeString(tok))
		} else {
			start := 0
			for j := 1; j < len(tok); j++ {
				if j > 1 && strings.IndexByte("/,:_", tok[j-1]) >= 0 && strings.IndexByte("/:_", tok[j]) < 0 ||
					strings.IndexByte(".?#&=@", tok[j]) >= 0 && strings.IndexByte("/.:", tok[j-1]) < 0 {
					b.WriteString(template.HTMLEscapeString(tok[start:j]))
					b.WriteString("<wbr />")
					start = j
				}
			}
			b.WriteString(template.HTMLEscapeString(tok[start:]))
		}
		if rest == "" {
			break
		}
		b.WriteString(template.HTMLEscapeString(rest[:1]))
		s = rest[1:]
	}
	return template.HTML(b.String())
}
