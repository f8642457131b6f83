package useragent

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

type corpusLine struct {
	browser, os, device, bot string
	major                    uint16
	ua                       string
	line                     int
}

// readCorpus reads testdata/corpus.tsv: expected browser, major, os,
// device and bot name ("-" for none), then the User-Agent.
func readCorpus(t testing.TB) []corpusLine {
	t.Helper()
	f, err := os.Open("testdata/corpus.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusLine
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		p := strings.SplitN(l, "\t", 6)
		if len(p) != 6 {
			t.Fatalf("corpus.tsv:%d: want 6 tab-separated fields", n)
		}
		maj, err := strconv.ParseUint(p[1], 10, 16)
		if err != nil {
			t.Fatalf("corpus.tsv:%d: %v", n, err)
		}
		out = append(out, corpusLine{p[0], p[2], p[3], p[4], uint16(maj), p[5], n})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 60 {
		t.Fatalf("corpus has %d UAs; want at least 60", len(out))
	}
	return out
}

func TestCorpus(t *testing.T) {
	for _, c := range readCorpus(t) {
		got := Parse([]byte(c.ua))
		bot := got.Bot.String()
		if bot == "" {
			bot = "-"
		}
		if got.Browser.String() != c.browser || got.BrowserMajor != c.major || got.OS.String() != c.os ||
			got.Device.String() != c.device || bot != c.bot {
			t.Errorf("corpus.tsv:%d: got %s %d %s %s %s; want %s %d %s %s %s\n  %s", c.line,
				got.Browser, got.BrowserMajor, got.OS, got.Device, bot,
				c.browser, c.major, c.os, c.device, c.bot, c.ua)
		}
	}
}
