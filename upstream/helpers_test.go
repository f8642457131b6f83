package upstream

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Realistic anonymized records: ~450 bytes on average, a random event id and a
// random pseudonym (incompressible), the rest drawn from small sets as on
// a real site.
var (
	sites     = []string{"shop.example.com", "blog.example.org", "news.example.net", "store.example.de"}
	paths     = []string{"/", "/category/shoes/running", "/product/12345-trail-runner-x", "/cart", "/checkout/payment", "/search?q=jacket", "/blog/2026/summer-sale", "/account/orders"}
	refs      = []string{"", "https://www.google.com/", "https://www.bing.com/", "https://news.example.net/article/42", "android-app://com.example.app/"}
	browsers  = []string{`"browser":"Chrome","os":"Android","device":"mobile"`, `"browser":"Safari","os":"iOS","device":"mobile"`, `"browser":"Firefox","os":"Windows","device":"desktop"`, `"browser":"Edge","os":"Windows","device":"desktop"`}
	countries = []string{`"country":"DE","region":"BE"`, `"country":"FR","region":"IDF"`, `"country":"US","region":"CA"`, `"country":"GB","region":"ENG"`, `"country":"SE","region":"AB"`}
	names     = []string{"page_view", "add_to_cart", "purchase", "scroll", "click"}
)

const idAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// testRecord returns a realistic record whose "id" is "<prefix><n>" padded
// with random characters (ids stay unique per prefix and n).
func testRecord(rng *rand.Rand, prefix string, n int) []byte {
	id := fmt.Sprintf("%s%08d", prefix, n)
	var tail [10]byte
	for i := range tail {
		tail[i] = idAlphabet[rng.IntN(len(idAlphabet))]
	}
	var pseudo [16]byte
	for i := range pseudo {
		pseudo[i] = byte(rng.Uint32())
	}
	ts := time.Date(2026, 1, 12, 10, 0, 0, 0, time.UTC).Add(time.Duration(n) * 37 * time.Millisecond)
	return fmt.Appendf(nil, `{"id":"%s-%s","kind":"pixel","ts":"%s","site":"%s","name":"%s","url":"https://%s%s","ref":"%s","pseudonym":"p_%x","ua":{%s},"geo":{%s},"ip":"203.0.113.0","consent":{"analytics":true,"ads":%t},"props":{"value":"%d.%02d","currency":"EUR"}}`,
		id, tail[:], ts.Format("2006-01-02T15:04:05.000Z"), sites[n%len(sites)], names[rng.IntN(len(names))],
		sites[n%len(sites)], paths[rng.IntN(len(paths))], refs[rng.IntN(len(refs))], pseudo[:],
		browsers[rng.IntN(len(browsers))], countries[rng.IntN(len(countries))], n%3 == 0, rng.IntN(300), rng.IntN(100))
}

// idOf returns a record's event id (the "<prefix><n>" part).
func idOf(rec []byte) string {
	id := jsonStringField(rec, "id")
	if i := bytes.IndexByte(id, '-'); i >= 0 {
		id = id[:i]
	}
	return string(id)
}

// idSet counts how often each event id arrived.
type idSet struct {
	mu sync.Mutex
	m  map[string]int
	n  atomic.Int64
}

func newIDSet() *idSet { return &idSet{m: make(map[string]int)} }

func (s *idSet) addNDJSON(t testing.TB, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(data) > 0 {
		line, rest, _ := bytes.Cut(data, []byte("\n"))
		data = rest
		if len(line) == 0 {
			continue
		}
		id := idOf(line)
		if id == "" {
			t.Errorf("line without id: %q", line)
			continue
		}
		s.m[id]++
		s.n.Add(1)
	}
}

func (s *idSet) add(id string) {
	s.mu.Lock()
	s.m[id]++
	s.mu.Unlock()
	s.n.Add(1)
}

func (s *idSet) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[id] > 0
}

// compare returns the ids of want missing from s, and the number of extra
// copies of ids that arrived more than once.
func (s *idSet) compare(want []string) (missing []string, dups int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range want {
		if s.m[id] == 0 {
			missing = append(missing, id)
		}
	}
	for _, c := range s.m {
		if c > 1 {
			dups += c - 1
		}
	}
	sort.Strings(missing)
	return missing, dups
}

func (s *idSet) countMissing(want []string) int {
	m, _ := s.compare(want)
	return len(m)
}

// waitFor polls cond until it holds or the bound passes (a guard against
// hanging, not a speed requirement).
func waitFor(t testing.TB, what string, bound time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting after %v: %s", bound, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// decodeBody decompresses an HTTP body according to its Content-Encoding.
func decodeBody(enc string, body []byte) ([]byte, error) {
	switch enc {
	case "":
		return body, nil
	case "zstd":
		d, err := zstd.NewReader(nil)
		if err != nil {
			return nil, err
		}
		defer d.Close()
		return d.DecodeAll(body, nil)
	case "gzip":
		r, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(r)
	}
	return nil, fmt.Errorf("unknown encoding %q", enc)
}

// collector is an HTTP upstream on 127.0.0.1 that records the ids it
// received. behave, if set, decides the answer before the body is counted;
// a status other than 200 is returned without counting.
type collector struct {
	srv      *httptest.Server
	ids      *idSet
	requests atomic.Int64
	behave   atomic.Pointer[func(n int64, w http.ResponseWriter, r *http.Request) int]
	headers  atomic.Pointer[http.Header]
	t        testing.TB
}

func newCollector(t testing.TB) *collector {
	c := &collector{ids: newIDSet(), t: t}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *collector) serve(w http.ResponseWriter, r *http.Request) {
	n := c.requests.Add(1)
	h := r.Header.Clone()
	c.headers.Store(&h)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if b := c.behave.Load(); b != nil {
		if status := (*b)(n, w, r); status != http.StatusOK {
			if status > 0 {
				w.WriteHeader(status)
			}
			return
		}
	}
	data, err := decodeBody(r.Header.Get("Content-Encoding"), body)
	if err != nil {
		c.t.Errorf("request %d: %v", n, err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	c.ids.addNDJSON(c.t, data)
	if r.Context().Err() != nil {
		return // the client gave up: counted anyway, as a real server would
	}
	w.WriteHeader(http.StatusOK)
}

func (c *collector) setBehave(f func(n int64, w http.ResponseWriter, r *http.Request) int) {
	c.behave.Store(&f)
}

// readZstdDir decodes every .zst and .zst.part file in dir with the pure-Go
// decoder and adds their records to ids. It returns the number of files.
func readZstdDir(t testing.TB, dir string, ids *idSet) int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.zst*"))
	d, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		data, err := d.DecodeAll(b, nil)
		if err != nil {
			t.Fatalf("%s is not a valid zstd stream: %v", f, err)
		}
		ids.addNDJSON(t, data)
	}
	return len(files)
}

// appender appends records from several goroutines and remembers which
// ids were acknowledged.
type appender struct {
	mu    sync.Mutex
	acked []string
	errs  map[string]int
}

func (a *appender) run(t testing.TB, p *Pipeline, prefix string, workers, each int, route Route) {
	t.Helper()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := 0; i < each; i++ {
				n := w*each + i
				rec := testRecord(rng, prefix, n)
				err := p.Append(rec, route)
				a.mu.Lock()
				if err == nil {
					a.acked = append(a.acked, idOf(rec))
				} else {
					if a.errs == nil {
						a.errs = make(map[string]int)
					}
					a.errs[errKind(err)]++
				}
				a.mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func errKind(err error) string {
	s := err.Error()
	if i := strings.Index(s, ":"); i > 0 && strings.HasPrefix(s, "spool") {
		return strings.TrimSpace(s[i+1:])
	}
	return s
}

func (a *appender) ackedIDs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.acked...)
}

// closeP closes a pipeline with a generous bound.
func closeP(t testing.TB, p *Pipeline) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// memSink keeps what it was sent, for tests.
type memSink struct {
	ids    *idSet
	fail   atomic.Pointer[error]
	closed atomic.Bool
	t      testing.TB
}

func (m *memSink) Send(ctx context.Context, b *Batch) error {
	if e := m.fail.Load(); e != nil {
		return *e
	}
	m.ids.addNDJSON(m.t, b.Data)
	return nil
}

func (m *memSink) Close() error { m.closed.Store(true); return nil }

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
