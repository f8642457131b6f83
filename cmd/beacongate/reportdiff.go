package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/beacongate/beacongate/config"
)

// writeReportDiff writes what changed between the records of processing of
// two configs, in the report's own words: per section, the statements that
// are no longer true and the ones that now are. The report is generated
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
	changed := false
	for _, s := range mergeOrder(oldSec.order, newSec.order) {
		if s == "(top)" {
			continue // file names, versions and generation time: in the heading above
		}
		gone := missing(oldSec.lines[s], newSec.lines[s])
		added := missing(newSec.lines[s], oldSec.lines[s])
		if len(gone) == 0 && len(added) == 0 {
			continue
		}
		changed = true
		fmt.Fprintf(w, "\n## %s\n", s)
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

type sections struct {
	order []string
	lines map[string][]string
}

// reportSections splits a Markdown report at its "## " headings. The
// table of contents is in the top section, which the diff leaves out.
func reportSections(md string) sections {
	s := sections{lines: map[string][]string{}}
	cur := "(top)"
	s.order = append(s.order, cur)
	for _, l := range strings.Split(md, "\n") {
		if h, ok := strings.CutPrefix(l, "## "); ok {
			cur = h
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

// mergeOrder lists the sections of a, then those only in b.
func mergeOrder(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string{}, a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
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
