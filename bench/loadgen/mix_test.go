package loadgen

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMixSet(t *testing.T) {
	m := DefaultMix()
	if err := m.Set("pixel=1, beacon=2,ble=3,malformed=4,bots=0.5,xff=0,oversize=100,seed=7"); err != nil {
		t.Fatal(err)
	}
	if m.Pixel != 1 || m.Beacon != 2 || m.BLE != 3 || m.Malformed != 4 || m.Bots != 0.5 || m.Forwarded != 0 || m.OversizeBytes != 100 || m.Seed != 7 {
		t.Fatalf("got %+v", m)
	}
	// String round-trips through Set.
	m2 := DefaultMix()
	if err := m2.Set(m.String()); err != nil || m2.String() != m.String() {
		t.Fatalf("round trip: %v %q != %q", err, m2.String(), m.String())
	}
	bad := func(spec string) {
		t.Helper()
		m := DefaultMix()
		if err := m.Set(spec); err == nil {
			t.Fatalf("%q accepted", spec)
		}
	}
	bad("pixel")
	bad("nope=1")
	bad("pixel=-1")
	bad("pixel=x")
	bad("bots=1.5")
	bad("xff=-0.1")
	bad("bots=NaN")
	bad("pixel=0,beacon=0,ble=0,malformed=0")
	bad("oversize=0")
	bad("only=malformed")
	bad("only=bots")
	bad("only=")
	bad("full=yes")
	bad("full=2")
}

// TestMixOnly: only=KIND leaves that kind alone, without bots or malformed
// requests, keeps the other settings, and round-trips through String.
func TestMixOnly(t *testing.T) {
	for _, k := range []Kind{KindPixel, KindBeacon, KindBLE} {
		m := DefaultMix()
		if err := m.Set("xff=0.5,seed=9,only=" + k.String()); err != nil {
			t.Fatal(err)
		}
		w := map[Kind]int{KindPixel: m.Pixel, KindBeacon: m.Beacon, KindBLE: m.BLE, KindMalformed: m.Malformed}
		for kk, v := range w {
			if (kk == k) != (v > 0) {
				t.Fatalf("only=%s: weights %+v", k, w)
			}
		}
		if m.Bots != 0 || m.Forwarded != 0.5 || m.Seed != 9 {
			t.Fatalf("only=%s: %+v", k, m)
		}
		m2 := DefaultMix()
		if err := m2.Set(m.String()); err != nil || m2.String() != m.String() || m2.Bots != 0 {
			t.Fatalf("round trip of %q: %v %+v", m.String(), err, m2)
		}
		reqs, err := m.Generate(200)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range reqs {
			if r.Kind != k || r.Bot || r.Malformation != NotMalformed || r.Events < 1 {
				t.Fatalf("only=%s: request %d is %s (bot %v, %s, %d events)", k, i, r.Kind, r.Bot, r.Malformation, r.Events)
			}
		}
	}
	// A weight already set is kept; a key after only applies on top.
	m := DefaultMix()
	if err := m.Set("only=beacon,bots=0.2"); err != nil || m.Beacon != 25 || m.Bots != 0.2 {
		t.Fatalf("%v %+v", err, m)
	}
	m = DefaultMix()
	if err := m.Set("beacon=0,only=beacon"); err != nil || m.Beacon != 100 {
		t.Fatalf("%v %+v", err, m)
	}
	if err := m.Only(KindMalformed); err == nil {
		t.Fatal("Only(KindMalformed) accepted")
	}
}

// TestGenerateFull: with full=1 every pixel, even one generated alone,
// carries a page URL with a query, a referrer, client and user ids, a valid
// TC string and a desktop Chrome User-Agent; bots keep theirs.
func TestGenerateFull(t *testing.T) {
	m := DefaultMix()
	if err := m.Set("only=pixel,full=1"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(m.String(), ",full=1") || !strings.HasSuffix(DefaultMix().String(), ",seed=1") {
		t.Fatalf("String: %q", m.String())
	}
	header := func(r *Request, k string) string {
		for _, h := range r.Headers {
			if h.Key == k {
				return h.Value
			}
		}
		return ""
	}
	check := func(r *Request) {
		t.Helper()
		q, err := url.ParseQuery(strings.SplitN(r.URI, "?", 2)[1])
		if err != nil {
			t.Fatal(err)
		}
		page, err := url.Parse(q.Get("url"))
		if err != nil || page.RawQuery == "" || q.Get("ref") == "" || q.Get("cid") == "" || q.Get("uid") == "" ||
			q.Get("gdpr") != "1" || !isVector(validTC, q.Get("gdpr_consent")) || header(r, "Referer") == "" {
			t.Fatalf("pixel lacks a part (%v): %s %v", err, r.URI, r.Headers)
		}
		if ua := header(r, "User-Agent"); ua != chromeDesktopUA || !strings.Contains(ua, "Chrome/") || strings.Contains(ua, "Mobile") {
			t.Fatalf("User-Agent %q", ua)
		}
	}
	for seed := uint64(1); seed <= 20; seed++ {
		m.Seed = seed
		reqs, err := m.Generate(1)
		if err != nil || len(reqs) != 1 {
			t.Fatal(err)
		}
		check(&reqs[0])
	}
	m.Bots = 0.5
	reqs, err := m.Generate(100)
	if err != nil {
		t.Fatal(err)
	}
	bots := 0
	for i := range reqs {
		if reqs[i].Bot {
			bots++
			if header(&reqs[i], "User-Agent") == chromeDesktopUA {
				t.Fatal("a bot with the browser's User-Agent")
			}
			continue
		}
		check(&reqs[i])
	}
	if bots != 50 {
		t.Fatalf("%d bots", bots)
	}
}

// TestGenerateDefaultPinned pins the default traffic: options added to the
// generator must not change what the default mix sends, or figures taken
// before and after them would not compare.
func TestGenerateDefaultPinned(t *testing.T) {
	m := DefaultMix()
	m.Now = time.Date(2024, 11, 24, 3, 0, 0, 0, time.UTC)
	reqs, err := m.Generate(3000)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, r := range reqs {
		h.Write([]byte(r.Method + " " + r.URI + "\n"))
		for _, x := range r.Headers {
			h.Write([]byte(x.Key + ": " + x.Value + "\n"))
		}
		h.Write(r.Body)
		h.Write([]byte{0, byte(r.Events), byte(r.Kind), byte(r.Malformation)})
	}
	// Digest of the traffic generated before Full and Only existed.
	const want = "ca8b2cb9ac0d59848a2efe0035f34f1858e0a7cab845bb87c88c55b6e1354482"
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Fatalf("default traffic changed: digest %s; want %s", got, want)
	}
}

func TestApportion(t *testing.T) {
	f := func(n int, w []int, want ...int) {
		t.Helper()
		got := apportion(n, w)
		sum := 0
		for i := range got {
			sum += got[i]
			if got[i] != want[i] {
				t.Fatalf("apportion(%d, %v) = %v; want %v", n, w, got, want)
			}
		}
		if sum != n {
			t.Fatalf("sum %d != %d", sum, n)
		}
	}
	f(100, []int{60, 25, 10, 5}, 60, 25, 10, 5)
	f(10, []int{1, 1, 1}, 4, 3, 3)
	f(7, []int{0, 1}, 0, 7)
	f(1, []int{60, 25, 10, 5}, 1, 0, 0, 0)
}

// TestGenerate checks that the generated traffic is what it claims: exact
// shares, parseable queries and JSON where the request is meant to be valid,
// event counts that match the bodies, and the real consent strings.
func TestGenerate(t *testing.T) {
	m := DefaultMix()
	m.Now = time.Date(2024, 11, 24, 3, 0, 0, 0, time.UTC)
	const n = 2000
	reqs, err := m.Generate(n)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != n {
		t.Fatalf("len = %d", len(reqs))
	}
	kinds := map[Kind]int{}
	malformed := map[Malformation]int{}
	bots, fwd, tcSeen, gcsSeen, plainBeacons, arrays := 0, 0, 0, 0, 0, 0
	var urlBytes, urls int
	header := func(r *Request, k string) string {
		for _, h := range r.Headers {
			if h.Key == k {
				return h.Value
			}
		}
		return ""
	}
	for i := range reqs {
		r := &reqs[i]
		kinds[r.Kind]++
		if r.Bot {
			bots++
		}
		if header(r, "User-Agent") == "" {
			t.Fatalf("request %d has no User-Agent", i)
		}
		if header(r, "X-Forwarded-For") != "" {
			fwd++
		}
		switch r.Kind {
		case KindPixel:
			path, raw, ok := strings.Cut(r.URI, "?")
			if r.Method != "GET" || path != m.PixelPath || !ok {
				t.Fatalf("pixel %d: %s %s", i, r.Method, r.URI)
			}
			q, err := url.ParseQuery(raw)
			if err != nil {
				t.Fatalf("pixel %d query: %v", i, err)
			}
			if q.Get("site") != "shop-example" || r.Events != 1 {
				t.Fatalf("pixel %d: site %q events %d", i, q.Get("site"), r.Events)
			}
			if u := q.Get("url"); u != "" {
				urlBytes += len(u)
				urls++
				if _, err := url.Parse(u); err != nil {
					t.Fatalf("pixel %d url: %v", i, err)
				}
			}
			if tc := q.Get("gdpr_consent"); tc != "" {
				tcSeen++
				if !isVector(validTC, tc) {
					t.Fatalf("pixel %d: unknown TC string %q", i, tc)
				}
			}
			if q.Get("gcs") != "" {
				gcsSeen++
			}
		case KindBeacon:
			if r.Method != "POST" || r.URI != m.BeaconPath {
				t.Fatalf("beacon %d: %s %s", i, r.Method, r.URI)
			}
			switch ct := header(r, "Content-Type"); ct {
			case "application/x-www-form-urlencoded":
				q, err := url.ParseQuery(string(r.Body))
				if err != nil || q.Get("site") == "" || r.Events != 1 {
					t.Fatalf("form beacon %d: %v %q", i, err, r.Body)
				}
			case "text/plain;charset=UTF-8", "application/json":
				if ct == "text/plain;charset=UTF-8" {
					plainBeacons++
				}
				var evs []map[string]any
				if r.Body[0] == '[' {
					arrays++
					if err := json.Unmarshal(r.Body, &evs); err != nil {
						t.Fatalf("beacon %d: %v", i, err)
					}
				} else {
					var e map[string]any
					if err := json.Unmarshal(r.Body, &e); err != nil {
						t.Fatalf("beacon %d: %v", i, err)
					}
					evs = append(evs, e)
				}
				if len(evs) != r.Events {
					t.Fatalf("beacon %d: %d events, Events=%d", i, len(evs), r.Events)
				}
				for _, e := range evs {
					if e["site"] != "shop-example" || e["event"] == "" {
						t.Fatalf("beacon %d: %v", i, e)
					}
				}
			default:
				t.Fatalf("beacon %d: content type %q", i, ct)
			}
			if len(r.Body) < 150 || len(r.Body) > 8000 {
				t.Fatalf("beacon %d: body of %d bytes", i, len(r.Body))
			}
		case KindBLE:
			var b struct {
				Site      string           `json:"site"`
				Store     string           `json:"store"`
				Sightings []map[string]any `json:"sightings"`
			}
			if err := json.Unmarshal(r.Body, &b); err != nil {
				t.Fatalf("ble %d: %v", i, err)
			}
			if r.Method != "POST" || r.URI != m.BLEPath || b.Site == "" || b.Store == "" || len(b.Sightings) != r.Events || r.Events == 0 {
				t.Fatalf("ble %d: %s %s %+v events %d", i, r.Method, r.URI, b, r.Events)
			}
			for _, s := range b.Sightings {
				if s["rssi"] == nil || s["ts"] == nil || (s["uuid"] == nil && s["namespace"] == nil) {
					t.Fatalf("ble %d: sighting %v", i, s)
				}
			}
		case KindMalformed:
			malformed[r.Malformation]++
			checkMalformed(t, m, r)
		}
	}
	want := map[Kind]int{KindPixel: 1200, KindBeacon: 500, KindBLE: 200, KindMalformed: 100}
	for k, w := range want {
		if kinds[k] != w {
			t.Errorf("%s: %d; want %d", k, kinds[k], w)
		}
	}
	for mf := BadJSON; mf < numMalformations; mf++ {
		if malformed[mf] < 100/int(numMalformations-1) {
			t.Errorf("%s: %d", mf, malformed[mf])
		}
	}
	if bots != 200 || fwd != 1800 {
		t.Errorf("bots %d (want 200), forwarded %d (want 1800)", bots, fwd)
	}
	if avg := urlBytes / urls; avg < 360 || avg > 520 {
		t.Errorf("average page URL %d bytes; want about 400", avg)
	}
	if tcSeen < 500 || gcsSeen < 400 || plainBeacons < 300 || arrays < 100 {
		t.Errorf("consent/beacon variety: tc %d gcs %d plain %d arrays %d", tcSeen, gcsSeen, plainBeacons, arrays)
	}

	// Same seed, same traffic; another seed, other traffic.
	again, _ := m.Generate(n)
	for i := range reqs {
		if reqs[i].URI != again[i].URI || string(reqs[i].Body) != string(again[i].Body) {
			t.Fatalf("request %d differs between runs with one seed", i)
		}
	}
	m.Seed = 2
	other, _ := m.Generate(n)
	same := 0
	for i := range reqs {
		if reqs[i].URI == other[i].URI && string(reqs[i].Body) == string(other[i].Body) {
			same++
		}
	}
	if same > n/10 {
		t.Errorf("seed 2 repeats %d of %d requests", same, n)
	}
}

func checkMalformed(t *testing.T, m Mix, r *Request) {
	t.Helper()
	if r.Events != 0 && r.Malformation != BadConsent {
		t.Fatalf("%s carries %d events", r.Malformation, r.Events)
	}
	switch r.Malformation {
	case BadJSON:
		var v map[string]any
		if json.Unmarshal(r.Body, &v) == nil && v != nil {
			t.Fatalf("bad_json body is a JSON object: %q", r.Body)
		}
	case Oversized:
		if len(r.Body) < m.OversizeBytes || (m.OversizeBytes > 2000 && len(r.Body) != m.OversizeBytes) || !json.Valid(r.Body) {
			t.Fatalf("oversized body: %d bytes, valid %v", len(r.Body), json.Valid(r.Body))
		}
	case WrongMethod:
		if (r.Method == "GET" && !strings.HasPrefix(r.URI, m.BLEPath)) || r.Method == "POST" {
			t.Fatalf("wrong_method: %s %s", r.Method, r.URI)
		}
	case BadQuery:
		if r.Method != "GET" || !strings.HasPrefix(r.URI, m.PixelPath+"?") {
			t.Fatalf("bad_query: %s %s", r.Method, r.URI)
		}
	case BadConsent:
		q, err := url.ParseQuery(strings.SplitN(r.URI, "?", 2)[1])
		if err != nil || !isVector(invalidTC, q.Get("gdpr_consent")) {
			t.Fatalf("bad_consent: %v %q", err, q.Get("gdpr_consent"))
		}
	case BadBLE:
		if r.URI != m.BLEPath || !json.Valid(r.Body) {
			t.Fatalf("bad_ble: %s %q", r.URI, r.Body)
		}
	default:
		t.Fatalf("malformed request without a malformation: %+v", r)
	}
}

func isVector(vs []tcVector, tc string) bool {
	for _, v := range vs {
		if v.tc == tc {
			return true
		}
	}
	return false
}

// TestVectorsMatchShared checks the copied TC strings against the shared
// collection they were taken from, with the same validity.
func TestVectorsMatchShared(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "testdata", "consent", "tcf-public-vectors.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("shared test data absent (%v); the vectors are copied into signals.go", err)
	}
	var file struct {
		Vectors []struct {
			Name  string `json:"name"`
			TC    string `json:"tc_string"`
			Valid bool   `json:"decodes_and_valid"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	valid := map[string]bool{}
	for _, v := range file.Vectors {
		valid[v.TC] = v.Valid
	}
	f := func(vs []tcVector, want bool) {
		t.Helper()
		for _, v := range vs {
			got, ok := valid[v.tc]
			if !ok || got != want {
				t.Errorf("%s: in shared file %v, valid %v; want valid %v", v.name, ok, got, want)
			}
		}
	}
	f(validTC, true)
	f(invalidTC, false)
}

func TestKindStrings(t *testing.T) {
	for k := KindPixel; k <= KindMalformed; k++ {
		if k.String() == "unknown" {
			t.Errorf("kind %d has no name", k)
		}
	}
	for mf := NotMalformed; mf < numMalformations; mf++ {
		if mf.String() == "unknown" {
			t.Errorf("malformation %d has no name", mf)
		}
	}
	if Kind(99).String() != "unknown" || Malformation(99).String() != "unknown" || Mode(9).String() != "unknown" {
		t.Error("out-of-range names")
	}
}
