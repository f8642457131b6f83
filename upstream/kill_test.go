//go:build unix

package upstream

import (
	"bufio"
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/beacongate/beacongate/upstream/spool"
)

// Environment of the child process of TestKill9.
const (
	killChildDir = "UPSTREAM_KILL9_DIR"
	killChildURL = "UPSTREAM_KILL9_URL"
)

// killDests is the child's (and the restarted parent's) configuration: an
// HTTP upstream that gets every record, and the file sink that gets the
// even-numbered ones.
func killDests(url string) []DestinationOptions {
	return []DestinationOptions{
		{Name: "http", HTTP: &HTTPOptions{URL: url}, Batch: BatchOptions{MaxEvents: 300, MaxAge: 10 * time.Millisecond}, Retry: fastRetry},
		{Name: "file", File: &FileOptions{RollBytes: 32 << 10}, Batch: BatchOptions{MaxEvents: 100, MaxAge: 10 * time.Millisecond}, Retry: fastRetry},
	}
}

func killRoute(id string) Route {
	n := 0
	for _, c := range id[1:] {
		n = n*10 + int(c-'0')
	}
	if n%2 == 0 {
		return 3
	}
	return 1
}

// TestKill9 starts this test binary as a child that appends records from
// several goroutines, shipping them at the same time, and prints the id of
// each acknowledged record. The parent kills it with SIGKILL in the middle
// of the load, then reopens the spool: every acknowledged record must still
// be in the spool or already delivered, and after the restart every one
// must be delivered to each of its destinations.
func TestKill9(t *testing.T) {
	if dir := os.Getenv(killChildDir); dir != "" {
		kill9Child(dir, os.Getenv(killChildURL))
		return
	}
	c := newCollector(t)
	data := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildDir+"="+data, killChildURL+"="+c.srv.URL)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "ack ") {
			continue // a line cut by the kill, or test output
		}
		acked = append(acked, line[4:])
		if len(acked) == 20000 && !killed {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("the child stopped before it was killed: %v", err)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, not SIGKILL", cmd.ProcessState)
	}
	deliveredBefore := c.ids.n.Load()

	// 1. The spool alone: every acknowledged record not yet received by
	// the HTTP upstream must be in the spool after the cursor.
	sp, err := spool.Open(spool.Options{Dir: filepath.Join(data, "spool"), Destinations: []string{"http", "file"}})
	if err != nil {
		t.Fatalf("reopening the spool: %v", err)
	}
	inSpool := newIDSet()
	r := sp.Reader(0)
	for {
		rec, _, ok, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		inSpool.add(idOf(rec))
	}
	torn := sp.TornBytes()
	sp.Close()
	var lostFromSpool []string
	for _, id := range acked {
		if !inSpool.has(id) && !c.ids.has(id) {
			lostFromSpool = append(lostFromSpool, id)
		}
	}
	if len(lostFromSpool) > 0 {
		t.Fatalf("%d acknowledged records neither delivered nor in the spool, e.g. %v", len(lostFromSpool), lostFromSpool[:min(5, len(lostFromSpool))])
	}

	// 2. Restart the pipeline: everything is delivered.
	p := openP(t, Options{DataDir: data, Destinations: killDests(c.srv.URL)})
	waitFor(t, "every acknowledged record at the HTTP upstream", 30*time.Second, func() bool { return c.ids.countMissing(acked) == 0 })
	closeP(t, p)
	missing, dups := c.ids.compare(acked)
	if len(missing) != 0 {
		t.Fatalf("HTTP: %d acknowledged records lost", len(missing))
	}
	var even []string
	for _, id := range acked {
		if killRoute(id) == 3 {
			even = append(even, id)
		}
	}
	files := newIDSet()
	readZstdDir(t, filepath.Join(data, "out"), files)
	fmissing, fdups := files.compare(even)
	if len(fmissing) != 0 {
		t.Fatalf("file: %d of %d acknowledged records lost", len(fmissing), len(even))
	}
	t.Logf("kill -9 after %d acks: lost 0; HTTP: %d delivered before the kill, %d in the spool after it, %d duplicates; file: %d records, %d duplicates; torn tail %d bytes",
		len(acked), deliveredBefore, inSpool.n.Load(), dups, len(even), fdups, torn)
}

// kill9Child appends until killed, printing "ack <id>" for each record
// whose Append returned nil. It never returns normally.
func kill9Child(dir, url string) {
	p, err := Open(Options{DataDir: dir, Destinations: killDests(url), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		os.Stderr.WriteString("child: " + err.Error() + "\n")
		os.Exit(2)
	}
	var mu sync.Mutex
	w := bufio.NewWriterSize(os.Stdout, 64)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			for i := 0; ; i++ {
				n := i*8 + g
				rec := testRecord(rng, "c", n)
				id := idOf(rec)
				if p.Append(rec, killRoute(id)) != nil {
					continue
				}
				mu.Lock()
				w.WriteString("ack " + id + "\n")
				w.Flush() // the parent must see the ack before the next one
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	p.Close(context.Background())
	os.Exit(0)
}
