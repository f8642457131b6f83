package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/beacongate/beacongate/internal/httpheader"
)

// The walker checks the yaml.Node tree against the Go types before anything
// is decoded. It knows every position, so each problem is reported with its
// line, column and key path, and it keeps going after a problem so the
// reader sees all of them at once. Whatever it finds unusable it removes from
// the tree; decoding and defaults then proceed without it, and the semantic
// checks in validate.go run on the rest.

// maxWalkNodes bounds the work for one file. Aliases can make a small file
// describe a huge tree (the "billion laughs" file); a real config has a few
// hundred nodes.
const maxWalkNodes = 100000

// index remembers where each key path is in the file.
type index struct {
	vals map[string]*yaml.Node // value node of each path present in the file
	keys map[string]*yaml.Node // key node of each mapping entry
	// undo logs every change to vals and keys in walk order, so that when a
	// value turns out unusable, everything recorded inside it (a contiguous
	// tail of the log) is taken back and the index matches the pruned tree.
	undo []indexChange
}

type indexChange struct {
	m    map[string]*yaml.Node
	path string
	prev *yaml.Node // nil: path was absent
}

func (x *index) set(m map[string]*yaml.Node, path string, n *yaml.Node) {
	x.undo = append(x.undo, indexChange{m: m, path: path, prev: m[path]})
	m[path] = n
}

// rollback takes back every change after the first mark entries of the log.
func (x *index) rollback(mark int) {
	for i := len(x.undo) - 1; i >= mark; i-- {
		c := x.undo[i]
		if c.prev == nil {
			delete(c.m, c.path)
		} else {
			c.m[c.path] = c.prev
		}
	}
	x.undo = x.undo[:mark]
}

func (x *index) has(path string) bool {
	_, ok := x.vals[path]
	return ok
}

// pos returns the best place to report a problem with path: its value, or,
// when the path is absent, the key of the nearest ancestor that is present.
func (x *index) pos(path string) (line, col int) {
	if n := x.vals[path]; n != nil {
		return n.Line, n.Column
	}
	for p := parentPath(path); p != ""; p = parentPath(p) {
		if n := x.keys[p]; n != nil {
			return n.Line, n.Column
		}
		if n := x.vals[p]; n != nil {
			return n.Line, n.Column
		}
	}
	return 0, 0
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func itemPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

type walker struct {
	file   string
	errs   ErrorList
	idx    index
	budget int
	// tooLarge holds, by key path, each duration or size too large for
	// its type; the validator words it with the key's own maximum, which
	// the walker does not know (see validator.tooLarge).
	tooLarge map[string]*FieldError
}

func newWalker(file string) *walker {
	return &walker{
		file:     file,
		idx:      index{vals: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}},
		budget:   maxWalkNodes,
		tooLarge: map[string]*FieldError{},
	}
}

func (w *walker) errAt(n *yaml.Node, path, msg string) {
	e := &FieldError{File: w.file, Path: path, Msg: msg}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	w.errs = append(w.errs, e)
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// isScalarType reports whether t parses itself from one scalar (enums,
// Duration, ByteSize, CIDR, TCF ids).
func isScalarType(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(unmarshalerType)
}

// fieldInfo describes one struct field as the file sees it.
type fieldInfo struct {
	name     string
	index    int
	typ      reflect.Type
	required bool
	min, max float64
	hasRange bool
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

func fieldsOf(t reflect.Type) []fieldInfo {
	var fs []fieldInfo
	for i := range t.NumField() {
		f := t.Field(i)
		name := yamlName(f)
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		fi := fieldInfo{name: name, index: i, typ: f.Type, min: math.Inf(-1), max: math.Inf(1)}
		for _, opt := range strings.Split(f.Tag.Get("jsonschema"), ",") {
			k, v, _ := strings.Cut(opt, "=")
			switch k {
			case "required":
				fi.required = true
			case "minimum":
				fi.min, _ = strconv.ParseFloat(v, 64)
				fi.hasRange = true
			case "maximum":
				fi.max, _ = strconv.ParseFloat(v, 64)
				fi.hasRange = true
			}
		}
		fs = append(fs, fi)
	}
	return fs
}

func fieldNames(fs []fieldInfo) []string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.name
	}
	return names
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!null":
		return "empty"
	case "!!bool":
		return "a boolean"
	case "!!int":
		return "a whole number"
	case "!!float":
		return "a number"
	}
	return "text"
}

var standardTags = map[string]bool{
	"!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!null": true,
	"!!timestamp": true, "!!map": true, "!!seq": true, "!!merge": true,
}

// walk checks n against t and records where path is. It returns false when
// n cannot be used for t; the caller then removes n from the tree.
func (w *walker) walk(n *yaml.Node, t reflect.Type, path string, f *fieldInfo) bool {
	mark := len(w.idx.undo)
	if w.walkNode(n, t, path, f) {
		return true
	}
	w.idx.rollback(mark)
	return false
}

func (w *walker) walkNode(n *yaml.Node, t reflect.Type, path string, f *fieldInfo) bool {
	if w.budget--; w.budget < 0 {
		if w.budget == -1 {
			w.errAt(n, path, fmt.Sprintf("the file is too complex (more than %d values after expanding aliases)", maxWalkNodes))
		}
		return false
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			w.errAt(n, path, "alias points nowhere")
			return false
		}
		n = n.Alias
	}
	if tag := n.ShortTag(); !standardTags[tag] {
		w.errAt(n, path, fmt.Sprintf("tag %s is not supported; remove it", tag))
		return false
	}
	if isScalarType(t) {
		if err := reflect.New(t).Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
			if e := tooLargeScalar(n, t); e != nil {
				w.tooLarge[path] = &FieldError{File: w.file, Line: n.Line, Column: n.Column, Path: path, Msg: e.Error(), text: e.text}
				return false
			}
			w.errAt(n, path, scalarMessage(err))
			return false
		}
		w.idx.set(w.idx.vals, path, n)
		return true
	}
	ok := false
	switch t.Kind() {
	case reflect.Struct:
		ok, _ = w.walkStruct(n, t, path, false)
	case reflect.Slice:
		ok = w.walkSlice(n, t, path)
	case reflect.Map:
		ok = w.walkMap(n, t, path)
	case reflect.String:
		ok = w.walkString(n, path)
	case reflect.Bool:
		ok = w.walkBool(n, path)
	case reflect.Int, reflect.Int64, reflect.Float64:
		ok = w.walkNumber(n, t, path, f)
	default:
		w.errAt(n, path, "internal error: no check for "+t.String())
	}
	if ok {
		w.idx.set(w.idx.vals, path, n)
	}
	return ok
}

// tooLargeScalar returns the error of a Duration or ByteSize scalar n
// whose value is well written but too large for its type; else nil.
func tooLargeScalar(n *yaml.Node, t reflect.Type) *tooLargeError {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		return nil
	}
	var err error
	switch t {
	case reflect.TypeFor[Duration]():
		_, err = ParseDuration(n.Value)
	case reflect.TypeFor[ByteSize]():
		_, err = ParseByteSize(n.Value)
	}
	var e *tooLargeError
	if errors.As(err, &e) {
		return e
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!" || k.ShortTag() == "!!merge")
}

// walkStruct checks a mapping against the fields of t. partial is set for a
// mapping merged in with "<<", which need not hold the required keys alone.
// It returns the keys it saw, so merges count towards required keys.
func (w *walker) walkStruct(n *yaml.Node, t reflect.Type, path string, partial bool) (bool, map[string]*yaml.Node) {
	fs := fieldsOf(t)
	if isNull(n) {
		if !partial {
			w.checkRequired(n, fs, path, nil)
		}
		return true, nil
	}
	if n.Kind != yaml.MappingNode {
		where := "keys: " + strings.Join(fieldNames(fs), ", ")
		if path == "" {
			where = "sections: " + strings.Join(fieldNames(fs), ", ")
		}
		w.errAt(n, path, kindName(n)+" is not allowed here; write a mapping with "+where)
		return false, nil
	}
	seen := map[string]*yaml.Node{}
	merged := map[string]*yaml.Node{}
	var out []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if isMergeKey(k) {
			if w.walkMerge(v, t, path, merged) {
				out = append(out, k, v)
			}
			continue
		}
		if k.Kind != yaml.ScalarNode || isNull(k) {
			w.errAt(k, path, "keys must be plain words; allowed here: "+strings.Join(fieldNames(fs), ", "))
			continue
		}
		name := k.Value
		fp := joinPath(path, name)
		var f *fieldInfo
		for i := range fs {
			if fs[i].name == name {
				f = &fs[i]
			}
		}
		if f == nil {
			w.errAt(k, fp, w.unknownKeyMsg(name, fs, path))
			continue
		}
		if prev := seen[name]; prev != nil {
			w.errAt(k, fp, fmt.Sprintf("is set twice; the first is on line %d, remove one", prev.Line))
			continue
		}
		seen[name] = k
		w.idx.set(w.idx.keys, fp, k)
		if !w.walk(v, f.typ, fp, f) {
			continue
		}
		out = append(out, k, v)
	}
	n.Content = out
	for k, v := range merged {
		if seen[k] == nil {
			seen[k] = v
		}
	}
	if !partial {
		w.checkRequired(n, fs, path, seen)
	}
	return true, seen
}

// walkMerge checks the value of a "<<" key: a mapping, an alias of one, or a
// list of those.
func (w *walker) walkMerge(v *yaml.Node, t reflect.Type, path string, merged map[string]*yaml.Node) bool {
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	switch v.Kind {
	case yaml.MappingNode:
		ok, seen := w.walkStruct(v, t, path, true)
		for k, n := range seen {
			if merged[k] == nil {
				merged[k] = n
			}
		}
		return ok
	case yaml.SequenceNode:
		ok := true
		for _, c := range v.Content {
			if c.Kind == yaml.SequenceNode || !w.walkMerge(c, t, path, merged) {
				ok = false
			}
		}
		if !ok {
			w.errAt(v, path, "<< must merge mappings")
		}
		return ok
	}
	w.errAt(v, path, "<< must merge a mapping, e.g. <<: *base")
	return false
}

func (w *walker) checkRequired(n *yaml.Node, fs []fieldInfo, path string, seen map[string]*yaml.Node) {
	for _, f := range fs {
		if !f.required || seen[f.name] != nil {
			continue
		}
		msg := fmt.Sprintf("missing key %q", f.name)
		if e, ok := reflect.New(f.typ).Interface().(interface{ enumNames() []string }); ok {
			if names := e.enumNames(); len(names) > 0 {
				msg += "; set it to one of: " + strings.Join(names, ", ")
			}
		}
		w.errAt(n, path, msg)
	}
}

func (w *walker) unknownKeyMsg(name string, fs []fieldInfo, path string) string {
	names := fieldNames(fs)
	if c := closest(name, names); c != "" {
		return fmt.Sprintf("unknown key; did you mean %q?", c)
	}
	// A key one level too high, e.g. v4_prefix directly under a policy.
	for _, f := range fs {
		if f.typ.Kind() != reflect.Struct || isScalarType(f.typ) {
			continue
		}
		for _, g := range fieldsOf(f.typ) {
			if normalizeKey(g.name) == normalizeKey(name) {
				return fmt.Sprintf("unknown key here; did you mean %s.%s?", f.name, g.name)
			}
		}
	}
	where := "under " + path
	if path == "" {
		where = "at the top level"
	}
	return fmt.Sprintf("unknown key; allowed %s: %s", where, strings.Join(names, ", "))
}

func (w *walker) walkSlice(n *yaml.Node, t reflect.Type, path string) bool {
	if isNull(n) {
		return true
	}
	if n.Kind != yaml.SequenceNode {
		w.errAt(n, path, kindName(n)+" is not allowed here; write a list, e.g. [a, b], or one \"- item\" per line")
		return false
	}
	ok := true
	for i, c := range n.Content {
		if !w.walk(c, t.Elem(), itemPath(path, i), nil) {
			ok = false
		}
	}
	return ok
}

func (w *walker) walkMap(n *yaml.Node, t reflect.Type, path string) bool {
	if isNull(n) {
		return true
	}
	if n.Kind != yaml.MappingNode {
		w.errAt(n, path, kindName(n)+" is not allowed here; write a mapping of names to values")
		return false
	}
	seen := map[string]*yaml.Node{}
	var out []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || isNull(k) || isMergeKey(k) {
			w.errAt(k, path, "keys must be plain words")
			continue
		}
		if !httpheader.ValidName(k.Value) {
			// No mapping of the config takes such a key (header names,
			// destination names, purposes), and one may hold a value
			// typed into it: a header's key after its name ("X-Api-Key:
			// KEY": "", {X-Api-Key KEY}). The error goes to the log, the
			// reload's answer and the audit log: neither the message nor
			// the path quotes it; the line and column point at it.
			w.errAt(k, path, "has a key that is no name (it holds a space, ':', '=' or another character than letters, digits and !#$%&'*+-.^_`|~); not quoted here, since it may hold a value typed into it, such as a header's key after its name")
			continue
		}
		fp := joinPath(path, k.Value)
		if prev := seen[k.Value]; prev != nil {
			w.errAt(k, fp, fmt.Sprintf("is set twice; the first is on line %d, remove one", prev.Line))
			continue
		}
		seen[k.Value] = k
		w.idx.set(w.idx.keys, fp, k)
		if w.walk(v, t.Elem(), fp, nil) {
			out = append(out, k, v)
		}
	}
	n.Content = out
	return true
}

func (w *walker) walkString(n *yaml.Node, path string) bool {
	if n.Kind != yaml.ScalarNode {
		w.errAt(n, path, kindName(n)+" is not allowed here; write text")
		return false
	}
	switch n.ShortTag() {
	case "!!null":
		w.errAt(n, path, "has no value; write text, or remove the key to use the default")
		return false
	case "!!bool":
		w.errAt(n, path, fmt.Sprintf("%s is a boolean; write text, and quote it (%q) if you mean the word", n.Value, n.Value))
		return false
	}
	return true
}

func (w *walker) walkBool(n *yaml.Node, path string) bool {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		if n.Kind == yaml.ScalarNode && !isNull(n) {
			w.errAt(n, path, fmt.Sprintf("%q is not a boolean; write true or false", n.Value))
		} else {
			w.errAt(n, path, kindName(n)+" is not allowed here; write true or false")
		}
		return false
	}
	return true
}

func (w *walker) walkNumber(n *yaml.Node, t reflect.Type, path string, f *fieldInfo) bool {
	isInt := t.Kind() != reflect.Float64
	want := "a whole number"
	if !isInt {
		want = "a number"
	}
	if f != nil && f.hasRange {
		want += " " + rangeText(f.min, f.max)
	}
	if n.Kind != yaml.ScalarNode || isNull(n) {
		w.errAt(n, path, kindName(n)+" is not allowed here; write "+want)
		return false
	}
	tag := n.ShortTag()
	var v float64
	switch {
	case tag == "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			w.errAt(n, path, fmt.Sprintf("%s is too large; write %s", n.Value, want))
			return false
		}
		v = float64(i)
	case tag == "!!float" && !isInt:
		if err := n.Decode(&v); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			w.errAt(n, path, fmt.Sprintf("%s is not %s", n.Value, want))
			return false
		}
	case quotedNumber(n, isInt):
		w.errAt(n, path, fmt.Sprintf("%q is quoted, which makes it text; write %s without quotes", n.Value, n.Value))
		return false
	default:
		w.errAt(n, path, fmt.Sprintf("%q is not %s", n.Value, want))
		return false
	}
	if f != nil && (v < f.min || v > f.max) {
		w.errAt(n, path, fmt.Sprintf("%s is out of range %s", n.Value, rangeText(f.min, f.max)))
		return false
	}
	return true
}

// quotedNumber reports whether n is a quoted scalar that would be a whole
// number (isInt) or a number without its quotes.
func quotedNumber(n *yaml.Node, isInt bool) bool {
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 {
		return false
	}
	if isInt {
		_, err := strconv.ParseInt(n.Value, 10, 64)
		return err == nil
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	return err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
}

func rangeText(lo, hi float64) string {
	return strconv.FormatFloat(lo, 'f', -1, 64) + ".." + strconv.FormatFloat(hi, 'f', -1, 64)
}
