package config

import (
	"errors"
	"fmt"
)

// Overrides are settings given on the command line that win over the file.
// The server applies them again after every reload.
type Overrides struct {
	DataDir string // -data flag; empty: keep server.data_dir from the file
}

// Apply applies o to c, and checks again what depends on where data_dir
// is (spool.dir must not be it or its BLE spool's folder; a file
// destination's dir must not hold it or the spool, nor lie in the spool or
// the dead letters' folder). Call it only before c is shared.
func (c *Config) Apply(o Overrides) error {
	if o.DataDir == "" {
		return nil
	}
	c.SetDataDir(o.DataDir)
	var errs []error
	if msg := spoolDirProblem(c); msg != "" {
		errs = append(errs, fmt.Errorf("with -data %s: spool.dir: %s", o.DataDir, msg))
	}
	for i, d := range c.Destinations {
		if d.Type != DestinationFile {
			continue
		}
		for _, msg := range fileDirProblems(c, i) {
			errs = append(errs, fmt.Errorf("with -data %s: destinations[%d].file.dir: %s", o.DataDir, i, msg))
		}
	}
	return errors.Join(errs...)
}
