package scrub

import (
	"math/rand"
	"testing"
)

// matchToken returns the end of the [A-Za-z0-9_-] run starting at i if the
// run is a token, or 0.
func matchToken(b []byte, i int, keepUUIDs bool) int {
	q := i
	for q < len(b) && class[b[q]]&cToken != 0 {
		q++
	}
	if q-i < minHexToken {
		return 0
	}
	long := q-i >= minTokenRun
	for cs := i; cs < q; {
		ce := chunkEnd(b, cs, q)
		if short, lng := tokenChunk(b, cs, ce, q, keepUUIDs); short && !long || lng && long {
			return q
		}
		cs = ce + 1
	}
	return 0
}

// matchBase64Token returns the end of a base64 or base64url run at i
// (with its '=' padding) that reads as random bytes (see base64Token), or
// 0.
func matchBase64Token(b []byte, i int) int {
	p := i
	for p < len(b) && base64Class(b[p]) != noBase64 {
		p++
	}
	var st base64Stats
	st.add(b[i:p])
	return base64Token(b, i, p, st)
}

// runMemoCheck reads b from each start in increasing order, as one scan's
// restarts do, skipping some, and checks that runMemo answers as reading
// each run from its start does.
func runMemoCheck(t *testing.T, b []byte, skip []byte) {
	t.Helper()
	for _, keep := range []bool{false, true} {
		var m runMemo
		for i := 0; i < len(b); i++ {
			if len(skip) > 0 && skip[i%len(skip)]&1 == 1 {
				continue
			}
			if got, want := m.tok.match(b, i, keep), matchToken(b, i, keep); got != want {
				t.Fatalf("tokenMemo.match(%q, %d, %v) = %d; matchToken gives %d", b, i, keep, got, want)
			}
			if got, want := m.b64.match(b, i), matchBase64Token(b, i); got != want {
				t.Fatalf("base64Memo.match(%q, %d) = %d; matchBase64Token gives %d", b, i, got, want)
			}
		}
	}
}

// FuzzRunMemo: the memo of one scan gives what reading each run from each
// start gives.
func FuzzRunMemo(f *testing.F) {
	for _, s := range []string{
		"0151-0151-0151-0151-aB3dE5fG7hJ9kL-deadbeefdeadbeef01",
		"4111-4111-4111-4111-550e8400-e29b-41d4-a716-446655440000",
		"hV+W6YPx+Oi+lEaStvcZ/VQymCbLYumAFe/uji4HHdQ= 1MdFlNhBE5MoaVdWZItr1g==",
		"AbCdEfGhIjKlMnOpQrStUvWxYz-x_QWERTYasdfgh1234567890abcDEF",
	} {
		f.Add([]byte(s), []byte{0})
	}
	f.Fuzz(func(t *testing.T, b, skip []byte) { runMemoCheck(t, b, skip) })
}

// TestRunMemo checks runMemo on generated runs of the characters the two
// rules read.
func TestRunMemo(t *testing.T) {
	// Mostly run characters, so that runs are long; some of the rest.
	const run, other = "aAbBfFzZ0159-_+/", "=.@ "
	rng := rand.New(rand.NewSource(1))
	for n := 0; n < 5000; n++ {
		b := make([]byte, rng.Intn(120))
		for k := range b {
			if rng.Intn(30) == 0 {
				b[k] = other[rng.Intn(len(other))]
			} else {
				b[k] = run[rng.Intn(len(run))]
			}
		}
		skip := make([]byte, 1+rng.Intn(5))
		rng.Read(skip)
		runMemoCheck(t, b, skip)
	}
}
