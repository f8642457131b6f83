package main

import (
	"bytes"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/retail"
)

const optOutUsage = `usage: beacongate optout -config FILE add|remove DEVICE_ID...
       beacongate optout -config FILE list

Edits the BLE opt-out list named by ble.optout_file (keyed by
ble.optout_key_file, created with a random key when missing). A device id is
a MAC in any notation or an advertising / app instance id; only its keyed
hash is stored. A running gateway reads the list again on reload (SIGHUP or
POST /-/reload on the admin listener).
`

// runOptOut implements beacongate optout.
func runOptOut(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("optout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "config file whose ble.optout_file and ble.optout_key_file to use")
	fs.Usage = func() { fmt.Fprint(stderr, optOutUsage) }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rest := fs.Args()
	if *cfgPath == "" || len(rest) == 0 || (rest[0] == "list") != (len(rest) == 1) || (rest[0] != "list" && rest[0] != "add" && rest[0] != "remove") {
		fmt.Fprint(stderr, optOutUsage)
		return 2
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate optout: %v\n", err)
		return 1
	}
	b := &cfg.BLE
	if b.OptOutFile == "" {
		fmt.Fprintf(stderr, "beacongate optout: %s sets no ble.optout_file\n", *cfgPath)
		return 1
	}
	key, err := optOutKey(b.OptOutKeyFile, rest[0] != "list")
	if err != nil {
		fmt.Fprintf(stderr, "beacongate optout: %v\n", err)
		return 1
	}
	list, err := loadOptOut(b.OptOutFile, key)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate optout: %v\n", err)
		return 1
	}
	if rest[0] == "list" {
		// Only hashes exist: the ids themselves were never stored.
		stdout.Write(list.AppendFile(nil))
		fmt.Fprintf(stdout, "# %d device(s)\n", list.Len())
		return 0
	}
	changed := 0
	for _, id := range rest[1:] {
		if id == "" {
			fmt.Fprintln(stderr, "beacongate optout: an empty device id")
			return 2
		}
		if rest[0] == "add" && list.Add([]byte(id)) || rest[0] == "remove" && list.Remove([]byte(id)) {
			changed++
		}
	}
	if err := writeFileAtomic(b.OptOutFile, list.AppendFile(nil), 0o600); err != nil {
		fmt.Fprintf(stderr, "beacongate optout: %v\n", err)
		return 1
	}
	verb := map[string]string{"add": "added", "remove": "removed"}[rest[0]]
	fmt.Fprintf(stdout, "%s %d of %d device id(s); the list holds %d; reload the gateway to apply\n", verb, changed, len(rest)-1, list.Len())
	return 0
}

// optOutKey reads the opt-out key, creating a random one when create is
// set and the file does not exist.
func optOutKey(path string, create bool) ([]byte, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := writeFileAtomic(path, key, 0o600); err != nil {
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

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".optout-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
