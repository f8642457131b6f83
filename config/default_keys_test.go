package config

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// typeKeyPaths lists the key paths a config file can write for type t
// ("server.listen", "destinations[].batch.max_age"): a struct's fields by
// their yaml tags, down to the values a file writes whole (scalars, the
// types that read themselves, lists and maps; the entries of a list of
// structs too, as name[].key).
func typeKeyPaths(t reflect.Type, prefix string, out *[]string) {
	unmarshaler := reflect.TypeFor[yaml.Unmarshaler]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		p := prefix + name
		ft := f.Type
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && !reflect.PointerTo(ft.Elem()).Implements(unmarshaler) {
			*out = append(*out, p)
			typeKeyPaths(ft.Elem(), p+"[].", out)
			continue
		}
		if ft.Kind() == reflect.Struct && !reflect.PointerTo(ft).Implements(unmarshaler) {
			*out = append(*out, p)
			typeKeyPaths(ft, p+".", out)
			continue
		}
		*out = append(*out, p)
	}
}

// commentedKey is a key default.yaml writes as a comment, since writing
// it would be an error ("has no effect with ...") or its default depends
// on another key: "  # dir: <data_dir>/spool".
var commentedKey = regexp.MustCompile(`(?m)^(\s*)# ([a-z_]+:\s)`)

// nodeKeyPaths lists the key paths present in a YAML node tree.
func nodeKeyPaths(n *yaml.Node, prefix string, out map[string]bool) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			nodeKeyPaths(c, prefix, out)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := prefix + n.Content[i].Value
			out[p] = true
			nodeKeyPaths(n.Content[i+1], p+".", out)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			nodeKeyPaths(c, strings.TrimSuffix(prefix, ".")+"[].", out)
		}
	}
}

// TestDefaultYAMLSpellsOutEveryKey: default.yaml, which "beacongate config
// default" prints and docs/config.md calls the built-in defaults written
// out, writes every key a config can set, with its default value (or, for
// a key that would be an error there or whose default depends on another
// key, as a comment). It lacked the whole privacy section (an audit log is
// written by default, which its reader could not see), the server's
// drain_delay, shutdown_timeout, max_conns and admin_token_file,
// consent.priority, tcf.gvl_file, the pseudonym secret, the spool's
// fsync_max_delay, gather_window and block_timeout, ble.beacons, scan's
// path-shape limits and the policies' contact and click_ids. Left out: the
// settings of destination types other than file, which a file destination
// may not carry, a destination's own policies (absent: the site-wide
// ones), its vendor declarations (it is no TCF vendor) and a site's keys
// (no site is listed).
func TestDefaultYAMLSpellsOutEveryKey(t *testing.T) {
	var want []string
	typeKeyPaths(reflect.TypeFor[Config](), "", &want)
	skip := func(p string) bool {
		for _, pre := range []string{
			"sites[].",
			"destinations[].http", "destinations[].kafka", "destinations[].nats",
			"destinations[].meta_capi", "destinations[].ga4", "destinations[].tiktok",
			"destinations[].policies",
		} {
			if strings.HasPrefix(p, pre) {
				return true
			}
		}
		if t, ok := strings.CutPrefix(p, "destinations[].tcf."); ok && t != "without_vendor" {
			return true
		}
		// v4_prefix and v6_prefix have no effect with ip.action: drop.
		return p == "policies.none.ip.v4_prefix" || p == "policies.none.ip.v6_prefix"
	}
	src := commentedKey.ReplaceAll(DefaultYAML(), []byte("$1$2"))
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatalf("default.yaml with its commented keys written out: %v", err)
	}
	have := map[string]bool{}
	nodeKeyPaths(&doc, "", have)
	if len(want) < 150 {
		t.Fatalf("found only %d keys in the Config type", len(want))
	}
	var missing []string
	for _, p := range want {
		if !skip(p) && !have[p] {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		t.Errorf("default.yaml does not write %d keys: %s", len(missing), strings.Join(missing, ", "))
	}
	// And nothing else: every key written is one of the Config type's.
	for p := range have {
		if !slices.Contains(want, p) {
			t.Errorf("default.yaml writes %s, which is no key of the config", p)
		}
	}
}
