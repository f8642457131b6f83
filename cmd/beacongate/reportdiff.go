package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/beacongate/beacongate/config"
)

// writeReportDiff writes what changed between the records of processing of
// two configs, in the report's own words: per section (and per consent
// state or recipient within it), the statements that are no longer true
// and the ones that now are. The report is generated
// from the config, so a change of policy shows as the sentences and table
// rows it changes.
func writeReportDiff(w io.Writer, oldCfg, newCfg *config.Config, oldName, newName string) error {
	oldR, err := buildReport(oldCfg)
	if err != nil {
		return fmt.Errorf("%s: %w", oldName, err)
	}
	newR, err := buildReport(newCfg)
	if err != nil {
		return fmt.Errorf("%s: %w", newName, err)
	}
	var ob, nb bytes.Buffer
	if err := oldR.WriteMarkdown(&ob); err != nil {
		return err
	}
	if err := newR.WriteMarkdown(&nb); err != nil {
		return err
	}
	fmt.Fprintf(w, "# Changes to the record of processing\n\nfrom %s (policy version %s) to %s (policy version %s)\n",
		oldName, oldR.PolicyVersion, newName, newR.PolicyVersion)
	oldSec, newSec := reportSections(ob.String()), reportSections(nb.String())
	changed, shown := false, ""
	for _, s := range mergeOrder(oldSec.order, newSec.order) {
		if s.section == "(top)" {
			continue // file names, versions and generation time: in the heading above
		}
		gone := missing(oldSec.lines[s], newSec.lines[s])
		added := missing(newSec.lines[s], oldSec.lines[s])
		if len(gone) == 0 && len(added) == 0 {
			continue
		}
		if !changed || s.section != shown {
			fmt.Fprintf(w, "\n## %s\n", s.section)
			shown = s.section
		}
		changed = true
		// A statement of a state or a recipient reads the same in every
		// state or recipient ("| IP address | ... | ip: drop |"): its
		// subsection says which one it is about.
		if s.sub != "" {
			fmt.Fprintf(w, "\n### %s\n", s.sub)
		}
		for _, l := range gone {
			fmt.Fprintf(w, "\n- no longer: %s", l)
		}
		for _, l := range added {
			fmt.Fprintf(w, "\n- now: %s", l)
		}
		fmt.Fprintln(w)
	}
	if !changed {
		fmt.Fprintln(w, "\nNo change: both configs give the same record of processing.")
	}
	return nil
}

// part is a section ("## " heading) of the report, or one of its
// subsections ("### ", sub), such as a consent state or a recipient.
type part struct{ section, sub string }

type sections struct {
	order []part
	lines map[part][]string
}

// reportSections splits a Markdown report at its "## " and "### "
// headings. A subsection's heading is a statement of its section (a
// recipient added or removed shows as its heading), and its lines are the
// subsection's, so that the same line under two consent states or two
// recipients is told apart. The table of contents is in the top section,
// which the diff leaves out.
func reportSections(md string) sections {
	s := sections{lines: map[part][]string{}}
	cur := part{section: "(top)"}
	s.order = append(s.order, cur)
	for _, l := range strings.Split(md, "\n") {
		if h, ok := strings.CutPrefix(l, "## "); ok {
			cur = part{section: h}
			s.order = append(s.order, cur)
			continue
		}
		if h, ok := strings.CutPrefix(l, "### "); ok {
			top := part{section: cur.section}
			s.lines[top] = append(s.lines[top], strings.TrimSpace(l))
			cur = part{section: cur.section, sub: h}
			s.order = append(s.order, cur)
			continue
		}
		// Anchors (<a id>) are layout: a new heading shows as itself.
		if t := strings.TrimSpace(l); t != "" && strings.Trim(t, "|-: ") != "" && !strings.HasPrefix(t, "Policy version") && !strings.HasPrefix(t, `<a id="`) {
			s.lines[cur] = append(s.lines[cur], t)
		}
	}
	return s
}

// mergeOrder lists the parts of a, then those only in b, each after the
// last part of its section listed before it, so that a section's parts
// stay together.
func mergeOrder(a, b []part) []part {
	seen := map[part]bool{}
	var out []part
	for _, p := range a {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, p := range b {
		if seen[p] {
			continue
		}
		seen[p] = true
		at := len(out)
		for i := len(out) - 1; i >= 0; i-- {
			if out[i].section == p.section {
				at = i + 1
				break
			}
		}
		out = append(out[:at], append([]part{p}, out[at:]...)...)
	}
	return out
}

// missing returns the lines of a that are not in b, in a's order.
func missing(a, b []string) []string {
	in := map[string]int{}
	for _, l := range b {
		in[l]++
	}
	var out []string
	for _, l := range a {
		if in[l] > 0 {
			in[l]--
			continue
		}
		out = append(out, l)
	}
	return out
}
