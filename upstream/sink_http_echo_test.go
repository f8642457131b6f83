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

// TestHTTPErrorAnswerNotKept: a collector that refuses a batch and echoes
// the refused record in its answer puts none of it in the log or in the
// dead letter's .error file (found by a review: the first 512 bytes of
// the answer were in both).
func TestHTTPErrorAnswerNotKept(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		line, _, _ := bytes.Cut(body, []byte("\n"))
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte("invalid record at line 1: "))
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
	reasons, _ := filepath.Glob(filepath.Join(dir, "deadletter", "partner", "*.error"))
	if len(reasons) == 0 {
		t.Fatalf("no dead letter written; log:\n%s", logs.String())
	}
	out := logs.String()
	for _, path := range reasons {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		out += string(b)
		if !strings.Contains(string(b), "HTTP 400") {
			t.Errorf("%s: %q; want the status", path, b)
		}
	}
	for _, v := range []string{"203.0.113.77", "secret-device-jane", "invalid record"} {
		if strings.Contains(out, v) {
			t.Errorf("log or .error file holds %q from the collector's answer:\n%s", v, out)
		}
	}
}
