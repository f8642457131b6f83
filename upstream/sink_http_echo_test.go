package upstream

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the pipeline's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestHTTPErrorAnswerNotLogged: a collector that refuses a batch and
// echoes the refused record in its answer puts none of it in the log (found
// by a review: the first 512 bytes of the answer were in the log line); the
// answer is kept only in the dead letter's .error file, beside the records
// it may echo.
func TestHTTPErrorAnswerNotLogged(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		line, _, _ := bytes.Cut(body, []byte("\n"))
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte("invalid record at line 1:\n"))
		w.Write(line)
	}))
	defer srv.Close()
	var logs lockedBuffer
	dir := t.TempDir()
	p, err := Open(Options{
		DataDir: dir,
		Logger:  slog.New(slog.NewJSONHandler(&logs, nil)),
		Destinations: []DestinationOptions{{
			Name:        "partner",
			HTTP:        &HTTPOptions{URL: srv.URL},
			Compression: CodecNone,
			Batch:       BatchOptions{MaxAge: 10 * time.Millisecond},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := []byte(`{"v":1,"id":"AAAAAAAAAAAAAAAAAAAAAA","kind":"beacon","site":"shop","ip":"203.0.113.77","user_agent":"Mozilla/5.0 (secret-device-jane)"}`)
	if err := p.Append(rec, RouteTo(0)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(logs.String(), "dead-letter") {
		time.Sleep(20 * time.Millisecond)
	}
	p.Close(context.Background())
	out := logs.String()
	for _, v := range []string{"203.0.113.77", "secret-device-jane", "invalid record"} {
		if strings.Contains(out, v) {
			t.Errorf("log holds %q from the collector's answer:\n%s", v, out)
		}
	}
	reasons, _ := filepath.Glob(filepath.Join(dir, "deadletter", "partner", "*.error"))
	if len(reasons) != 1 {
		t.Fatalf("%d .error files; want 1; log:\n%s", len(reasons), out)
	}
	b, err := os.ReadFile(reasons[0])
	if err != nil {
		t.Fatal(err)
	}
	if want := "permanent: HTTP 400 (the answer is not logged: it may echo records); answer: invalid record at line 1: {"; !strings.HasPrefix(string(b), want) || strings.Count(string(b), "\n") != 1 {
		t.Errorf(".error file %q; want one line starting %q", b, want)
	}
}

// TestHTTPDeadLetterReasonKeepsNoCredential: the start of a refusing
// collector's answer is kept in the dead letter's .error file, beside the
// records it may echo, and printed by beacongate deadletter list. An answer
// may echo what the request carried besides the records: the bearer token
// ("invalid token 'Bearer ...'"), a key sent in a configured header, and
// a redirect's body (Express writes "Moved Permanently. Redirecting to
// URL", Go's http.Redirect the same for a GET) the whole target URL, whose path or query the
// error itself leaves out. None of that may reach the .error file (found
// by the review rev-echo: each was kept whole).
func TestHTTPDeadLetterReasonKeepsNoCredential(t *testing.T) {
	const (
		token  = "tok-9f8X2kQ7rLmN4pZs"
		apiKey = "key-Hq3Vt8Wc5Yb1Nd6"
		target = "https://moved.example:8443/in?sig=Zq7Rt2Lp9Xw&email=jane.doe%40example.org"
	)
	cases := []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request)
		window func(*RetryOptions)
	}{
		{"401 echoing the token", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte("invalid credentials: " + r.Header.Get("Authorization")))
		}, func(o *RetryOptions) { o.AuthDeadLetterAfter = 100 * time.Millisecond }},
		{"400 echoing the headers", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte("bad batch; X-Api-Key=" + r.Header.Get("X-Api-Key") + " auth=" + r.Header.Get("Authorization")))
		}, func(*RetryOptions) {}},
		{"redirect with the target in its body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", target)
			w.WriteHeader(http.StatusMovedPermanently)
			w.Write([]byte("Moved Permanently. Redirecting to " + target))
		}, func(o *RetryOptions) { o.RedirectDeadLetterAfter = 100 * time.Millisecond }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				tc.answer(w, r)
			}))
			defer srv.Close()
			dir := t.TempDir()
			tokenFile := filepath.Join(dir, "token")
			if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			var logs lockedBuffer
			d := httpDest("partner", srv.URL)
			d.HTTP.BearerTokenFile = tokenFile
			d.HTTP.Headers = map[string]string{"X-Api-Key": apiKey}
			d.Compression = CodecNone
			tc.window(&d.Retry)
			p := openP(t, Options{DataDir: dir, Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Destinations: []DestinationOptions{d}})
			if err := p.Append([]byte(`{"v":1,"id":"AAAAAAAAAAAAAAAAAAAAAA","kind":"beacon","site":"shop"}`), RouteTo(0)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the dead letter", 10*time.Second, func() bool { return p.Stats()[0].DeadBatches == 1 })
			closeP(t, p)
			dls, err := ListDeadLetters(filepath.Join(dir, "deadletter", "partner"))
			if err != nil || len(dls) != 1 {
				t.Fatalf("dead letters %v, %v; want 1", dls, err)
			}
			reason, err := os.ReadFile(errorFileOf(dls[0].Path))
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range []string{token, apiKey, "Zq7Rt2Lp9Xw", "jane.doe", "/in?"} {
				if strings.Contains(string(reason), v) || strings.Contains(dls[0].Reason, v) {
					t.Errorf(".error file holds %q: %s", v, reason)
				}
				if strings.Contains(logs.String(), v) {
					t.Errorf("log holds %q: %s", v, logs.String())
				}
			}
			if !strings.Contains(string(reason), "HTTP ") {
				t.Errorf(".error file %q says nothing of the refusal", reason)
			}
		})
	}
}
