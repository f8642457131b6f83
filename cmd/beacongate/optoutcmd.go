package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/internal/atomicfile"
	"github.com/beacongate/beacongate/retail"
)

const optOutUsage = `usage: beacongate optout -config FILE [-data DIR] add|remove|list [DEVICE_ID...]

Deprecated: use beacongate subject suppress|unsuppress -kind mac|adid -id ID,
and beacongate subject list. This spelling still works: add puts the device
ids (a MAC in any notation, or an advertising / app instance id) on the
suppression list as store devices (keyed hashes only; a running gateway
applies it within seconds), remove takes them off it and off the older
ble.optout_file list, list prints both.
`

// optOutNotice is printed by every use of the deprecated spelling.
const optOutNotice = "beacongate optout is deprecated: use beacongate subject suppress|unsuppress -kind mac|adid -id ID, and beacongate subject list\n"

// runOptOut implements beacongate optout, the deprecated spelling of
// beacongate subject suppress|unsuppress|list for store devices.
func runOptOut(args []string, stdout, stderr io.Writer) int {
	return writtenOrFail("beacongate optout", stdout, stderr, func(w io.Writer) int { return optOut(args, w, stderr) })
}

// optOut is runOptOut's body.
func optOut(args []string, stdout, stderr io.Writer) int {
	fmt.Fprint(stderr, optOutNotice)
	fs := flag.NewFlagSet("optout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "the gateway's config file")
	data := fs.String("data", "", "the gateway's data directory (default: the config's server.data_dir)")
	fs.Usage = func() { fmt.Fprint(stderr, optOutUsage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // the usage was asked for
		}
		return 2
	}
	rest := fs.Args()
	if *cfgPath == "" || len(rest) == 0 || (rest[0] == "list") != (len(rest) == 1) || (rest[0] != "list" && rest[0] != "add" && rest[0] != "remove") {
		fmt.Fprint(stderr, optOutUsage)
		return 2
	}
	cfg, err := officerConfig(*cfgPath, *data)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate optout: %v\n", err)
		return 1
	}
	if rest[0] == "list" {
		return listSuppressed(cfg, stdout, stderr)
	}
	key, err := subjectKey(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate optout: %v\n", err)
		return 1
	}
	verb := map[string]string{"add": "suppress", "remove": "unsuppress"}[rest[0]]
	changed, legacy := 0, false
	for _, id := range rest[1:] {
		if id == "" {
			fmt.Fprintln(stderr, "beacongate optout: an empty device id")
			return 2
		}
		k := kindAdID
		if _, ok := retail.AppendMAC(nil, []byte(id)); ok {
			k = kindMAC
		}
		var out strings.Builder
		if code := editSubject(cfg, key, verb, k, "", id, &out, stderr); code != 0 {
			return code
		}
		if strings.Contains(out.String(), ": now ") {
			changed++
		}
		legacy = legacy || strings.Contains(out.String(), "(ble.optout_file)")
	}
	past := map[string]string{"add": "added", "remove": "removed"}[rest[0]]
	fmt.Fprintf(stdout, "%s %d of %d device id(s) (%s); a running gateway applies it within seconds\n", past, changed, len(rest)-1, suppressionFile(cfg))
	if legacy {
		fmt.Fprintf(stdout, "some were removed from the older opt-out list %s (ble.optout_file), which a running gateway re-reads only on reload (SIGHUP or POST /-/reload) or restart: until then it still drops them\n", cfg.BLE.OptOutFile)
	}
	return 0
}

// removeOptOut takes id off the older opt-out list (ble.optout_file), if
// the config names one and it exists, and reports whether it was there.
// Nothing is ever added to that list any more: its hashes are keyed with
// ble.optout_key_file over identifiers that were never stored, so they
// cannot be moved to the suppression list; the gateway reads both.
func removeOptOut(b *config.BLE, id string) (bool, error) {
	list, err := openOptOut(b)
	if err != nil || list == nil {
		return false, err
	}
	if !list.Remove([]byte(id)) {
		return false, nil
	}
	if err := atomicfile.Write(b.OptOutFile, list.AppendFile(nil), 0o600); err != nil {
		return false, fmt.Errorf("ble.optout_file: %w", err)
	}
	return true, nil
}

// optOutKey reads the opt-out key, creating a random one when create is
// set and the file does not exist.
func optOutKey(path string, create bool) ([]byte, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		// Text, not raw bytes: a random key that began or ended with a
		// white-space byte was shortened by the config check's trimming and
		// refused (about 1 start in 20).
		raw := make([]byte, 48)
		if _, err := rand.Read(raw); err != nil {
			return nil, err
		}
		key = []byte(base64.RawURLEncoding.EncodeToString(raw))
		clear(raw)
		if err := atomicfile.Write(path, key, 0o600); err != nil {
			return nil, fmt.Errorf("ble.optout_key_file: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ble.optout_key_file: %w", err)
	}
	return bytes.TrimRight(key, "\r\n"), nil
}

// loadOptOut reads the opt-out list; a missing file is an empty list.
func loadOptOut(path string, key []byte) (*retail.OptOut, error) {
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("ble.optout_file: %w", err)
	}
	l, err := retail.ParseOptOut(key, data)
	if err != nil {
		return nil, fmt.Errorf("ble.optout_file %s: %w", path, err)
	}
	return l, nil
}

// openOptOut loads the list cfg names, or returns nil when it names none.
func openOptOut(b *config.BLE) (*retail.OptOut, error) {
	if b.OptOutFile == "" {
		return nil, nil
	}
	if _, err := os.Stat(b.OptOutFile); errors.Is(err, fs.ErrNotExist) {
		return nil, nil // nobody has opted out yet: the first add creates the key and the list
	}
	key, err := optOutKey(b.OptOutKeyFile, false)
	if err != nil {
		return nil, err
	}
	return loadOptOut(b.OptOutFile, key)
}
