package gateway

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// recordLine matches the route prefix of a record line: [all,retargeting].
var recordLine = regexp.MustCompile(`^\[[a-z,]*\]$`)

// TestGoldenRecordsMatchSchema checks that every key of every golden record,
// and of its ua and ble objects, is described in schema/record.schema.json,
// and that enum values are among the schema's: a new record field must be
// documented before it ships.
func TestGoldenRecordsMatchSchema(t *testing.T) {
	data, err := os.ReadFile("../schema/record.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	type prop struct {
		Enum       []any           `json:"enum"`
		Properties map[string]prop `json:"properties"`
	}
	var schema prop
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	var check func(where string, obj map[string]any, s prop)
	check = func(where string, obj map[string]any, s prop) {
		for k, v := range obj {
			p, ok := s.Properties[k]
			if !ok {
				t.Errorf("%s: key %q is not in the record schema", where, k)
				continue
			}
			if len(p.Enum) > 0 && !slices.Contains(p.Enum, v) {
				t.Errorf("%s: %s = %v is not one of %v", where, k, v, p.Enum)
			}
			if sub, ok := v.(map[string]any); ok && p.Properties != nil {
				check(where+"."+k, sub, p)
			}
		}
	}
	files, _ := filepath.Glob("testdata/golden/*.txt")
	records := 0
	for _, file := range files {
		content, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(content), "\n") {
			route, rec, _ := strings.Cut(line, " ")
			if !recordLine.MatchString(route) || !strings.HasPrefix(rec, "{") {
				continue // the request part
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(rec), &m); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			check(filepath.Base(file), m, schema)
			records++
		}
	}
	if records < 50 {
		t.Fatalf("checked %d golden records; want the whole golden set", records)
	}
}
