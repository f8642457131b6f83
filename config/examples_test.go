package config

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func exampleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil || len(files) < 3 {
		t.Fatalf("examples: %v, %v", files, err)
	}
	return files
}

// TestExamples parses every example config; each must be valid, point
// editors at the schema on its first line, and explain itself in comments.
func TestExamples(t *testing.T) {
	for _, path := range exampleFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			c, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(path)
			first, _, _ := bytes.Cut(data, []byte("\n"))
			if string(first) != "# yaml-language-server: $schema=../config.schema.json" {
				t.Fatalf("first line is %q; want the schema line", first)
			}
			comments := 0
			for s := bufio.NewScanner(bytes.NewReader(data)); s.Scan(); {
				if strings.Contains(s.Text(), "#") {
					comments++
				}
			}
			if comments < 15 {
				t.Fatalf("only %d commented lines; examples are for reading", comments)
			}
			t.Log(c.Summary())
		})
	}
	// What each example is for.
	shop, err := Load("../examples/shop-retargeting.yaml")
	if err != nil {
		t.Fatal(err)
	}
	platforms := map[DestinationType]bool{}
	partner := false
	for i := range shop.Destinations {
		d := &shop.Destinations[i]
		if !NewPurposeSet(d.Requires...).Has(PurposeAds) {
			continue
		}
		partner = partner || d.Type == DestinationHTTP || d.Type == DestinationKafka
		if d.Type.AdPlatform() && d.Policies.Ads.Contact == ContactHash && d.Policies.Ads.ClickIDs == ClickIDsKeep {
			platforms[d.Type] = true
		}
	}
	if !partner || len(platforms) != 3 {
		t.Fatalf("shop example: want an http or kafka partner requiring ads, and the three ad platforms hashing contact data and keeping click ids (have %v)", platforms)
	}
	ble, err := Load("../examples/retail-ble.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if ble.Destinations[0].Type != DestinationKafka || ble.Policies.None.DeviceID != IDDrop {
		t.Fatal("retail example: want kafka, and device ids dropped without consent")
	}
	web, err := Load("../examples/analytics-only.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if NewPurposeSet(web.Consent.Purposes...) != NewPurposeSet(PurposeAnalytics) {
		t.Fatal("analytics-only example uses more than analytics")
	}
}

// TestSchemaAcceptsExamples checks the committed schema against the files
// it describes, with a small validator for the keywords the generator
// emits: every example and the default must pass, and the mistakes the
// parser rejects structurally must fail.
func TestSchemaAcceptsExamples(t *testing.T) {
	raw, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	check := func(name string, data []byte) []string {
		var doc any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if doc == nil {
			doc = map[string]any{}
		}
		var problems []string
		validateSchema(schema, doc, "", &problems)
		return problems
	}
	files := append(exampleFiles(t), "default.yaml")
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if p := check(path, data); len(p) > 0 {
			t.Errorf("%s does not match the schema:\n%s", path, strings.Join(p, "\n"))
		}
	}
	f := func(src, want string) {
		t.Helper()
		p := check("bad", []byte(src))
		if len(p) == 0 || !strings.Contains(strings.Join(p, "\n"), want) {
			t.Errorf("schema problems for %q = %q; want one containing %q", src, p, want)
		}
	}
	f("server: {lisen: x}", "server: unexpected key lisen")
	f("policies: {analytics: {ip: {v4_prefix: 33}}}", "policies.analytics.ip.v4_prefix: 33 > maximum 32")
	f("policies: {none: {url: paht}}", "policies.none.url: paht not in enum")
	f("server: {read_timeout: 5}", "server.read_timeout: want string")
	f("server: {max_body_bytes: 1.5MiB}", "server.max_body_bytes: matches no anyOf")
	f("destinations: [{name: a}]", "destinations[0]: missing required type")
}

// validateSchema is a minimal JSON Schema validator for the keywords in
// config.schema.json.
func validateSchema(s map[string]any, v any, path string, problems *[]string) {
	add := func(format string, args ...any) {
		*problems = append(*problems, path+": "+fmt.Sprintf(format, args...))
	}
	if anyOf, ok := s["anyOf"].([]any); ok {
		for _, sub := range anyOf {
			var p []string
			validateSchema(sub.(map[string]any), v, path, &p)
			if len(p) == 0 {
				return
			}
		}
		add("matches no anyOf")
		return
	}
	if e, ok := s["enum"].([]any); ok {
		found := false
		for _, x := range e {
			if reflect.DeepEqual(x, v) {
				found = true
			}
		}
		if !found {
			add("%v not in enum %v", v, e)
		}
	}
	num := func() (float64, bool) {
		switch x := v.(type) {
		case int:
			return float64(x), true
		case float64:
			return x, true
		}
		return 0, false
	}
	switch s["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			add("want object, got %T", v)
			return
		}
		props, _ := s["properties"].(map[string]any)
		for k, val := range m {
			if ps, ok := props[k].(map[string]any); ok {
				validateSchema(ps, val, joinPath(path, k), problems)
			} else if ap, ok := s["additionalProperties"].(map[string]any); ok {
				validateSchema(ap, val, joinPath(path, k), problems)
			} else if s["additionalProperties"] == false {
				add("unexpected key %s", k)
			}
		}
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, ok := m[r.(string)]; !ok {
				add("missing required %s", r)
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			add("want array, got %T", v)
			return
		}
		for i, x := range a {
			validateSchema(s["items"].(map[string]any), x, itemPath(path, i), problems)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			add("want string, got %T", v)
			return
		}
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			add("%q does not match %s", str, p)
		}
		if ml, ok := s["maxLength"].(float64); ok && float64(len(str)) > ml {
			add("longer than %v", ml)
		}
	case "integer", "number":
		n, ok := num()
		if !ok || (s["type"] == "integer" && n != float64(int64(n))) {
			add("want %s, got %v", s["type"], v)
			return
		}
		if mx, ok := s["maximum"].(float64); ok && n > mx {
			add("%v > maximum %v", v, mx)
		}
		if mn, ok := s["minimum"].(float64); ok && n < mn {
			add("%v < minimum %v", v, mn)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			add("want boolean, got %T", v)
		}
	}
}
