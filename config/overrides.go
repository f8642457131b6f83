package config

// Overrides are settings given on the command line that win over the file.
// The server applies them again after every reload.
type Overrides struct {
	DataDir string // -data flag; empty: keep server.data_dir from the file
}

// Apply applies o to c. Call it only before c is shared.
func (c *Config) Apply(o Overrides) {
	if o.DataDir != "" {
		c.SetDataDir(o.DataDir)
	}
}
