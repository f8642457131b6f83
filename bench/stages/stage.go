package stages

import (
	"path"
	"strings"
	"unicode"
)

// Stage is a step of the per-request path, in the order a request meets it.
type Stage int

// Stages of the budget. WholePath is the sum of them all as one benchmark;
// Unmapped collects benchmarks no rule recognises.
const (
	ParsePixel Stage = iota
	ParseBeacon
	ParseBLE
	ConsentDecode
	ConsentEvaluate
	GeoLookup
	IPTruncate
	UAReduce
	URLScrub
	Pseudonym
	RecordEncode
	SpoolAppend
	BatchCompress
	Delivery
	WholePath
	Unmapped
)

// String returns the stage's name as shown in the table.
func (s Stage) String() string {
	switch s {
	case ParsePixel:
		return "parse pixel query"
	case ParseBeacon:
		return "parse beacon JSON"
	case ParseBLE:
		return "parse BLE batch"
	case ConsentDecode:
		return "consent decode (TCF, GCM, GPP, USP)"
	case ConsentEvaluate:
		return "consent evaluate (signals → purposes, policy)"
	case GeoLookup:
		return "geo lookup"
	case IPTruncate:
		return "IP truncation"
	case UAReduce:
		return "user-agent reduction"
	case URLScrub:
		return "URL scan / scrub"
	case Pseudonym:
		return "pseudonym HMAC"
	case RecordEncode:
		return "record encode"
	case SpoolAppend:
		return "spool append"
	case BatchCompress:
		return "batch compress"
	case Delivery:
		return "delivery (spool → batch → sink, per event)"
	case WholePath:
		return "whole per-request path"
	case Unmapped:
		return "unmapped"
	}
	return "unknown"
}

// rule maps benchmarks whose name contains one of the keyword phrases to a
// stage. A phrase is a sequence of words matched against the CamelCase
// words of the name; a keyword of four letters or more also matches a word
// it begins ("compress" matches "Compression"), a shorter one only a whole
// word ("UA" does not match "Evaluate").
type rule struct {
	stage   Stage
	phrases []string
}

// early rules are tried before the package: names that say which stage
// they measure whatever package they are in.
var early = []rule{
	{WholePath, []string{"serve", "handle"}},
	{ConsentEvaluate, []string{"evaluate", "policy", "decide", "decision"}},
}

// rules are tried after the package, in order; the first match wins, so
// compound names go to the most specific stage (SpoolAppend before any
// "append").
var rules = []rule{
	{SpoolAppend, []string{"spool", "wal", "fsync"}},
	{Delivery, []string{"pipeline", "end to end", "e2e", "deliver", "delivery", "sink"}},
	{BatchCompress, []string{"compress", "compression", "zstd", "gzip", "lz4", "brotli", "snappy", "batch"}},
	{RecordEncode, []string{"encode", "record", "marshal", "append json", "write json"}},
	{Pseudonym, []string{"pseudonym", "hmac"}},
	{GeoLookup, []string{"geo", "city", "country", "mmdb", "asn"}},
	{IPTruncate, []string{"truncate", "truncated", "ip", "mask"}},
	{UAReduce, []string{"user agent", "useragent", "ua", "bot", "crawler"}},
	{URLScrub, []string{"scrub", "url", "scan", "redact", "pii", "email"}},
	{ConsentDecode, []string{"tc", "tcf", "consent", "gcd", "gcs", "gpp", "us privacy", "usp", "gpc"}},
	{ParseBLE, []string{"ble", "sighting", "beacon ping"}},
	{ParseBeacon, []string{"beacon", "decode json", "parse json", "unmarshal", "body"}},
	{ParsePixel, []string{"pixel", "query", "parse", "args"}},
	{GeoLookup, []string{"lookup"}}, // last: a vendor or table lookup elsewhere is more specific
}

// pkgStages maps a stage's own package (last path element) to the stage.
var pkgStages = map[string]Stage{
	"geo": GeoLookup, "geoip": GeoLookup, "ipmask": IPTruncate, "useragent": UAReduce, "ua": UAReduce,
	"consent": ConsentDecode, "tcf": ConsentDecode, "gcm": ConsentDecode, "gpp": ConsentDecode,
	"policy": ConsentEvaluate, "scrub": URLScrub, "urlscan": URLScrub, "pseudonym": Pseudonym,
	"record": RecordEncode, "spool": SpoolAppend, "compress": BatchCompress, "batch": BatchCompress,
}

// Classify returns the stage of a benchmark:
//
//  1. a serve benchmark that stops after parsing (ServeParse/Pixel) measures
//     the parser its sub-benchmark names;
//  2. names that say their stage anywhere (Serve*, Evaluate*);
//  3. the package, when it is one stage's own (anonymize/geo,
//     upstream/spool...), so that generic names there (Parse, Open,
//     DecodeRecord) stay with their stage;
//  4. the words of the name's top-level part (before any '/').
func Classify(name, pkg string) Stage {
	top, sub, _ := strings.Cut(name, "/")
	words := splitWords(top)
	if hasWord(words, "serve") && hasWord(words, "parse") {
		all := append(words, splitWords(sub)...)
		switch {
		case hasWord(all, "ble"):
			return ParseBLE
		case hasWord(all, "beacon"):
			return ParseBeacon
		case hasWord(all, "pixel"):
			return ParsePixel
		}
	}
	for _, r := range early {
		if matches(words, r) {
			return r.stage
		}
	}
	if s, ok := pkgStages[path.Base(pkg)]; ok {
		return s
	}
	for _, r := range rules {
		if matches(words, r) {
			return r.stage
		}
	}
	return Unmapped
}

func hasWord(words []string, w string) bool { return containsPhrase(words, []string{w}) }

func matches(words []string, r rule) bool {
	for _, p := range r.phrases {
		if containsPhrase(words, strings.Fields(p)) {
			return true
		}
	}
	return false
}

// splitWords splits a CamelCase or snake_case identifier into lower-case
// words, also where digits start: "DecodeTCString" → decode, tc, string;
// "SpoolAppend_fsync" → spool, append, fsync; "BLE40" → ble, 40.
func splitWords(s string) []string {
	var words []string
	rs := []rune(s)
	start := 0
	flush := func(end int) {
		if end > start {
			words = append(words, strings.ToLower(string(rs[start:end])))
		}
		start = end
	}
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r == '_' || r == '-' || r == '.' || r == '/' {
			flush(i)
			start = i + 1
			continue
		}
		if i > start && unicode.IsDigit(r) && unicode.IsLetter(rs[i-1]) {
			flush(i)
		}
		if i > start && unicode.IsUpper(r) {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush(i)
			}
		}
	}
	flush(len(rs))
	return words
}

func containsPhrase(words, phrase []string) bool {
	for i := 0; i+len(phrase) <= len(words); i++ {
		ok := true
		for j, kw := range phrase {
			w := words[i+j]
			if w != kw && !(len(kw) >= 4 && strings.HasPrefix(w, kw)) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
