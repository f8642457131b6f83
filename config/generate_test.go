package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"text/template"

	"github.com/invopop/jsonschema"
	"go.yaml.in/yaml/v3"
)

// The JSON Schema and the reference document are generated from the Go
// types, their field comments and builtin(). Run
//
//	go generate ./config
//
// after changing any of them; TestGeneratedFiles fails until you do.

var update = flag.Bool("update", false, "rewrite ../config.schema.json and ../docs/config.md")

const (
	schemaFile = "../config.schema.json"
	docFile    = "../docs/config.md"
	schemaID   = "https://raw.githubusercontent.com/beacongate/beacongate/main/config.schema.json"
)

func TestGeneratedFiles(t *testing.T) {
	schema, err := generateSchema()
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.MarshalIndent(schema, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	js = append(js, '\n')
	doc, err := generateDoc(schema)
	if err != nil {
		t.Fatal(err)
	}
	f := func(path string, want []byte) {
		t.Helper()
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v; run: go generate ./config", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date with the Go types; run: go generate ./config", path)
		}
	}
	f(schemaFile, js)
	f(docFile, doc)
}

func generateSchema() (*jsonschema.Schema, error) {
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		DoNotReference:             true, // each policy gets its own defaults
		RequiredFromJSONSchemaTags: true, // a key is required only if tagged so
		ExpandedStruct:             true,
	}
	if err := r.AddGoComments("github.com/beacongate/beacongate/config", "./"); err != nil {
		return nil, err
	}
	s := r.Reflect(&Config{})
	s.ID = schemaID
	s.Title = "beacongate configuration"
	s.Description = "One beacongate config file. Every key is optional; a key left out gets its default. See docs/config.md."
	if err := setDefaults(s, reflect.ValueOf(builtin())); err != nil {
		return nil, err
	}
	return s, nil
}

// plainValue turns a Go config value into what the YAML file would say, as
// JSON-compatible data.
func plainValue(v reflect.Value) (any, error) {
	b, err := yaml.Marshal(v.Interface())
	if err != nil {
		return nil, err
	}
	var out any
	if err := yaml.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func setDefaults(s *jsonschema.Schema, v reflect.Value) error {
	t := v.Type()
	switch {
	case t.Kind() == reflect.Struct && !isScalarType(t):
		for _, f := range fieldsOf(t) {
			p, ok := s.Properties.Get(f.name)
			if !ok {
				return fmt.Errorf("schema has no property %s in %s", f.name, t)
			}
			if f.required {
				continue // no default: the file must say it
			}
			if t == reflect.TypeFor[Destination]() && f.name == "policies" {
				continue // no default of its own: the site-wide policies (inheritPolicies)
			}
			if err := setDefaults(p, v.Field(f.index)); err != nil {
				return err
			}
		}
		return nil
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct && !isScalarType(t.Elem()):
		if t.Elem() == reflect.TypeFor[Destination]() {
			return setDefaults(s.Items, itemDefault(t.Elem()))
		}
		return nil
	}
	d, err := plainValue(v)
	if err != nil {
		return err
	}
	if d == nil { // empty list or map
		if t.Kind() == reflect.Map {
			d = map[string]any{}
		} else {
			d = []any{}
		}
	}
	s.Default = d
	return nil
}

// docRow is one key in the reference.
type docRow struct {
	Key, Type, Default, Text string
	Defaults                 []string // per policy, in the policies table
}

func generateDoc(schema *jsonschema.Schema) ([]byte, error) {
	tmpl, err := template.ParseFiles("testdata/config.md.tmpl")
	if err != nil {
		return nil, err
	}
	type section struct {
		Key, Text string
		Rows      []docRow
	}
	var data struct {
		Sections []section
		Policies []docRow
	}
	cfg := reflect.TypeFor[Config]()
	for _, f := range fieldsOf(cfg) {
		p, _ := schema.Properties.Get(f.name)
		sec := section{Key: f.name, Text: oneLine(p.Description)}
		if f.name == "policies" {
			data.Sections = append(data.Sections, sec)
			continue
		}
		rows, err := docRows(f.name, f.typ, p)
		if err != nil {
			return nil, err
		}
		for i := range rows {
			// A destination's policies follow the site-wide ones key by
			// key (inheritPolicies).
			if rest, ok := strings.CutPrefix(rows[i].Key, "destinations[].policies."); ok {
				rows[i].Default = "as `policies." + rest + "`"
				if strings.HasSuffix(rest, ".http_clients") {
					rows[i].Default += "; `drop` (the only value) for meta_capi and tiktok"
				}
			}
		}
		sec.Rows = rows
		data.Sections = append(data.Sections, sec)
	}
	// One table for the three policies, side by side.
	pols, _ := schema.Properties.Get("policies")
	var cols [][]docRow
	for _, name := range policyNames {
		p, _ := pols.Properties.Get(name)
		rows, err := docRows("", reflect.TypeFor[Policy](), p)
		if err != nil {
			return nil, err
		}
		cols = append(cols, rows)
	}
	for i, r := range cols[0] {
		r.Defaults = []string{cols[0][i].Default, cols[1][i].Default, cols[2][i].Default}
		data.Policies = append(data.Policies, r)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// docRows lists the leaf keys under path, depth first, in field order.
func docRows(path string, t reflect.Type, s *jsonschema.Schema) ([]docRow, error) {
	if s == nil {
		return nil, fmt.Errorf("no schema for %s", path)
	}
	switch {
	case t.Kind() == reflect.Struct && !isScalarType(t):
		var rows []docRow
		for _, f := range fieldsOf(t) {
			p, _ := s.Properties.Get(f.name)
			r, err := docRows(joinPath(path, f.name), f.typ, p)
			if err != nil {
				return nil, err
			}
			if f.required && len(r) == 1 {
				r[0].Type += ", required"
			}
			rows = append(rows, r...)
		}
		return rows, nil
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct && !isScalarType(t.Elem()):
		return docRows(path+"[]", t.Elem(), s.Items)
	case t.Kind() == reflect.Map && t.Elem().Kind() == reflect.Struct && !isScalarType(t.Elem()):
		// The map's own row, then the keys of each of its values.
		row := docRow{Key: path, Type: typeLabel(t, s), Text: oneLine(s.Description)}
		if s.Default != nil {
			row.Default = "`" + flowValue(s.Default) + "`"
		}
		rows, err := docRows(path+".NAME", t.Elem(), s.AdditionalProperties)
		return append([]docRow{row}, rows...), err
	}
	row := docRow{Key: path, Type: typeLabel(t, s), Text: oneLine(s.Description)}
	if s.Default != nil {
		row.Default = "`" + flowValue(s.Default) + "`"
	}
	return []docRow{row}, nil
}

func typeLabel(t reflect.Type, s *jsonschema.Schema) string {
	if len(s.Enum) > 0 {
		var names []string
		for _, e := range s.Enum {
			names = append(names, fmt.Sprint(e))
		}
		return strings.Join(names, " \\| ")
	}
	rng := ""
	if s.Minimum != "" || s.Maximum != "" {
		rng = " " + string(s.Minimum) + ".." + string(s.Maximum)
	}
	switch t {
	case reflect.TypeFor[Duration]():
		return "duration"
	case reflect.TypeFor[ByteSize]():
		return "size"
	case reflect.TypeFor[CIDR]():
		return "CIDR"
	}
	switch t.Kind() {
	case reflect.Slice:
		return "list of " + typeLabel(t.Elem(), s.Items)
	case reflect.Map:
		if t.Elem().Kind() == reflect.Struct && !isScalarType(t.Elem()) {
			return "map of mappings"
		}
		return "map of " + typeLabel(t.Elem(), s.AdditionalProperties)
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "boolean"
	case reflect.Float64:
		return "number" + rng
	}
	return "integer" + rng
}

// flowValue writes v as YAML flow style, as it would appear in the file.
func flowValue(v any) string {
	switch x := v.(type) {
	case string:
		var probe any
		if x == "" || yaml.Unmarshal([]byte(x), &probe) != nil || probe != x || strings.ContainsAny(x, ":#{}[],&*!|>'\"%@`") {
			return strconv.Quote(x)
		}
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = flowValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		if len(x) == 0 {
			return "{}"
		}
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.NewReplacer("|", "\\|", "<", "&lt;", ">", "&gt;").Replace(s)
}

// TestDocRetentionAndMaps: the reference called privacy.retention, a map
// of durations, and privacy.recipients, a map of mappings, both "map of
// text", listed no key of a recipient, and gave no range for the four
// retention keys, which config check holds to 1h..3660d: a reader wrote
// local: 30m, or a recipient as a line of text, and learnt the rules
// from the error. Each now says what it takes.
func TestDocRetentionAndMaps(t *testing.T) {
	schema, err := generateSchema()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := generateDoc(schema)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(doc), "\n") {
		if rest, ok := strings.CutPrefix(line, "| `"); ok {
			if key, _, ok := strings.Cut(rest, "`"); ok {
				rows[key] = line
			}
		}
	}
	for key, want := range map[string]string{
		"privacy.retention":                "| map of duration |",
		"privacy.legal_basis":              "| map of text |",
		"privacy.recipients":               "| map of mappings |",
		"privacy.recipients.NAME.role":     "processor, joint_controller or independent_controller",
		"privacy.recipients.NAME.country":  "| text |",
		"privacy.recipients.NAME.transfer": "| text |",
		"privacy.dead_letter_retention":    "(1h..3660d)",
		"privacy.quarantine_retention":     "(1h..3660d)",
		"privacy.key_retention":            "(1h..3660d)",
	} {
		if !strings.Contains(rows[key], want) {
			t.Errorf("row of %s lacks %q: %q", key, want, rows[key])
		}
	}
	if !strings.Contains(rows["privacy.retention"], "1h..3660d") {
		t.Errorf("privacy.retention gives no range: %q", rows["privacy.retention"])
	}
	if got := Duration(maxRetention).String(); got != "87840h" { // 3660d, as the docs say
		t.Errorf("maxRetention is %s, not 3660d", got)
	}
}
