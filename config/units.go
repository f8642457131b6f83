package config

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Scalar types parse themselves in UnmarshalYAML. They report a bad value as
// a *yaml.TypeError so the yaml decoder keeps going, and the message inside
// says what is wrong and what is allowed; the walker in walk.go shows that
// message with the file position and key path.

// typeError wraps msg for the yaml decoder. The "line N: " prefix is the
// decoder's convention; scalarMessage strips it again.
func typeError(n *yaml.Node, msg string) error {
	return &yaml.TypeError{Errors: []string{"line " + strconv.Itoa(n.Line) + ": " + msg}}
}

// scalarMessage returns the message inside an error from UnmarshalYAML.
func scalarMessage(err error) string {
	te, ok := err.(*yaml.TypeError)
	if !ok || len(te.Errors) == 0 {
		return err.Error()
	}
	s := te.Errors[0]
	if rest, ok := strings.CutPrefix(s, "line "); ok {
		if i := strings.Index(rest, ": "); i >= 0 {
			if _, err := strconv.Atoi(rest[:i]); err == nil {
				return rest[i+2:]
			}
		}
	}
	return s
}

// scalarValue returns the text of a non-null scalar node, or a message saying
// what kind of value was found instead.
func scalarValue(n *yaml.Node, want string) (string, string) {
	switch {
	case n == nil:
		return "", "has no value; write " + want
	case n.Kind == yaml.AliasNode && n.Alias != nil:
		return scalarValue(n.Alias, want)
	case n.Kind == yaml.MappingNode:
		return "", "is a mapping; write " + want
	case n.Kind == yaml.SequenceNode:
		return "", "is a list; write " + want
	case n.Kind != yaml.ScalarNode:
		return "", "has no value; write " + want
	case n.ShortTag() == "!!null":
		return "", "has no value; write " + want + ", or remove the key to use the default"
	}
	return n.Value, ""
}

func enumString(names []string, i uint8) string {
	if int(i) < len(names) {
		return names[i]
	}
	return "invalid(" + strconv.Itoa(int(i)) + ")"
}

func enumText(names []string, i uint8) ([]byte, error) {
	if int(i) < len(names) {
		return []byte(names[i]), nil
	}
	return nil, fmt.Errorf("config: enum value %d out of range", i)
}

func unmarshalEnum(n *yaml.Node, names []string, dst *uint8) error {
	allowed := "one of: " + strings.Join(names, ", ")
	s, bad := scalarValue(n, allowed)
	if bad != "" {
		return typeError(n, bad)
	}
	for i, name := range names {
		if s == name {
			*dst = uint8(i)
			return nil
		}
	}
	return typeError(n, fmt.Sprintf("%q is not %s%s", s, allowed, didYouMean(s, names)))
}

// Duration is a length of time, written like "250ms", "5s", "1m30s", "24h" or "7d".
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d in a short form that parses back: "24h" rather than "24h0m0s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = t + "m"
	}
	if t, ok := strings.CutSuffix(s, "h0m"); ok {
		s = t + "h"
	}
	return s
}

// MarshalText formats d like String.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

const durationHelp = "a duration such as 250ms, 5s, 1m or 24h"

// tooLargeError is a duration or size written well but beyond what its
// type holds. The walker tells it from other errors to name the key's
// own maximum instead (see validator.tooLarge).
type tooLargeError struct {
	text string // as written
	max  string // what the type holds at most
}

func (e *tooLargeError) Error() string { return e.text + " is too large; " + e.max }

// durationSyntaxRE matches what time.ParseDuration reads, whatever the
// size of the numbers: what it refuses that matches is out of its range.
var durationSyntaxRE = regexp.MustCompile(`^[-+]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+$`)

// maxDurationText is the longest Duration, about 292 years, in whole hours.
const maxDurationText = "2562047h"

// ParseDuration parses s as written in the config file: Go duration syntax
// ("1m30s"), or whole days ("7d"). Negative durations are refused, and so
// are durations longer than about 292 years (the error says too large).
func ParseDuration(s string) (Duration, error) {
	tooLarge := &tooLargeError{text: s, max: "a duration is at most " + maxDurationText}
	if days, ok := strings.CutSuffix(s, "d"); ok && days != "" {
		n, err := strconv.ParseUint(days, 10, 64)
		switch {
		case errors.Is(err, strconv.ErrRange):
			return 0, tooLarge
		case err != nil:
			return 0, fmt.Errorf("%q is not %s", s, durationHelp)
		case n > math.MaxInt64/uint64(24*time.Hour):
			return 0, tooLarge
		}
		return Duration(time.Duration(n) * 24 * time.Hour), nil
	}
	t, err := time.ParseDuration(s)
	if err != nil {
		if _, nerr := strconv.ParseFloat(s, 64); nerr == nil {
			return 0, fmt.Errorf("%s has no unit; write e.g. %ss or %sms", s, s, s)
		}
		if durationSyntaxRE.MatchString(s) {
			if strings.HasPrefix(s, "-") {
				return 0, fmt.Errorf("%s is negative; write %s", s, durationHelp)
			}
			return 0, tooLarge
		}
		return 0, fmt.Errorf("%q is not %s", s, durationHelp)
	}
	if t < 0 {
		return 0, fmt.Errorf("%s is negative; write %s", s, durationHelp)
	}
	return Duration(t), nil
}

// UnmarshalYAML accepts a duration string, see ParseDuration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	s, bad := scalarValue(n, durationHelp)
	if bad != "" {
		return typeError(n, bad)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return typeError(n, err.Error())
	}
	*d = v
	return nil
}

// ByteSize is an amount of bytes, written as a plain integer (65536) or with a
// unit: KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024).
type ByteSize int64

// Int returns b as an int64.
func (b ByteSize) Int() int64 { return int64(b) }

var byteUnits = []struct {
	name string
	mult int64
}{
	// Longest suffixes first so "KiB" is not read as "B".
	{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"kB", 1e3}, {"B", 1},
}

// String formats b with the largest binary unit that divides it, e.g. "64KiB", else as bytes.
func (b ByteSize) String() string {
	for _, u := range byteUnits[:4] {
		if b != 0 && int64(b)%u.mult == 0 {
			return strconv.FormatInt(int64(b)/u.mult, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// MarshalText formats b like String.
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

const byteSizeHelp = "a size such as 65536, 64KiB, 1MiB or 1GiB"

// ParseByteSize parses s as written in the config file, see ByteSize.
func ParseByteSize(s string) (ByteSize, error) {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range byteUnits {
		if rest, ok := strings.CutSuffix(num, u.name); ok {
			num, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || num == "" || num[0] == '+' {
		return 0, fmt.Errorf("%q is not %s (whole numbers only)", s, byteSizeHelp)
	}
	if n < 0 {
		return 0, fmt.Errorf("%s is negative; write %s", s, byteSizeHelp)
	}
	if n > math.MaxInt64/mult {
		return 0, &tooLargeError{text: s, max: "a size is at most 8388607TiB"}
	}
	return ByteSize(n * mult), nil
}

// UnmarshalYAML accepts an integer or a size string, see ByteSize.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	s, bad := scalarValue(n, byteSizeHelp)
	if bad != "" {
		return typeError(n, bad)
	}
	v, err := ParseByteSize(s)
	if err != nil {
		return typeError(n, err.Error())
	}
	*b = v
	return nil
}

// CIDR is a network written as "10.0.0.0/8" or "2001:db8::/32"; a single
// address stands for its own /32 or /128.
type CIDR struct {
	netip.Prefix
}

// String returns the network in CIDR notation.
func (c CIDR) String() string { return c.Prefix.String() }

// MarshalText returns the network in CIDR notation.
func (c CIDR) MarshalText() ([]byte, error) { return []byte(c.Prefix.String()), nil }

// ParseCIDR parses a network or a single address. Host bits must be zero, so
// a mistyped prefix length is not silently widened.
func ParseCIDR(s string) (CIDR, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return CIDR{}, fmt.Errorf("%q is not a network; write a CIDR like 10.0.0.0/8 or an address like 192.0.2.1", s)
		}
		a = a.Unmap()
		return CIDR{netip.PrefixFrom(a, a.BitLen())}, nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return CIDR{}, fmt.Errorf("%q is not a network; write a CIDR like 10.0.0.0/8 or 2001:db8::/32", s)
	}
	if p.Addr().Is4In6() {
		return CIDR{}, fmt.Errorf("%q is an IPv4-mapped IPv6 network; write it as IPv4", s)
	}
	if m := p.Masked(); m != p {
		return CIDR{}, fmt.Errorf("%q has bits set after the prefix; did you mean %s?", s, m)
	}
	return CIDR{p}, nil
}

// UnmarshalYAML accepts a network or an address, see ParseCIDR.
func (c *CIDR) UnmarshalYAML(n *yaml.Node) error {
	s, bad := scalarValue(n, "a CIDR like 10.0.0.0/8")
	if bad != "" {
		return typeError(n, bad)
	}
	v, err := ParseCIDR(s)
	if err != nil {
		return typeError(n, err.Error())
	}
	*c = v
	return nil
}

// TCFPurpose is an IAB TCF v2 purpose id, 1..11.
type TCFPurpose uint8

// UnmarshalYAML accepts an integer 1..11.
func (p *TCFPurpose) UnmarshalYAML(n *yaml.Node) error {
	v, err := smallInt(n, 1, 11, "TCF purpose id")
	if err != nil {
		return err
	}
	*p = TCFPurpose(v)
	return nil
}

// TCFFeature is an IAB TCF v2 special feature id, 1..2.
type TCFFeature uint8

// UnmarshalYAML accepts an integer 1..2.
func (p *TCFFeature) UnmarshalYAML(n *yaml.Node) error {
	v, err := smallInt(n, 1, 2, "TCF special feature id")
	if err != nil {
		return err
	}
	*p = TCFFeature(v)
	return nil
}

func smallInt(n *yaml.Node, lo, hi int, what string) (int, error) {
	want := fmt.Sprintf("a %s %d..%d", what, lo, hi)
	s, bad := scalarValue(n, want)
	if bad != "" {
		return 0, typeError(n, bad)
	}
	v, err := strconv.Atoi(s)
	if err != nil || n.ShortTag() != "!!int" {
		return 0, typeError(n, fmt.Sprintf("%q is not a number; write %s", s, want))
	}
	if v < lo || v > hi {
		return 0, typeError(n, fmt.Sprintf("%d is out of range %d..%d", v, lo, hi))
	}
	return v, nil
}
