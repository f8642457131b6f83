package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse. It must never panic, and must
// return either a complete config or an ErrorList whose every entry names
// the file; a config must be deterministic and hold only valid enum values.
func FuzzParse(f *testing.F) {
	f.Add(defaultYAML)
	if files, _ := filepath.Glob("../examples/*.yaml"); files != nil {
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	for _, s := range []string{
		"",
		"~",
		"[]",
		"server: {lisen: x, max_body_bytes: 10MiB}",
		"policies:\n  analytics:\n    ip: {action: trunc, v4_prefix: 33}\n",
		"destinations:\n  - &d {name: a, type: file}\n  - <<: *d\n    name: b\n",
		"a: &a [*a]",
		"server: !!binary aGVsbG8=",
		"consent: {purposes: [analytics, ads], default: [ads]}\ndestinations: [{name: x, type: kafka, kafka: {brokers: [\"a:1\"], topic: t, sasl: {mechanism: plain}}}]",
		"policies: {ads: {<<: [*x]}}",
		"server:\n  listen: \":80\"\n---\nserver: {}\n",
		"sites: [{id: a, origins: [\"https://A.example/\"]}, {id: a}]",
		"spool: {max_bytes: 1, segment_bytes: 9999999TiB}",
		"pseudonym: {mode: derived, secret_file: /dev/null}",
		"destinations: [{name: h, type: http, http: {url: \"http://u:p@x\", headers: {\"a b\": \"c\\nd\"}}}]",
		// A byte-order mark, CRLF line ends, a tab indent, non-ASCII names.
		"\ufeffserver: {listen: \":80\"}\n",
		"server:\r\n  listen: \":80\"\r\ndestinations:\r\n  - {name: a, type: file}\r\n",
		"server:\n\tlisten: \":80\"\n",
		"destinations: [{name: größe, type: file}]\nsites: [{id: café, origins: [\"https://xn--caf-dma.example\"]}]",
	} {
		f.Add([]byte(s))
	}
	enumType := reflect.TypeFor[interface{ MarshalText() ([]byte, error) }]()
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			if c != nil {
				t.Fatal("config and error both returned")
			}
			var l ErrorList
			if !errors.As(err, &l) || len(l) == 0 {
				t.Fatalf("error is not a non-empty ErrorList: %v", err)
			}
			for _, e := range l {
				if e.File != "fuzz.yaml" || e.Msg == "" || !strings.HasPrefix(e.Error(), "fuzz.yaml") {
					t.Fatalf("bad FieldError %+v", e)
				}
				// The walker must catch whatever the strict decoder would,
				// with a better message; aliasing limits are the exception.
				if strings.HasPrefix(e.Msg, "yaml decoder: ") && !strings.Contains(e.Msg, "alias") {
					t.Fatalf("walker missed what the decoder found: %v", e)
				}
			}
			return
		}
		c2, err := Parse("fuzz.yaml", data)
		if err != nil || !reflect.DeepEqual(c, c2) {
			t.Fatalf("second parse differs: %v", err)
		}
		if len(c.Destinations) == 0 || c.Spool.Dir == "" || c.Server.Listen == "" {
			t.Fatalf("incomplete config: %+v", c)
		}
		// Every enum holds a named value.
		var walk func(v reflect.Value)
		walk = func(v reflect.Value) {
			if v.Type().Implements(enumType) && v.Kind() == reflect.Uint8 {
				if _, err := v.Interface().(interface{ MarshalText() ([]byte, error) }).MarshalText(); err != nil {
					t.Fatalf("enum %s holds %d", v.Type(), v.Uint())
				}
				return
			}
			switch v.Kind() {
			case reflect.Struct:
				for i := range v.NumField() {
					if v.Type().Field(i).IsExported() {
						walk(v.Field(i))
					}
				}
			case reflect.Slice:
				for i := range v.Len() {
					walk(v.Index(i))
				}
			}
		}
		walk(reflect.ValueOf(c).Elem())
	})
}
