package config

import (
	"net/url"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// NATSDestination holds the settings of a nats destination: records are
// published to a NATS JetStream stream, one message each, with the
// destination's name and the record id as Nats-Msg-Id so the stream's
// duplicate window drops resent copies (and not another destination's).
type NATSDestination struct {
	// Servers, as nats://host:port or tls://host:port, one an item (no
	// comma-separated list; no user:password part; use credentials_file).
	URLs []string `yaml:"urls"`
	// Subject messages are published to, or its prefix when subject_by is
	// site or kind (dot-separated tokens, no wildcards). A stream must
	// listen on it (e.g. subjects: beacongate.events.>).
	Subject string `yaml:"subject"`
	// What ends the subject. none: subject as is. site: subject.<site id>.
	// kind: subject.<pixel|beacon|ble>. Characters a subject cannot hold
	// become '_'.
	SubjectBy NATSSubjectBy `yaml:"subject_by"`
	// Name of the stream that must store the messages; checked at startup,
	// and sent with each message (Nats-Expected-Stream) so that another
	// stream listening on the subject stores nothing. Empty: any stream
	// listening on the subject.
	Stream string `yaml:"stream"`
	// Most messages published and not yet acknowledged (1..65536).
	MaxPending int `yaml:"max_pending" jsonschema:"minimum=1,maximum=65536"`
	// Longest wait for one message's acknowledgement (100ms..5m).
	AckTimeout Duration `yaml:"ack_timeout"`
	// NATS credentials file (.creds: user JWT and NKey seed). It must not be
	// readable by every user. Empty: no credentials.
	CredentialsFile string `yaml:"credentials_file"`
	// TLS to the servers.
	TLS TLS `yaml:"tls"`
	// Startup check. true: the gateway refuses to start when the servers
	// answer that no stream listens on the subject, or that the stream has
	// no_ack set (it acknowledges nothing). Unreachable servers only
	// log a warning (events wait in the spool).
	CheckStream bool `yaml:"check_stream"`
}

// NATSSubjectBy says what ends a NATS subject.
type NATSSubjectBy uint8

// NATSSubjectBy values.
const (
	NATSSubjectNone NATSSubjectBy = iota // none: the subject as is
	NATSSubjectSite                      // site: subject.<site id>
	NATSSubjectKind                      // kind: subject.<kind>
)

var natsSubjectByNames = []string{"none", "site", "kind"}

// String returns the name of x as written in the file.
func (x NATSSubjectBy) String() string { return enumString(natsSubjectByNames, uint8(x)) }

// MarshalText returns the name of x as written in the file.
func (x NATSSubjectBy) MarshalText() ([]byte, error) {
	return enumText(natsSubjectByNames, uint8(x))
}

// UnmarshalYAML accepts one of the names of NATSSubjectBy.
func (x *NATSSubjectBy) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalEnum(n, natsSubjectByNames, (*uint8)(x))
}

// enumNames lists the names of NATSSubjectBy as written in the file.
func (NATSSubjectBy) enumNames() []string { return natsSubjectByNames }

func defaultNATS() NATSDestination {
	return NATSDestination{
		URLs:        []string{},
		SubjectBy:   NATSSubjectSite,
		MaxPending:  256,
		AckTimeout:  Duration(5 * time.Second),
		CheckStream: true,
	}
}

func (v *validator) natsDest(base string, n *NATSDestination) {
	if len(n.URLs) == 0 {
		v.errf(base+".urls", "is empty; list at least one server as nats://host:4222")
	}
	for i, s := range n.URLs {
		p := itemPath(base+".urls", i)
		u, err := url.Parse(s)
		switch {
		case strings.Contains(s, ","):
			// nats.go splits what it is given at commas: a second URL
			// in the item, which url.Parse takes for part of the host,
			// would be connected to, with the user and password it may
			// carry, unchecked.
			v.errf(p, "holds a comma; list each server as an item of its own (urls: [nats://a:4222, nats://b:4222])")
		case err != nil || u.Host == "" || (u.Scheme != "nats" && u.Scheme != "tls"):
			v.errf(p, "is not a nats:// or tls:// URL with a host")
		case u.User != nil:
			v.errf(p, "holds a user name or password; put credentials in credentials_file, not in the config")
		case !urlPortOK(u):
			v.errf(p, "has no valid port; the port is a number 1..65535, or leave it out for 4222")
		}
	}
	switch {
	case n.Subject == "":
		v.errf(base+".subject", "is missing; name the subject to publish to, e.g. beacongate.events")
	case !validSubject(n.Subject):
		v.errf(base+".subject", "is not a valid subject; use dot-separated tokens of letters, digits, '_' or '-', without wildcards")
	}
	if n.Stream != "" && (!validSubject(n.Stream) || strings.Contains(n.Stream, ".")) {
		v.errf(base+".stream", "is not a valid stream name; use letters, digits, '_' or '-'")
	}
	v.duration(base+".ack_timeout", n.AckTimeout, 100*time.Millisecond, 5*time.Minute)
	if n.MaxPending < 1 || n.MaxPending > 65536 {
		v.errf(base+".max_pending", "%d is out of range 1..65536", n.MaxPending)
	}
	t := &n.TLS
	if !t.Enabled {
		for _, f := range []struct{ key, val string }{{"ca_file", t.CAFile}, {"cert_file", t.CertFile}, {"key_file", t.KeyFile}, {"server_name", t.ServerName}} {
			if f.val != "" {
				v.errf(base+".tls."+f.key, "is set but tls.enabled is false; set enabled: true, or remove it")
			}
		}
	}
	v.tlsFiles(base+".tls", t.CertFile, t.KeyFile)
	v.secretFile(base+".credentials_file", n.CredentialsFile, 1)
}

// validSubject reports whether s is dot-separated non-empty tokens of
// letters, digits, '_' and '-' (at most 255 bytes).
func validSubject(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for tok := range strings.SplitSeq(s, ".") {
		if tok == "" {
			return false
		}
		for i := 0; i < len(tok); i++ {
			c := tok[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}
