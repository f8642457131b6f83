package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"

	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/upstream/adplatform"
	"github.com/beacongate/beacongate/wiring"
)

const deadletterUsage = `usage: beacongate deadletter list|replay|drop [-config FILE] [-data DIR] [-dry-run] [-drop-outdated] DESTINATION

Batches a destination refused for good (a 4xx other than 401/403/408/409/425/429, a record
too large for an HTTP collector on its own, a record the broker will never take, credentials
refused past their window) are kept in
<data>/deadletter/DESTINATION/ with the reason in a .error file beside each.

  list    shows each batch: file, records, bytes, reason
  replay  puts the records back into the spool, for DESTINATION only: its
          shipper sends them like any other record when the gateway starts.
          Fix the cause first. The gateway must be stopped (it holds the
          spool; replay says so if it is running). A batch the spool has
          no room for is not started: start the gateway to drain the
          spool, then replay again. A batch file is removed only after all
          its records are fsynced into the spool, so an interrupted replay
          (a kill, a disk error) loses nothing; run it again (records
          appended before the interruption are sent twice, with their
          event ids).
          A record is replayed only if the config now would have sent it
          to DESTINATION in that very form: the purposes it was granted
          cover what DESTINATION requires now, and DESTINATION's policy,
          TCF vendor declaration and the consent rules are those it was
          made under. The others are held back and stay in the dead
          letters (-drop-outdated deletes them); replay says how many and
          why, and exits 3. A batch older than
          privacy.dead_letter_retention is not replayed: the gateway
          deletes it at its next start.
  drop    deletes the batches for good

-dry-run shows what replay or drop would do, and changes nothing.

`

// runDeadletter is "beacongate deadletter".
func runDeadletter(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "list" && args[0] != "replay" && args[0] != "drop") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(stdout, deadletterUsage)
			return 0
		}
		if len(args) > 0 {
			unknownCommand(stderr, "beacongate deadletter", args[0], []string{"list", "replay", "drop"}, deadletterUsage)
			return 2
		}
		fmt.Fprint(stderr, deadletterUsage)
		return 2
	}
	verb := args[0]
	fs := flag.NewFlagSet("deadletter "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "config `FILE` (default: the embedded default config)")
	data := fs.String("data", "", "data `DIR` (default: server.data_dir of the config, ./beacongate-data without one)")
	dry := fs.Bool("dry-run", false, "show what would be done, change nothing")
	dropOutdated := fs.Bool("drop-outdated", false, "replay: delete the records the config now would not send in that form, instead of keeping them")
	fs.Usage = func() { fmt.Fprint(stderr, deadletterUsage); fs.PrintDefaults() }
	// Flags may come before or after DESTINATION.
	var dest []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			if err == flag.ErrHelp {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		dest = append(dest, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(dest) != 1 {
		fmt.Fprintf(stderr, "beacongate deadletter %s: name one destination\n\n", verb)
		fs.Usage()
		return 2
	}
	name := dest[0]
	if *dropOutdated && verb != "replay" {
		fmt.Fprintf(stderr, "beacongate deadletter %s: -drop-outdated is for replay only\n\n", verb)
		fs.Usage()
		return 2
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		printConfigError(stderr, "beacongate deadletter", *configPath, err)
		return 1
	}
	var applyErr error
	switch {
	case *data != "":
		applyErr = cfg.Apply(config.Overrides{DataDir: *data})
	case *configPath == "":
		applyErr = cfg.Apply(config.Overrides{DataDir: "./beacongate-data"})
	}
	if applyErr != nil {
		fmt.Fprintln(stderr, "beacongate deadletter:", applyErr)
		return 1
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	o, err := wiring.PipelineOptions(cfg, nil, log, adplatform.NewOrigins(wiring.SiteOrigins(cfg)), cliClock)
	if err != nil {
		fmt.Fprintf(stderr, "beacongate deadletter: %v\n", err)
		return 1
	}
	known := false
	var names []string
	for _, d := range o.Destinations {
		names = append(names, d.Name)
		known = known || d.Name == name
	}
	if !known {
		fmt.Fprintf(stderr, "beacongate deadletter: no destination %q in the config (have: %s)\n", name, strings.Join(names, ", "))
		return 1
	}
	prefix := ""
	if *dry {
		prefix = "dry run: "
	}
	switch verb {
	case "list":
		dir := upstream.DeadLetterDir(o, name)
		dls, err := upstream.ListDeadLetters(dir)
		if err != nil {
			fmt.Fprintf(stderr, "beacongate deadletter: %v\n", err)
			return 1
		}
		recs := 0
		for _, d := range dls {
			n := fmt.Sprint(d.Records)
			if d.Err != nil {
				n = "unreadable (" + d.Err.Error() + ")"
			} else {
				recs += d.Records
			}
			fmt.Fprintf(stdout, "%s\t%s records\t%d bytes\t%s\n", filepath.Base(d.Path), n, d.Bytes, d.Reason)
		}
		fmt.Fprintf(stdout, "%d batches, %d records in %s\n", len(dls), recs, dir)
	case "replay":
		// Each record is checked against the plan of the config now, and
		// the plan it was made under (kept by the gateway in the data
		// directory).
		gvl, err := wiring.LoadGVL(cfg)
		if err != nil {
			fmt.Fprintf(stderr, "beacongate deadletter: %v\n", err)
			return 1
		}
		cur, err := wiring.Compile(cfg, gvl)
		if err != nil {
			fmt.Fprintf(stderr, "beacongate deadletter: %v\n", err)
			return 1
		}
		res, err := upstream.ReplayDeadLetters(o, name, upstream.ReplayOptions{
			DryRun:   *dry,
			Check:    wiring.ReplayCheck(cur, cfg.Server.DataDir, name),
			DropHeld: *dropOutdated,
			MaxAge:   cfg.Privacy.DeadLetterRetention.D(),
		})
		fmt.Fprintf(stdout, "%sreplayed %d batches, %d records into the spool for %s", prefix, res.Batches, res.Records, name)
		if res.Skipped > 0 {
			fmt.Fprintf(stdout, "; %d unreadable batches left in place", res.Skipped)
		}
		fmt.Fprintln(stdout)
		if res.Expired > 0 {
			fmt.Fprintf(stdout, "%sleft %d batches, %d records older than privacy.dead_letter_retention (%s): past the time they may be kept, they are not sent again; the gateway deletes them at its next start\n",
				prefix, res.Expired, res.ExpiredRecords, cfg.Privacy.DeadLetterRetention.D())
		}
		held := res.HeldRecords()
		if held > 0 {
			if *dropOutdated {
				fmt.Fprintf(stdout, "%sdropped %d records in %d batches that the config now would not send to %s in that form:\n", prefix, held, res.HeldBatches, name)
			} else {
				fmt.Fprintf(stdout, "%sheld back %d records in %d batches that the config now would not send to %s in that form (they stay in the dead letters; -drop-outdated deletes them):\n", prefix, held, res.HeldBatches, name)
			}
			whys := make([]string, 0, len(res.Held))
			for w := range res.Held {
				whys = append(whys, w)
			}
			sort.Strings(whys)
			for _, w := range whys {
				fmt.Fprintf(stdout, "  %d: %s\n", res.Held[w], w)
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "beacongate deadletter: %v\n", err)
			return 1
		}
		if held > 0 && !*dropOutdated {
			fmt.Fprintf(stderr, "beacongate deadletter: %d records of %s not replayed: the config now would not send them in that form (see above)\n", held, name)
			return 3
		}
	case "drop":
		res, err := upstream.DropDeadLetters(o, name, *dry)
		fmt.Fprintf(stdout, "%sdropped %d batches, %d records of %s\n", prefix, res.Batches, res.Records, name)
		if err != nil {
			fmt.Fprintf(stderr, "beacongate deadletter: %v\n", err)
			return 1
		}
	}
	return 0
}
