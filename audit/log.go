package audit

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/internal/flock"
)

// FileName is the log's name in the data directory.
const FileName = "audit.log"

// Entry is one line of the log. Fields is free-form detail; it must never
// hold an identifier, only hashes, counts, names and versions.
type Entry struct {
	Seq    uint64            `json:"seq"`
	Time   string            `json:"time"` // RFC 3339, UTC, from the injected clock
	Action string            `json:"action"`
	Fields map[string]string `json:"fields,omitempty"`
	Prev   string            `json:"prev"`
	Hash   string            `json:"hash"`
}

// Log appends entries to one file. It is safe for concurrent use within a
// process; several processes appending to the same file at once (the CLI
// while the server runs) are serialized by an exclusive lock on the file.
type Log struct {
	mu    sync.Mutex
	path  string
	clock clock.Clock
}

// Open returns the log at path, creating the file on first Append. Nil clk
// means clock.Real.
func Open(path string, clk clock.Clock) *Log {
	return &Log{path: path, clock: clock.Or(clk)}
}

// Path returns the file's path.
func (l *Log) Path() string { return l.path }

// Append writes one entry after the current last line and fsyncs it. It
// returns the entry as written.
//
// A last line without its newline is what a crash or a full disk leaves in
// the middle of an Append: an entry that was never acknowledged. Append
// cuts it off and first writes an "audit.torn_write_cut" entry with the
// number of bytes cut, so that the log goes on, and says so. A complete
// last line that is not an entry (edited) is refused, as before.
func (l *Log) Append(action string, fields map[string]string) (Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return Entry{}, fmt.Errorf("audit: cannot open %s: %w", l.path, err)
	}
	defer f.Close()
	if err := flock.Lock(f); err != nil {
		return Entry{}, fmt.Errorf("audit: cannot lock %s: %w", l.path, err)
	}
	cut, err := cutTornWrite(f)
	if err != nil {
		return Entry{}, fmt.Errorf("audit: cannot cut the unfinished last line of %s: %w", l.path, err)
	}
	last, err := lastEntry(f)
	if err != nil {
		return Entry{}, err
	}
	if cut > 0 {
		if last, err = l.write(f, last, "audit.torn_write_cut", map[string]string{"bytes": strconv.FormatInt(cut, 10)}); err != nil {
			return Entry{}, err
		}
	}
	return l.write(f, last, action, fields)
}

// write appends the entry that follows last to f and fsyncs it.
func (l *Log) write(f *os.File, last Entry, action string, fields map[string]string) (Entry, error) {
	e := Entry{Seq: last.Seq + 1, Time: l.clock.Now().UTC().Format(time.RFC3339Nano), Action: validUTF8(action), Fields: validFields(fields), Prev: last.Hash}
	if last.Hash == "" {
		e.Seq = 1
	}
	e.Hash = e.sum()
	line, err := json.Marshal(e)
	if err != nil {
		return Entry{}, err
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		return Entry{}, err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		return Entry{}, fmt.Errorf("audit: cannot write %s: %w", l.path, err)
	}
	if err := f.Sync(); err != nil {
		return Entry{}, fmt.Errorf("audit: cannot fsync %s: %w", l.path, err)
	}
	return e, nil
}

// validUTF8 replaces each invalid UTF-8 sequence of s with U+FFFD, as
// encoding/json writes it. The hash is taken over the entry as verify
// decodes it from the line: hashed with the raw bytes, a line whose
// detail is not UTF-8 (a path in a Latin-1 directory, an error quoting
// one) was written as \ufffd and then read as edited, and every line
// after it with it.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\ufffd")
}

// validFields is fields with validUTF8 keys and values; fields itself when
// they all are (a caller's map is never changed).
func validFields(fields map[string]string) map[string]string {
	for k, v := range fields {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			out := make(map[string]string, len(fields))
			for k, v := range fields {
				out[validUTF8(k)] = validUTF8(v)
			}
			return out
		}
	}
	return fields
}

// cutTornWrite truncates f after its last newline when bytes follow it (a
// write that did not finish), fsyncs it, and returns how many bytes it cut.
func cutTornWrite(f *os.File) (int64, error) {
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return 0, err
	}
	size := fi.Size()
	buf := make([]byte, 4096)
	for end := size; end > 0; {
		start := max(end-int64(len(buf)), 0)
		b := buf[:end-start]
		if _, err := f.ReadAt(b, start); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 || start == 0 {
			keep := start + int64(i) + 1 // 0 when no newline at all
			if keep == size {
				return 0, nil
			}
			if err := f.Truncate(keep); err != nil {
				return 0, err
			}
			return size - keep, f.Sync()
		}
		end = start
	}
	return 0, nil
}

// sum is the entry's hash: SHA-256 over its JSON with Hash empty.
func (e Entry) sum() string {
	e.Hash = ""
	b, _ := json.Marshal(e) // a struct of strings and a map of strings always encodes
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// written reports whether line is exactly the line Append writes for e.
func (e Entry) written(line []byte) bool {
	b, err := json.Marshal(e)
	return err == nil && bytes.Equal(b, line)
}

// lastEntry reads the last line of f. An empty file gives the zero Entry.
func lastEntry(f *os.File) (Entry, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Entry{}, err
	}
	var last []byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			last = append(last[:0], sc.Bytes()...)
		}
	}
	if err := sc.Err(); err != nil {
		return Entry{}, fmt.Errorf("audit: cannot read %s: %w", f.Name(), err)
	}
	if last == nil {
		return Entry{}, nil
	}
	var e Entry
	if err := json.Unmarshal(last, &e); err != nil || e.Hash == "" {
		return Entry{}, fmt.Errorf("audit: the last line of %s is not an audit entry; run beacongate audit verify", f.Name())
	}
	return e, nil
}

// Broken describes the first entry that breaks the chain.
type Broken struct {
	Line   int    // 1-based line number
	Seq    uint64 // the entry's seq, when it could be read
	Reason string
}

func (b *Broken) Error() string {
	return fmt.Sprintf("audit: line %d (seq %d): %s", b.Line, b.Seq, b.Reason)
}

// TornTail is Verify's error for a log whose last line has no newline:
// part of an entry a crash or a full disk interrupted, never acknowledged,
// which the next Append cuts off and records (audit.torn_write_cut). The
// entries before it are intact; it is not an edit.
type TornTail struct {
	Line  int // 1-based line number of the unfinished line
	Bytes int // its length
}

func (t *TornTail) Error() string {
	return fmt.Sprintf("audit: line %d is unfinished (%d bytes without a newline): a write a crash or a full disk interrupted, never acknowledged; the next entry cuts it off and records the cut", t.Line, t.Bytes)
}

// maxLine bounds one line of the log.
const maxLine = 1 << 20

// Verify reads the log from r and checks every line: valid JSON written
// exactly as Append writes it, its own hash, the previous line's hash and
// consecutive seq numbers. It returns
// the number of valid entries and, if the chain breaks, a *Broken naming
// the first bad line. A last line without its newline (an Append a crash
// interrupted) gives a *TornTail instead, after the entries before it.
func Verify(r io.Reader) (int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var prev Entry
	n, line := 0, 0
	var buf []byte
	for {
		buf = buf[:0]
		var err error
		for {
			var frag []byte
			frag, err = br.ReadSlice('\n')
			buf = append(buf, frag...)
			if err != bufio.ErrBufferFull || len(buf) > maxLine {
				break
			}
		}
		if len(buf) == 0 && err == io.EOF {
			return n, nil
		}
		line++
		switch {
		case len(buf) > maxLine:
			return n, &Broken{Line: line, Reason: "unreadable: longer than " + strconv.Itoa(maxLine) + " bytes"}
		case err == io.EOF:
			return n, &TornTail{Line: line, Bytes: len(buf)}
		case err != nil:
			return n, &Broken{Line: line, Reason: "unreadable: " + err.Error()}
		}
		text := buf[:len(buf)-1]
		var e Entry
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return n, &Broken{Line: line, Reason: "not a valid audit entry"}
		}
		switch {
		case e.Hash != e.sum():
			return n, &Broken{Line: line, Seq: e.Seq, Reason: "its content does not match its hash (edited)"}
		case !e.written(text):
			// The hash covers the entry as decoded; a line spelled
			// otherwise (a key twice or in another case, spaces) can
			// show a reader other content than the verified one.
			return n, &Broken{Line: line, Seq: e.Seq, Reason: "it is not the line Append wrote for its content (edited: rewritten, keys repeated or reformatted)"}
		case e.Prev != prev.Hash:
			return n, &Broken{Line: line, Seq: e.Seq, Reason: "prev does not match the hash of the line before (a line was removed, inserted or reordered)"}
		case e.Seq != prev.Seq+1:
			return n, &Broken{Line: line, Seq: e.Seq, Reason: fmt.Sprintf("seq %d follows %d", e.Seq, prev.Seq)}
		}
		prev = e
		n++
	}
}

// VerifyFile is Verify on the file at path.
func VerifyFile(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	return Verify(f)
}

// IsBroken reports whether err is a broken chain (rather than an I/O error).
func IsBroken(err error) bool {
	var b *Broken
	return errors.As(err, &b)
}

// SubjectHash is how a subject identifier appears in the log: the first 16
// bytes of HMAC-SHA256(key, kind || 0 || id), hex. With a secret key it
// cannot be reversed by guessing identifiers.
func SubjectHash(key []byte, kind, id string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// TokenHash names a bearer token in the log: the first 8 bytes of its
// SHA-256, hex. Enough to tell tokens apart, useless to replay.
func TokenHash(token []byte) string {
	s := sha256.Sum256(token)
	return hex.EncodeToString(s[:8])
}
