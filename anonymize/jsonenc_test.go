package anonymize

import (
	"encoding/json"
	"testing"
	"time"
)

func TestAppendTimeField(t *testing.T) {
	f := func(tm time.Time) {
		t.Helper()
		got := string(appendTimeField([]byte("{"), "t", tm))
		want := `{"t":"` + tm.UTC().Format("2006-01-02T15:04:05.000Z07:00") + `"`
		if got != want {
			t.Fatalf("got %s; want %s", got, want)
		}
	}
	f(time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC))
	f(time.Date(2025, 1, 2, 3, 4, 5, 678999999, time.FixedZone("x", -7*3600)))
	f(time.Date(1, 1, 1, 0, 0, 0, 1e6, time.UTC))
	f(time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC))
	f(time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)) // out of range: the slow path
}

// FuzzAppendTimeField: for any instant, the hand-made format is
// time.Format's.
func FuzzAppendTimeField(f *testing.F) {
	f.Add(int64(1795520400), int64(0))
	f.Add(int64(-62135596800), int64(1e6))
	f.Add(int64(253402300799), int64(999999999))
	f.Add(int64(1735787045), int64(678999999))
	f.Fuzz(func(t *testing.T, sec, nsec int64) {
		tm := time.Unix(sec, nsec)
		got := string(appendTimeField([]byte("{"), "t", tm))
		want := `{"t":"` + tm.UTC().Format("2006-01-02T15:04:05.000Z07:00") + `"`
		if got != want {
			t.Fatalf("got %s; want %s", got, want)
		}
	})
}

func BenchmarkAppendTimeField(b *testing.B) {
	tm := time.Date(2026, 11, 24, 9, 59, 7, 123e6, time.UTC)
	buf := make([]byte, 0, 64)
	for b.Loop() {
		buf = appendTimeField(buf[:0], "seen", tm)
	}
	sinkRecord = buf
}

func TestAppendString(t *testing.T) {
	f := func(in string) {
		t.Helper()
		out := appendString(nil, []byte(in))
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%q: invalid JSON %s: %v", in, out, err)
		}
		want := string([]rune(in)) // invalid UTF-8 becomes U+FFFD, as encoding/json does
		if back != want {
			t.Fatalf("%q round-tripped to %q", in, back)
		}
	}
	f("plain")
	f("quote\" backslash\\ newline\n tab\t ctl\x01")
	f("<script>&</script>")
	f("\u2028\u2029 é ü 日本")
	f("bad \xff utf-8")
}
