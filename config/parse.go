package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize is the largest config file Load and Parse accept. A real
// config is a few KiB; the cap keeps a wrong path (a log file, a database)
// from being read into memory.
const MaxFileSize = 1 << 20

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the embedded default config file, comments included.
// The caller may modify the returned slice.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }

var defaultOnce = sync.OnceValues(func() (*Config, error) { return Parse("default.yaml", defaultYAML) })

// Default returns the embedded default config: strict (nothing personal
// without consent) and writing to one local file destination. Each call
// returns a new Config, which the caller owns.
func Default() *Config {
	c, err := defaultOnce()
	if err != nil {
		// default.yaml is embedded and tested; this is a build defect.
		panic("config: embedded default.yaml is invalid: " + err.Error())
	}
	c = c.clone()
	c.source = "" // no file of that name exists where the gateway runs
	return c
}

// Load reads and parses the config file at path; see Parse.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read config %q: %w", path, err)
	}
	return Parse(path, data)
}

// Parse decodes and checks one config file. name is used in messages only.
//
// Parse decodes strictly: unknown keys, wrong types and out-of-range values
// are errors, as are contradictions between settings. It reports every
// problem it finds, not just the first, as an ErrorList whose entries read
// "name:line:column: key.path: what is wrong; what is allowed". Keys the file
// does not mention get their defaults; the returned Config is complete.
//
// Parse reads the secret files the config names, if they exist, to check
// that they are private; it reads nothing else.
func Parse(name string, data []byte) (*Config, error) {
	if len(data) > MaxFileSize {
		return nil, ErrorList{{File: name, Msg: fmt.Sprintf("file is larger than %d bytes; is this the right file?", MaxFileSize)}}
	}
	w := newWalker(name)
	root, errs := parseDocument(name, data)
	if errs != nil {
		return nil, errs
	}
	cfgType := reflect.TypeFor[Config]()
	if root != nil {
		w.walk(root, cfgType, "", nil)
	}

	c := new(Config)
	if len(w.errs) == 0 && len(w.tooLarge) == 0 {
		// The walker found nothing wrong, so the strict decoder should not
		// either; if it does, its messages still carry line numbers.
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(c); err != nil && err != io.EOF {
			return nil, decodeErrors(name, err)
		}
	} else if root != nil {
		// The walker removed what it could not use; decode the rest so the
		// semantic checks below can still report their problems too.
		_ = root.Decode(c)
	}
	fillDefaults(reflect.ValueOf(c).Elem(), reflect.ValueOf(builtin()), "", w.idx.has)
	c.deriveDirs()
	c.inheritPolicies(w.idx.has)
	if !w.idx.has("spool.pixel_when_full") {
		c.Spool.PixelWhenFull = c.Spool.WhenFull // its documented default
	}
	if !w.idx.has("spool.segment_bytes") && c.Spool.Durability == DurabilityFsync {
		// Its documented default: fsync durability does not recycle
		// segments, and syncs the directory once per segment.
		c.Spool.SegmentBytes = FsyncSegmentBytes
	}

	v := &validator{file: name, idx: &w.idx, tooLarge: w.tooLarge}
	v.validate(c)
	for _, e := range v.tooLarge { // those no range check named: the type's own maximum
		v.errs = append(v.errs, e)
	}
	all := sortErrors(append(w.errs, v.errs...))
	if len(all) > 0 {
		return nil, all
	}
	c.source = name
	c.empty = root == nil
	c.notes = v.notes
	return c, nil
}

// inheritPolicies fills every key of a destination's policies that the file
// does not set from the site-wide policies, so a destination's policies are
// complete and differ from the site-wide ones only where the file says so.
// One exception: a meta_capi or tiktok destination's http_clients is drop
// (validate refuses another value), since neither platform takes the app
// events those records make (the engine routes none there, whatever the
// site; see plan.Policy.NoAppEvents).
func (c *Config) inheritPolicies(present func(string) bool) {
	site := reflect.ValueOf(c.Policies)
	for i := range c.Destinations {
		d := &c.Destinations[i]
		path := itemPath("destinations", i) + ".policies"
		fillDefaults(reflect.ValueOf(&d.Policies).Elem(), site, path, present)
		if d.Type != DestinationMetaCAPI && d.Type != DestinationTikTok {
			continue
		}
		for _, st := range []struct {
			name string
			p    *Policy
		}{{"none", &d.Policies.None}, {"analytics", &d.Policies.Analytics}, {"ads", &d.Policies.Ads}} {
			if !present(path + "." + st.name + ".http_clients") {
				st.p.HTTPClients = BotsDrop
			}
		}
	}
}

// parseDocument returns the root node of the only document in data, or nil
// for an empty file.
func parseDocument(name string, data []byte) (*yaml.Node, ErrorList) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, nil
		}
		return nil, ErrorList{tabHint(syntaxError(name, err), data)}
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, ErrorList{{File: name, Line: extra.Line, Column: extra.Column,
			Msg: "a second YAML document starts here; a config file holds one (remove the --- line)"}}
	case err != io.EOF:
		return nil, ErrorList{syntaxError(name, err)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if isNull(root) {
		return nil, nil
	}
	return root, nil
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yaml.v3 numbers the lines of its parser's syntax errors from 0 and those
// of its scanner from 1, and gives no line for either when it is 0. These
// are all its parser's problems and its scanner's (its other errors, such
// as an unknown anchor, have no line).
var (
	yamlParserProblems = map[string]bool{
		"did not find expected <stream-start>": true, "did not find expected <document start>": true,
		"found undefined tag handle": true, "did not find expected node content": true,
		"did not find expected '-' indicator": true, "did not find expected key": true,
		"did not find expected ',' or ']'": true, "did not find expected ',' or '}'": true,
		"found duplicate %YAML directive": true, "found incompatible YAML document": true,
		"found duplicate %TAG directive": true,
	}
	yamlScannerProblems = map[string]bool{
		"block sequence entries are not allowed in this context": true, "could not find expected ':'": true,
		"could not find expected directive name": true, "did not find expected alphabetic or numeric character": true,
		"did not find expected comment or line break": true, "did not find expected digit or '.' character": true,
		"did not find expected hexdecimal number": true, "did not find expected version number": true,
		"did not find expected whitespace or line break": true, "did not find expected whitespace": true,
		"did not find the expected '>'": true, "found a tab character that violates indentation": true,
		"found a tab character where an indentation space is expected": true, "found an indentation indicator equal to 0": true,
		"found character that cannot start any token": true, "found extremely long version number": true,
		"found invalid Unicode character escape code": true, "found unexpected document indicator": true,
		"found unexpected end of stream": true, "found unexpected non-alphabetical character": true,
		"found unknown directive name": true, "found unknown escape character": true,
		"mapping keys are not allowed in this context": true, "mapping values are not allowed in this context": true,
	}
)

// syntaxError converts a yaml.v3 syntax error into a FieldError on the
// line it names, counted from 1 (see yamlParserProblems).
func syntaxError(name string, err error) *FieldError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := &FieldError{File: name}
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
		if yamlParserProblems[msg] {
			e.Line++
		}
	} else if yamlParserProblems[msg] || yamlScannerProblems[msg] {
		e.Line = 1
	}
	e.Msg = "syntax error: " + msg
	return e
}

// tabHint adds to e, a syntax error, that its line is indented with a tab,
// and the tab's column, when it is: yaml.v3 reports a tab in the
// indentation as a character that cannot start a token.
func tabHint(e *FieldError, data []byte) *FieldError {
	if e.Line <= 0 {
		return e
	}
	lines := bytes.SplitN(data, []byte("\n"), e.Line+1)
	if len(lines) < e.Line {
		return e
	}
	line := lines[e.Line-1]
	indent := line[:len(line)-len(bytes.TrimLeft(line, " \t"))]
	if i := bytes.IndexByte(indent, '\t'); i >= 0 {
		e.Column = i + 1
		e.Msg += "; this line is indented with a tab: YAML indents with spaces only"
	}
	return e
}

// decodeErrors converts an error of the strict yaml decoder into an
// ErrorList. The walker checks everything the decoder does, so these are
// rare (excessive aliasing); the "yaml decoder: " prefix tells them apart.
func decodeErrors(name string, err error) ErrorList {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		e := syntaxError(name, err)
		e.Msg = "yaml decoder: " + strings.TrimPrefix(e.Msg, "syntax error: ")
		return ErrorList{e}
	}
	l := make(ErrorList, 0, len(te.Errors))
	for _, s := range te.Errors {
		e := &FieldError{File: name, Msg: "yaml decoder: " + s}
		if m := lineRE.FindStringSubmatch(s); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = "yaml decoder: " + m[2]
		}
		l = append(l, e)
	}
	return sortErrors(l)
}

// Source returns the name the config was parsed from; "" for the
// embedded default config (Default).
func (c *Config) Source() string { return c.source }

// Empty reports whether the file held no settings at all (it was empty,
// or only comments), so that every value is its default. A reload refuses
// such a file: it is far more often a file caught half-written than a
// wish to run the built-in defaults.
func (c *Config) Empty() bool { return c.empty }

// clone returns a deep copy of c, so Default can hand out private copies.
func (c *Config) clone() *Config {
	d := new(Config)
	deepCopy(reflect.ValueOf(d).Elem(), reflect.ValueOf(c).Elem())
	return d
}

func deepCopy(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Struct:
		// Unexported fields are plain values (flags, names): copy them whole,
		// then replace the exported fields with deep copies.
		dst.Set(src)
		for i := range src.NumField() {
			if src.Type().Field(i).IsExported() {
				deepCopy(dst.Field(i), src.Field(i))
			}
		}
	case reflect.Slice:
		if src.IsNil() {
			dst.Set(src)
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			deepCopy(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Map:
		if src.IsNil() {
			dst.Set(src)
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		for it := src.MapRange(); it.Next(); {
			m.SetMapIndex(it.Key(), it.Value()) // string values: no deeper copy needed
		}
		dst.Set(m)
	default:
		dst.Set(src)
	}
}

// Notes returns, one line each starting with the key, what the file sets
// to a value other than its default where it has no effect (a key without
// geoip.database, an aggregation key with ble.output: sightings, ...).
// Not errors: the default file spells those keys out, so a file based on
// it holds them; config check prints them.
func (c *Config) Notes() []string { return c.notes }
