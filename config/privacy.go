package config

import (
	"slices"
	"strings"
	"time"
)

// Privacy holds what a privacy officer sets beyond the policies: how long
// output and dead letters are kept, the audit log, the key store that lets
// pseudonym keys be destroyed, and the list of suppressed subjects.
type Privacy struct {
	// How long the finished output files of each file destination are
	// kept, by destination name (e.g. local: 395d for 13 months; 1h..3660d).
	// A file older than this (by its last write) is deleted, counted and
	// logged. A file destination not listed keeps its files forever.
	Retention map[string]Duration `yaml:"retention"`
	// How long dead letters (batches a destination refused for good) are
	// kept (1h..3660d). 0 keeps them forever.
	DeadLetterRetention Duration `yaml:"dead_letter_retention"`
	// How long the spools' quarantine folders (<spool dir>/quarantine and
	// <data_dir>/ble-spool/quarantine) keep a damaged segment or a torn
	// tail cut off at start, counted from when it was moved there. Their
	// records are anonymized as any others; the readable ones were
	// delivered before the segment was moved (1h..3660d). 0 keeps them
	// until deleted by hand.
	QuarantineRetention Duration `yaml:"quarantine_retention"`
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
	// ends (1h..3660d); older keys are destroyed automatically. 0 keeps
	// keys until beacongate keys forget. Needs key_store: true.
	KeyRetention Duration `yaml:"key_retention"`
	// File listing suppressed subjects as keyed hashes (managed with
	// beacongate subject suppress). Events of a listed subject are dropped on
	// arrival, before anything else, and only counted. It is reloaded when
	// it changes. Empty: <data_dir>/suppressed.txt.
	SuppressionFile string `yaml:"suppression_file"`
	// Who is responsible for the processing, for the record of processing
	// (beacongate report). Not used by the gateway itself.
	Controller Controller `yaml:"controller"`
	// The legal basis of each purpose, in the officer's words, by purpose
	// name (e.g. analytics: "consent, Art. 6(1)(a) GDPR"), for the report.
	LegalBasis map[string]string `yaml:"legal_basis"`
	// What each destination's recipient is, by destination name, for the
	// report.
	Recipients map[string]Recipient `yaml:"recipients"`
}

// Controller names the controller for the record of processing (Art. 30(1)(a) GDPR).
type Controller struct {
	// The controller's name.
	Name string `yaml:"name"`
	// Postal address.
	Address string `yaml:"address"`
	// How to contact the controller about this processing.
	Contact string `yaml:"contact"`
	// The data protection officer and how to reach them.
	DPO string `yaml:"dpo"`
	// The representative in the Union, for a controller established outside it.
	Representative string `yaml:"representative"`
}

// Recipient describes who receives one destination's records.
type Recipient struct {
	// processor, joint_controller or independent_controller.
	Role string `yaml:"role"`
	// Country where the recipient processes the data (e.g. DE, US).
	Country string `yaml:"country"`
	// Transfer mechanism for a country outside the EEA (e.g. "adequacy
	// decision", "standard contractual clauses").
	Transfer string `yaml:"transfer"`
}

// recipientRoles are the roles a recipient may have.
var recipientRoles = map[string]bool{"processor": true, "joint_controller": true, "independent_controller": true}

// maxRetention bounds every retention setting: 25 months (CNIL's longest
// limit for audience measurement) with a margin; 3660d, as the field
// comments say.
const maxRetention = 10 * 366 * 24 * time.Hour

func (v *validator) privacy(c *Config) {
	p := &c.Privacy
	var files, all []string
	for i := range c.Destinations {
		if c.Destinations[i].Type == DestinationFile {
			files = append(files, c.Destinations[i].Name)
		}
		all = append(all, c.Destinations[i].Name)
	}
	for name, d := range p.Retention {
		path := "privacy.retention." + name
		if !slices.Contains(files, name) {
			if i := slices.IndexFunc(c.Destinations, func(d Destination) bool { return d.Name == name }); i >= 0 {
				v.errf(path, "names no file destination%s; %s is type %s, whose output the gateway does not keep: its recipient's retention is theirs to set", listed(files), name, c.Destinations[i].Type)
			} else {
				v.errf(path, "names no file destination%s%s", listed(files), orList(name, files, "list the name of a destination with type: file"))
			}
			continue
		}
		v.duration(path, d, time.Hour, maxRetention)
	}
	for path := range v.tooLarge {
		if strings.HasPrefix(path, "privacy.retention.") {
			v.tooBig(path, Duration(maxRetention))
		}
	}
	if p.DeadLetterRetention != 0 || v.tooLarge["privacy.dead_letter_retention"] != nil {
		v.duration("privacy.dead_letter_retention", p.DeadLetterRetention, time.Hour, maxRetention)
	}
	if p.QuarantineRetention != 0 || v.tooLarge["privacy.quarantine_retention"] != nil {
		v.duration("privacy.quarantine_retention", p.QuarantineRetention, time.Hour, maxRetention)
	}
	if p.KeyStore && c.Pseudonym.Mode != PseudonymDerived {
		v.errf("privacy.key_store", "needs pseudonym.mode: derived (ephemeral keys are never stored); remove it or set mode: derived")
	}
	for name, r := range p.Recipients {
		path := "privacy.recipients." + name
		if !slices.Contains(all, name) {
			v.errf(path, "names no destination%s%s", listed(all), orList(name, all, "list the name of a destination"))
		}
		if r.Role != "" && !recipientRoles[r.Role] {
			v.errf(path+".role", "is not a role; write processor, joint_controller or independent_controller")
		}
	}
	var used []string
	for _, pu := range c.Consent.Purposes {
		used = append(used, pu.String())
	}
	for name := range p.LegalBasis {
		if !slices.Contains(used, name) {
			v.errf("privacy.legal_basis."+name, "is not a purpose in consent.purposes%s%s", listed(used), orList(name, used, "list one of them"))
		}
	}
	if p.KeyRetention != 0 || v.tooLarge["privacy.key_retention"] != nil {
		if !p.KeyStore {
			v.errf("privacy.key_retention", "needs key_store: true; set it, or remove key_retention")
		}
		v.duration("privacy.key_retention", p.KeyRetention, time.Hour, maxRetention)
	}
}

// listed returns " (a, b)", or "" for no names.
func listed(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return " (" + strings.Join(names, ", ") + ")"
}

// orList returns `; did you mean "x"?` for the candidate closest to name,
// else "; " and advice.
func orList(name string, candidates []string, advice string) string {
	if s := didYouMean(name, candidates); s != "" {
		return s
	}
	return "; " + advice
}
