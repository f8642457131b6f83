package pseudonym

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestKeyStoreInstancesWithOnePID: instances that share the key store run
// in containers, where each gateway is process 1, so the temporary file
// createOnce names after the process id was one and the same file for all
// of them: two instances making a period's key at once (Rotate makes the
// next one at the same lead time on each) wrote their keys into one file,
// the second truncating the key the first had already linked and used.
// The instances then computed different pseudonyms for one period, one of
// them from a key no longer on disk (a subject lookup or a restart gives
// other pseudonyms than its records carry), or read a truncated key file
// and wrote no pseudonym. Stores in one process have one process id too:
// every instance here must get the key that is on disk, never an error.
func TestKeyStoreInstancesWithOnePID(t *testing.T) {
	dir := t.TempDir()
	const instances, periods = 6, 40
	stores := make([]*KeyStore, instances)
	for i := range stores {
		ks, err := OpenKeyStore(dir, testSecret(t), upgradeAt, false)
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = ks
	}
	first := upgradeAt.Unix()/3600 + 1 // hourly periods after the store's creation
	got := make([][][]byte, instances)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, ks := range stores {
		got[i] = make([][]byte, periods)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for p := range periods {
				k, err := ks.PeriodKey("pseudonym", 3600, first+int64(p))
				if err != nil {
					k = []byte("error: " + err.Error())
				}
				got[i][p] = k
			}
		}()
	}
	close(start)
	wg.Wait()
	reader, err := OpenKeyStore(dir, testSecret(t), upgradeAt.Add(time.Hour), true)
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for p := range periods {
		want, err := reader.PeriodKey("pseudonym", 3600, first+int64(p))
		if err != nil {
			t.Fatalf("period %d: the key on disk: %v", p, err)
		}
		for i := range stores {
			if !bytes.Equal(got[i][p], want) {
				bad++
				if bad <= 5 {
					t.Errorf("period %d: instance %d used %s, not the key on disk", p, i, describe(got[i][p]))
				}
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d keys handed out differ from the key on disk", bad, instances*periods)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left", e.Name())
		}
		if fi, err := e.Info(); err == nil && fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %04o; want no access but the owner's", e.Name(), fi.Mode().Perm())
		}
	}
}

func describe(k []byte) string {
	if bytes.HasPrefix(k, []byte("error: ")) {
		return string(k)
	}
	return fmt.Sprintf("another key (%d bytes)", len(k))
}
