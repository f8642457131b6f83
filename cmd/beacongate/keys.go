package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beacongate/beacongate/audit"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/config"
)

// cliClock stamps what the officer's commands (keys, subject, suppress)
// write and read, and serveClock is the server's one clock; both are
// clock.Real except in tests that pin them.
var cliClock, serveClock clock.Clock = clock.Real, clock.Real

// e2eStartEnv names the variable that pins both clocks' start in a binary
// built with -tags e2eclock (e2eclock.go), as the end-to-end tests build
// it; other builds ignore it.
const e2eStartEnv = "BEACONGATE_E2E_START"

const keysUsage = `Usage:
  beacongate keys forget -config FILE -before DATE [-data DIR]

forget destroys, in the key store (<data_dir>/keys, privacy.key_store), the
pseudonym keys of every period that ended at or before DATE (2006-01-02 for
UTC midnight, or RFC 3339). After it, the pseudonyms of those periods cannot
be computed again, by the gateway or anyone else, except for periods that
began before the key store was created: their keys were derived from the
secret, and whoever holds it can still derive them until it is retired. A
running gateway drops its cached copies of those keys within seconds (it
checks the key store every 2 s). The destruction is written to the audit
log (privacy.audit_log); when that fails, it says how many keys were
destroyed, names the audit log to fix, and exits 1.
`

// runKeys runs "beacongate keys ...".
func runKeys(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "forget" {
		switch {
		case len(args) > 0 && (isHelp(args[0]) || args[0] == "help"):
			fmt.Fprint(stdout, keysUsage)
			return 0
		case len(args) > 0:
			unknownCommand(stderr, "beacongate keys", args[0], []string{"forget"}, keysUsage)
		default:
			fmt.Fprint(stderr, keysUsage)
		}
		return 2
	}
	fs := flag.NewFlagSet("beacongate keys forget", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "the gateway's config file (for the secret and data_dir)")
	data := fs.String("data", "", "the gateway's data directory (default: the config's server.data_dir)")
	beforeFlag := fs.String("before", "", "destroy the keys of periods that ended at or before this `DATE`")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // the usage was asked for
		}
		return 2
	}
	before, err := parseDate(*beforeFlag)
	if err != nil || *cfgPath == "" {
		fmt.Fprintf(stderr, "beacongate keys forget: -config and -before are required; -before: %v\n", err)
		return 2
	}
	cfg, err := officerConfig(*cfgPath, *data)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate keys forget: %v\n", err)
		return 1
	}
	if !cfg.Privacy.KeyStore {
		fmt.Fprintf(stderr, "beacongate keys forget: privacy.key_store is off: every key is derived from the secret, so none can be destroyed alone; "+
			"set privacy.key_store: true (new periods then get keys that can be destroyed), or retire the secret\n")
		return 1
	}
	now := cliClock.Now()
	if before.After(now) {
		fmt.Fprintf(stderr, "beacongate keys forget: -before %s is in the future; keys of running periods cannot be destroyed\n", before.Format(time.RFC3339))
		return 2
	}
	// A read-only open first: forgetting must not create a store.
	if _, err := openKeyStore(cfg, now, true); err != nil {
		// Only the store's own meta.json missing means no store: a
		// secret file that is not there is "does not exist" too.
		var pe *os.PathError
		if errors.As(err, &pe) && errors.Is(pe, os.ErrNotExist) && pe.Path == filepath.Join(keyStoreDir(cfg), "meta.json") {
			fmt.Fprintf(stderr, "beacongate keys forget: no key store in %s: no gateway has run with privacy.key_store on this data dir (point -data or server.data_dir at the one it uses); nothing was destroyed\n", keyStoreDir(cfg))
			return 1
		}
		fmt.Fprintf(stderr, "beacongate keys forget: %v\n", err)
		return 1
	}
	ks, err := openKeyStore(cfg, now, false)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate keys forget: %v\n", err)
		return 1
	}
	gone, err := ks.Forget(before)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate keys forget: %v\n", err)
		return 1
	}
	if err := auditCLI(cfg, "key.destroy", "reason", "keys forget", "ended_before", before.Format(time.RFC3339),
		"keys", keyRanges(gone)); err != nil {
		// The keys are gone; only the record of it is missing.
		fmt.Fprintf(stderr, "beacongate keys forget: destroyed %d stored key(s), but the destruction is not recorded: %v\n", len(gone), err)
		return 1
	}
	fmt.Fprintf(stdout, "destroyed %d stored key(s); no pseudonym of a period that ended by %s can be computed by the gateway any more\n",
		len(gone), before.Format(time.RFC3339))
	fmt.Fprintln(stdout, derivedNote(before, ks.Created()))
	return 0
}

// derivedNote is the note keys forget prints about the periods that ended
// by before and began before the key store was created: the store derives
// their keys from the secret (pseudonym.KeyStore.State is KeyDerived), so
// whoever holds the secret can still derive them. There always are such
// periods: periods are counted from the Unix epoch, so the ones that ended
// by before reach back past the store's creation whatever before is, also
// when before is earlier than the creation (then every one of them is
// derived, and no stored key was among them).
func derivedNote(before, created time.Time) string {
	if before.After(created) {
		return "note: periods that began before " + created.Format(time.RFC3339) + " (when the key store was created) were keyed from the secret: " +
			"whoever holds it can still derive them until the secret is retired"
	}
	return "note: every period that ended by " + before.Format(time.RFC3339) + " began before the key store was created (" +
		created.Format(time.RFC3339) + ") and was keyed from the secret: whoever holds it can still derive them until the secret is retired"
}

// keyRanges names the keys destroyed for the audit log: each key by its
// file name, and a run of keys of consecutive periods of one purpose and
// length as one range, "pseudonym-60s-100..199.key". A list of every name
// grew past the longest line the audit log reads (1 MiB) for a store of
// short periods (a month of 1m periods is 43,200 keys), and that line
// left the log unreadable to every later entry.
func keyRanges(names []string) string {
	type key struct {
		prefix string // "pseudonym-60s-"
		idx    int64
	}
	var keys []key
	var other []string // none that Forget returns; kept as they are
	for _, n := range names {
		base, ok := strings.CutSuffix(n, ".key")
		i := strings.LastIndexByte(base, '-')
		var idx int64
		var err error
		if ok && i >= 0 {
			idx, err = strconv.ParseInt(base[i+1:], 10, 64)
		}
		if !ok || i < 0 || err != nil || strconv.FormatInt(idx, 10) != base[i+1:] {
			other = append(other, n)
			continue
		}
		keys = append(keys, key{base[:i+1], idx})
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := strings.Compare(a.prefix, b.prefix); c != 0 {
			return c
		}
		return cmp.Compare(a.idx, b.idx)
	})
	var out []string
	for i := 0; i < len(keys); {
		j := i
		for j+1 < len(keys) && keys[j+1].prefix == keys[i].prefix && keys[j+1].idx == keys[j].idx+1 {
			j++
		}
		name := keys[i].prefix + strconv.FormatInt(keys[i].idx, 10)
		if j > i {
			name += ".." + strconv.FormatInt(keys[j].idx, 10)
		}
		out = append(out, name+".key")
		i = j + 1
	}
	return strings.Join(append(out, other...), " ")
}

// parseDate reads 2006-01-02 (UTC midnight) or RFC 3339.
func parseDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("empty; write 2006-01-02 or an RFC 3339 time")
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("not a date; write 2006-01-02 or an RFC 3339 time")
	}
	return t.UTC(), nil
}

// officerConfig loads the config for an officer's command, with -data
// overriding server.data_dir.
func officerConfig(path, data string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if data != "" {
		if err := cfg.Apply(config.Overrides{DataDir: data}); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// auditCLI appends an entry for an officer's command to the audit log, when
// the config keeps one. It makes the data directory first, as the gateway
// does at start: a lookup in derived mode reads nothing there, and on a
// host where no gateway has run yet it would go unrecorded. Its error names
// the audit log and what to fix, never the entry's fields: the command
// then prints nothing of its answer and fails (the log is the officer's
// proof of who looked up or changed what).
func auditCLI(cfg *config.Config, action string, kv ...string) error {
	if !cfg.Privacy.AuditLog {
		return nil
	}
	path := filepath.Join(cfg.Server.DataDir, audit.FileName)
	fields := map[string]string{"source": "cli"}
	for i := 0; i+1 < len(kv); i += 2 {
		fields[kv[i]] = kv[i+1]
	}
	err := os.MkdirAll(cfg.Server.DataDir, 0o755)
	if err == nil {
		_, err = audit.Open(path, cliClock).Append(action, fields)
	}
	if err != nil {
		return fmt.Errorf("cannot write the audit log %s (%v): make it a writable file in a writable directory (server.data_dir or -data)", path, err)
	}
	return nil
}
