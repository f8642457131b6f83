package ropa

import "strings"

// The document model: both renderers walk the same blocks, so the Markdown
// and the HTML say exactly the same thing. Text is held as spans, plain or
// code, and each renderer escapes every span for its own format.

// span is a run of text; Code marks config keys, values and file names.
type span struct {
	Text string
	Code bool
}

// inline is a line of text made of spans.
type inline []span

// line builds an inline from strings (plain text) and code values.
func line(parts ...any) inline {
	l := make(inline, 0, len(parts))
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			if v != "" {
				l = append(l, span{Text: v})
			}
		case code:
			l = append(l, span{Text: string(v), Code: true})
		case inline:
			l = append(l, v...)
		}
	}
	return l
}

// code is a value shown as code.
type code string

// codeList joins values as code spans separated by ", ", or "none".
func codeList(vals []string) inline {
	if len(vals) == 0 {
		return line("none")
	}
	var l inline
	for i, v := range vals {
		if i > 0 {
			l = append(l, span{Text: ", "})
		}
		l = append(l, span{Text: v, Code: true})
	}
	return l
}

// Block kinds. They are strings so the HTML template can compare them.
const (
	kindHeading = "h"
	kindPara    = "p"
	kindList    = "ul"
	kindTable   = "table"
	kindTOC     = "toc"
)

// block is one heading, paragraph, list or table.
type block struct {
	Kind  string
	Level int    // heading level, 1..3
	ID    string // heading anchor, [a-z0-9_-] only (anchorID)
	Text  inline // heading and paragraph
	Items []inline
	Head  []string
	Rows  [][]inline
	TOC   []tocEntry // table of contents
}

// tocEntry is one heading in the table of contents, with the headings of
// the next level below it.
type tocEntry struct {
	ID   string
	Text inline
	Sub  []tocEntry
}

// doc collects blocks.
type doc struct{ blocks []block }

func (d *doc) heading(level int, id string, text ...any) {
	d.blocks = append(d.blocks, block{Kind: kindHeading, Level: level, ID: anchorID(id), Text: line(text...)})
}

// anchorID keeps an anchor to [a-z0-9_-], the characters of destination
// names, replacing any other by '-': config validation guarantees them,
// and the Markdown writes the anchor as raw HTML, so the renderer must not
// trust that.
func anchorID(id string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '-'
	}, id)
}

// contents inserts, at block index at, a table of contents of every
// heading of levels 2 and 3 from there on. Call it once the document is
// complete.
func (d *doc) contents(at int) {
	var toc []tocEntry
	for _, b := range d.blocks[at:] {
		switch {
		case b.Kind != kindHeading:
		case b.Level == 2 || len(toc) == 0:
			toc = append(toc, tocEntry{ID: b.ID, Text: b.Text})
		case b.Level == 3:
			last := &toc[len(toc)-1]
			last.Sub = append(last.Sub, tocEntry{ID: b.ID, Text: b.Text})
		}
	}
	d.blocks = append(d.blocks[:at], append([]block{{Kind: kindTOC, TOC: toc}}, d.blocks[at:]...)...)
}

func (d *doc) para(text ...any) {
	d.blocks = append(d.blocks, block{Kind: kindPara, Text: line(text...)})
}

func (d *doc) list(items ...inline) {
	d.blocks = append(d.blocks, block{Kind: kindList, Items: items})
}

func (d *doc) table(head []string, rows [][]inline) {
	d.blocks = append(d.blocks, block{Kind: kindTable, Head: head, Rows: rows})
}
