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
