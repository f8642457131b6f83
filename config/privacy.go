package config

import "time"

// Privacy holds what a privacy officer sets beyond the policies: how long
// output and dead letters are kept, the audit log, the key store that lets
// pseudonym keys be destroyed, and the list of suppressed subjects.
type Privacy struct {
	// How long the finished output files of each file destination are
	// kept, by destination name (e.g. local: 395d for 13 months). A file
	// older than this (by its last write) is deleted, counted and logged.
	// A file destination not listed keeps its files forever.
	Retention map[string]Duration `yaml:"retention"`
	// How long dead letters (batches a destination refused for good) are
	// kept. 0 keeps them forever.
	DeadLetterRetention Duration `yaml:"dead_letter_retention"`
	// Whether the hash-chained audit log <data_dir>/audit.log records config
	// loads and reloads, key creation and destruction, retention deletions,
	// suppression changes and subject lookups. Check it with: beacongate
	// audit verify.
	AuditLog bool `yaml:"audit_log"`
	// Whether derived-mode pseudonym keys are kept in the key store
	// <data_dir>/keys, one key per period wrapped by the secret, so that a
	// period's key can be destroyed for good (beacongate keys forget).
	// Instances that share the store (a shared volume) agree on pseudonyms.
	// Needs pseudonym.mode: derived.
	KeyStore bool `yaml:"key_store"`
	// How long a period's key is kept in the key store after the period
	// ends; older keys are destroyed automatically. 0 keeps keys until
	// beacongate keys forget. Needs key_store: true.
	KeyRetention Duration `yaml:"key_retention"`
	// File listing suppressed subjects as keyed hashes (managed with
	// beacongate subject suppress). Events of a listed subject are dropped on
	// arrival, before anything else, and only counted. It is reloaded when
	// it changes. Empty: <data_dir>/suppressed.txt.
	SuppressionFile string `yaml:"suppression_file"`
}

// maxRetention bounds every retention setting: 25 months (CNIL's longest
// limit for audience measurement) with a margin.
const maxRetention = 10 * 366 * 24 * time.Hour

func (v *validator) privacy(c *Config) {
	p := &c.Privacy
	files := map[string]bool{}
	for i := range c.Destinations {
		if c.Destinations[i].Type == DestinationFile {
			files[c.Destinations[i].Name] = true
		}
	}
	for name, d := range p.Retention {
		path := "privacy.retention." + name
		if !files[name] {
			v.errf(path, "names no file destination; list the name of a destination with type: file")
			continue
		}
		v.duration(path, d, time.Hour, maxRetention)
	}
	if p.DeadLetterRetention != 0 {
		v.duration("privacy.dead_letter_retention", p.DeadLetterRetention, time.Hour, maxRetention)
	}
	if p.KeyStore && c.Pseudonym.Mode != PseudonymDerived {
		v.errf("privacy.key_store", "needs pseudonym.mode: derived (ephemeral keys are never stored); remove it or set mode: derived")
	}
	if p.KeyRetention != 0 {
		if !p.KeyStore {
			v.errf("privacy.key_retention", "needs key_store: true; set it, or remove key_retention")
		}
		v.duration("privacy.key_retention", p.KeyRetention, time.Hour, maxRetention)
	}
}
