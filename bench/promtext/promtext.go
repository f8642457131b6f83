// Package promtext reads the few counters the bench needs from a server's
// Prometheus /metrics page (text exposition format 0.0.4): enough of the
// format to find a series by name, not a general client.
package promtext

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/beacongate/beacongate/bench/loopback"
)

// Well-known series the bench reads before and after a run.
const (
	CPUSeconds = "process_cpu_seconds_total" // user+system CPU of the server process
	Mallocs    = "go_memstats_mallocs_total" // cumulative heap objects allocated
)

// Sample is one line of the exposition: a series and its value.
type Sample struct {
	Name   string
	Labels string // the text between the braces, as written; "" for none
	Value  float64
}

// Samples is a parsed /metrics page.
type Samples []Sample

// Get returns the value of the unlabelled series name.
func (s Samples) Get(name string) (float64, bool) {
	for _, x := range s {
		if x.Name == name && x.Labels == "" {
			return x.Value, true
		}
	}
	return 0, false
}

// Sum returns the sum over all label sets of series name, and whether any was found.
func (s Samples) Sum(name string) (float64, bool) {
	var sum float64
	found := false
	for _, x := range s {
		if x.Name == name {
			sum += x.Value
			found = true
		}
	}
	return sum, found
}

// Label returns the value of the sample's label name, unescaped (\\, \"
// and \n), and whether the sample has it. The label set must be a list
// of name="value" pairs separated by commas (a trailing comma allowed, no
// spaces around '='), as Prometheus writes it: for any other, Parse having
// accepted it or not, Label returns "", false.
func (x Sample) Label(name string) (string, bool) {
	l := x.Labels
	value, found := "", false
	for len(l) > 0 {
		eq := strings.IndexByte(l, '=')
		if eq <= 0 || eq+1 >= len(l) || l[eq+1] != '"' {
			return "", false
		}
		key := l[:eq]
		for i := range len(key) {
			if !isNameByte(key[i], i == 0) {
				return "", false
			}
		}
		var val strings.Builder
		i := eq + 2
		for ; i < len(l) && l[i] != '"'; i++ {
			c := l[i]
			if c == '\\' && i+1 < len(l) {
				i++
				switch c = l[i]; c {
				case 'n':
					c = '\n'
				case '\\', '"':
				default:
					val.WriteByte('\\')
				}
			}
			val.WriteByte(c)
		}
		if i >= len(l) {
			return "", false // unterminated value
		}
		if key == name {
			value, found = val.String(), true
		}
		switch l = l[i+1:]; {
		case l == "":
		case l[0] == ',':
			l = l[1:]
		default:
			return "", false
		}
	}
	return value, found
}

// ParseError tells which line of a page could not be read.
type ParseError struct {
	Line int
	Msg  string
}

// Error formats the line number and the problem.
func (e *ParseError) Error() string { return fmt.Sprintf("promtext: line %d: %s", e.Line, e.Msg) }

// Parse reads a text-format page. Comments and blank lines are skipped; a
// line that is not `name[{labels}] value [timestamp]` is an error.
func Parse(page []byte) (Samples, error) {
	var out Samples
	for n := 1; len(page) > 0; n++ {
		line := page
		if i := bytes.IndexByte(page, '\n'); i >= 0 {
			line, page = page[:i], page[i+1:]
		} else {
			page = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		s, err := parseLine(line)
		if err != nil {
			return nil, &ParseError{Line: n, Msg: err.Error()}
		}
		out = append(out, s)
	}
	return out, nil
}

var (
	errName   = errors.New("missing metric name")
	errLabels = errors.New("unterminated label set")
	errValue  = errors.New("bad or missing value")
)

func parseLine(line []byte) (Sample, error) {
	i := 0
	for i < len(line) && isNameByte(line[i], i == 0) {
		i++
	}
	if i == 0 {
		return Sample{}, errName
	}
	s := Sample{Name: string(line[:i])}
	rest := line[i:]
	if len(rest) > 0 && rest[0] == '{' {
		end, err := labelsEnd(rest)
		if err != nil {
			return Sample{}, err
		}
		s.Labels = string(rest[1:end])
		rest = rest[end+1:]
	}
	f := bytes.Fields(rest)
	if len(f) < 1 || len(f) > 2 {
		return Sample{}, errValue
	}
	v, err := strconv.ParseFloat(string(f[0]), 64) // accepts NaN, +Inf, -Inf
	if err != nil {
		return Sample{}, errValue
	}
	s.Value = v
	return s, nil
}

// labelsEnd returns the index of the '}' closing the label set that starts
// at b[0], skipping braces inside quoted, backslash-escaped values.
func labelsEnd(b []byte) (int, error) {
	inQuote := false
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == '}':
			return i, nil
		}
	}
	return 0, errLabels
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9')
}

// maxPage bounds what Fetch reads: a Go process's page is about 10-30 KiB.
const maxPage = 8 << 20

// client only dials loopback addresses.
var client = &http.Client{
	Timeout: 10 * time.Second,
	Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) { return loopback.Dial(ctx, addr) },
	},
}

// Fetch GETs and parses the page at url, which must be a loopback http URL.
func Fetch(ctx context.Context, url string) (Samples, error) {
	tg, err := loopback.Parse(url)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, tg.URL(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("promtext: GET %s: %s", url, resp.Status)
	}
	page, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	if err != nil {
		return nil, fmt.Errorf("promtext: GET %s: %w", url, err)
	}
	return Parse(page)
}
