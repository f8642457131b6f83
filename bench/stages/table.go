package stages

import (
	"bytes"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Row is one line of the budget: a benchmark of a stage, or a stage with
// none (Bench nil, shown as missing).
type Row struct {
	Stage Stage
	Bench *Bench
}

// Rows orders the benchmarks by stage, in the order of the Stage constants
// (so the whole per-request path comes after the stages and unmapped
// benchmarks last), keeping go test's order within a stage. Every stage
// before Unmapped gets at least one row.
func Rows(benches []Bench) []Row {
	by := map[Stage][]*Bench{}
	for i := range benches {
		b := &benches[i]
		s := Classify(b.Name, b.Pkg)
		by[s] = append(by[s], b)
	}
	var rows []Row
	for s := ParsePixel; s <= Unmapped; s++ {
		if len(by[s]) == 0 && s != Unmapped {
			rows = append(rows, Row{Stage: s})
		}
		for _, b := range by[s] {
			rows = append(rows, Row{Stage: s, Bench: b})
		}
	}
	return rows
}

// Header is the provenance printed above the table.
type Header struct {
	Command string // the command that produced the table
	Date    string
	Machine string
	Notes   []string
}

// AppendMarkdown appends the budget as a Markdown document to dst.
func AppendMarkdown(dst []byte, out Output, h Header) []byte {
	b := bytes.NewBuffer(dst)
	b.WriteString("# Per-stage budget\n\n")
	fmt.Fprintf(b, "Produced by `%s` on %s.  \nMachine: %s.\n\n", h.Command, h.Date, h.Machine)
	for _, n := range h.Notes {
		fmt.Fprintf(b, "%s\n\n", n)
	}
	b.WriteString("Each row is one Go benchmark (`go test -bench . -benchmem`): time and allocations per operation of that stage alone. " +
		"The whole per-request path is measured by its own benchmarks at the bottom, not summed from the rows above.\n\n")
	b.WriteString("| stage | benchmark | package | ns/op | B/op | allocs/op | other |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---|\n")
	rows := Rows(out.Benches)
	unmapped := false
	for _, r := range rows {
		if r.Stage == Unmapped {
			unmapped = true
			continue
		}
		stage := r.Stage.String()
		if r.Stage == WholePath {
			stage = "**" + stage + "**"
		}
		if r.Bench == nil {
			fmt.Fprintf(b, "| %s | missing | | | | | |\n", stage)
			continue
		}
		writeRow(b, stage, r.Bench)
	}
	if unmapped {
		b.WriteString("\n## Benchmarks not mapped to a stage\n\n")
		b.WriteString("| benchmark | package | ns/op | B/op | allocs/op | other |\n|---|---|---:|---:|---:|---|\n")
		for _, r := range rows {
			if r.Stage == Unmapped {
				var line bytes.Buffer
				writeRow(&line, "", r.Bench)
				b.Write(bytes.TrimPrefix(line.Bytes(), []byte("|  ")))
			}
		}
	}
	if len(out.Failed) > 0 || len(out.NoBench) > 0 {
		b.WriteString("\n## Packages without figures\n\n")
		for _, f := range out.Failed {
			fmt.Fprintf(b, "- failed: `%s`\n", strings.ReplaceAll(f, "\t", " "))
		}
		for _, p := range out.NoBench {
			fmt.Fprintf(b, "- no benchmarks: `%s`\n", p)
		}
	}
	return b.Bytes()
}

func writeRow(b *bytes.Buffer, stage string, x *Bench) {
	name := x.Name
	if x.Procs > 0 {
		name += "-" + strconv.Itoa(x.Procs)
	}
	bop, allocs := "n/a", "n/a"
	if x.HasMem {
		bop, allocs = num(x.BOp), num(x.Allocs)
	}
	var extra []string
	for _, m := range x.Extra {
		extra = append(extra, num(m.Value)+" "+m.Unit)
	}
	slices.Sort(extra)
	fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", stage, mdEscape(name), shortPkg(x.Pkg), num(x.NsOp), bop, allocs, strings.Join(extra, ", "))
}

// shortPkg drops the module path: github.com/beacongate/beacongate/anonymize/geo → anonymize/geo.
func shortPkg(p string) string {
	const module = "github.com/beacongate/beacongate/"
	if s, ok := strings.CutPrefix(p, module); ok {
		return s
	}
	if p == "" {
		return "?"
	}
	return path.Base(p)
}

// num prints a figure with up to 3 significant decimals and no exponent.
func num(v float64) string {
	switch {
	case v >= 100 || v == float64(int64(v)):
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
