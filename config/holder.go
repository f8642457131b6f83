package config

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// Overrides are settings given on the command line that win over the file.
// A Holder applies them again after every reload.
type Overrides struct {
	DataDir string // -data flag; empty: keep server.data_dir from the file
}

// Apply applies o to c. Call it only before c is shared.
func (c *Config) Apply(o Overrides) {
	if o.DataDir != "" {
		c.SetDataDir(o.DataDir)
	}
}

// Holder holds the live Config and swaps in a new one on reload. Request
// handlers call Load once per request: it is one atomic load, with no lock
// and no allocation. A Config obtained from Load stays valid (and unchanged)
// for as long as the caller keeps it, even after a reload.
type Holder struct {
	p         atomic.Pointer[Config]
	reloads   atomic.Uint64
	failures  atomic.Uint64
	overrides Overrides
	mu        sync.Mutex // serializes Reload, so two reloads cannot interleave
}

// NewHolder returns a Holder serving c, after applying o to it. The Holder
// takes ownership of c.
func NewHolder(c *Config, o Overrides) *Holder {
	c.Apply(o)
	h := &Holder{overrides: o}
	h.p.Store(c)
	return h
}

// Load returns the live Config. Do not modify it.
func (h *Holder) Load() *Config { return h.p.Load() }

// Reload parses the file at path (the embedded default when path is empty),
// applies the Holder's overrides and, if the result is valid, makes it the
// live Config and returns it. On any error the previous Config stays live,
// the failure is counted, and the error lists every problem found.
func (h *Holder) Reload(path string) (*Config, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var c *Config
	var err error
	if path == "" {
		c = Default()
	} else {
		c, err = Load(path)
	}
	if err != nil {
		h.failures.Add(1)
		return nil, fmt.Errorf("keeping previous config: %w", err)
	}
	c.Apply(h.overrides)
	h.p.Store(c)
	h.reloads.Add(1)
	return c, nil
}

// Reloads returns how many reloads succeeded.
func (h *Holder) Reloads() uint64 { return h.reloads.Load() }

// Failures returns how many reloads were refused.
func (h *Holder) Failures() uint64 { return h.failures.Load() }
