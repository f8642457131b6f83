package wiring

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/upstream"
	"github.com/beacongate/beacongate/upstream/adplatform"
)

// PipelineOptions maps the config's spool and destinations onto package
// upstream's options, reading the files they name (TLS certificates, SASL
// passwords). reg and log go to the pipeline; reg may be nil.
//
// origins is shared by the ad platform destinations, for the sites' page
// origins; the caller updates it on reload (nil: no origins). clk is the
// pipeline's clock and the ad platform sinks' (nil: the real clock).
func PipelineOptions(cfg *config.Config, reg prometheus.Registerer, log *slog.Logger, origins *adplatform.Origins, clk clock.Clock) (upstream.Options, error) {
	sp := &cfg.Spool
	o := upstream.Options{
		DataDir: cfg.Server.DataDir,
		Spool: upstream.SpoolOptions{
			Dir:           sp.Dir,
			MaxBytes:      sp.MaxBytes.Int(),
			SegmentBytes:  sp.SegmentBytes.Int(),
			Durability:    upstream.DurabilityProcess,
			FsyncMaxDelay: sp.FsyncMaxDelay.D(),
			GatherWindow:  sp.GatherWindow.D(),
			WhenFull:      upstream.FullShed,
			BlockTimeout:  sp.BlockTimeout.D(),
		},
		Registerer: reg,
		Logger:     log,
		Clock:      clk,
	}
	if sp.Durability == config.DurabilityFsync {
		o.Spool.Durability = upstream.DurabilityFsync
	}
	if sp.WhenFull == config.WhenFullBlock || sp.PixelWhenFull == config.WhenFullBlock {
		// One spool serves both policies: it blocks, and the Deliverer
		// sheds the endpoints whose policy is shed (ShedKinds).
		o.Spool.WhenFull = upstream.FullBlock
	}
	for i := range cfg.Destinations {
		d := &cfg.Destinations[i]
		do := upstream.DestinationOptions{
			Name: d.Name,
			Batch: upstream.BatchOptions{
				MaxEvents: d.Batch.MaxEvents,
				MaxBytes:  int(d.Batch.MaxBytes),
				MaxAge:    d.Batch.MaxAge.D(),
			},
			CompressionLevel: d.Level,
		}
		switch d.Compression {
		case config.CompressionGzip:
			do.Compression = upstream.CodecGzip
		case config.CompressionNone:
			do.Compression = upstream.CodecNone
		default:
			do.Compression = upstream.CodecZstd
		}
		switch d.Type {
		case config.DestinationFile:
			do.File = &upstream.FileOptions{Dir: d.File.Dir, RollBytes: d.File.MaxFileBytes.Int(), RollAge: d.File.MaxFileAge.D()}
		case config.DestinationHTTP:
			h := &d.HTTP
			do.HTTP = &upstream.HTTPOptions{URL: h.URL, Headers: h.Headers, BearerTokenFile: h.BearerTokenFile, Timeout: h.Timeout.D()}
			if h.TLS != (config.HTTPTLS{}) { // only with an https url (config validation)
				tc := h.TLS.Client()
				t, err := TLSClientConfig(&tc)
				if err != nil {
					return o, fmt.Errorf("destinations[%d] (%s): %w", i, d.Name, err)
				}
				do.HTTP.TLS = t
			}
			do.Retry = upstream.RetryOptions{Initial: h.Retry.InitialBackoff.D(), Max: h.Retry.MaxBackoff.D(),
				RedirectDeadLetterAfter: h.Retry.RedirectDeadLetterAfter.D(), AuthDeadLetterAfter: h.Retry.AuthDeadLetterAfter.D()}
			do.SendTimeout = h.Timeout.D()
		case config.DestinationKafka:
			k, err := kafkaOptions(&d.Kafka)
			if err != nil {
				return o, fmt.Errorf("destinations[%d] (%s): %w", i, d.Name, err)
			}
			do.Kafka = k
		case config.DestinationNATS:
			n, err := natsOptions(&d.NATS)
			if err != nil {
				return o, fmt.Errorf("destinations[%d] (%s): %w", i, d.Name, err)
			}
			do.NATS = n
			// A send waits for its messages' acknowledgements, each up to
			// ack_timeout: the shipper's default 30 s bound cut a longer
			// ack_timeout short.
			do.SendTimeout = max(natsMinSendTimeout, 2*n.AckTimeout)
		case config.DestinationMetaCAPI, config.DestinationGA4, config.DestinationTikTok:
			if err := adPlatformDestination(&do, d, reg, origins, clk); err != nil {
				return o, fmt.Errorf("destinations[%d] (%s): %w", i, d.Name, err)
			}
		}
		o.Destinations = append(o.Destinations, do)
	}
	return o, nil
}

func kafkaOptions(k *config.KafkaDestination) (*upstream.KafkaOptions, error) {
	o := &upstream.KafkaOptions{Brokers: k.Brokers, Topic: k.Topic, CheckTopic: k.CheckTopic}
	switch k.Key {
	case config.KafkaKeySite:
		o.KeyField = "site"
	case config.KafkaKeyPseudonym:
		o.KeyField = "client" // the client id's pseudonym: per-visitor order
	}
	if k.TLS.Enabled {
		t, err := TLSClientConfig(&k.TLS)
		if err != nil {
			return nil, err
		}
		o.TLS = t
	}
	if k.SASL.Mechanism != config.SASLNone {
		pw, err := os.ReadFile(k.SASL.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("sasl.password_file: %w", err)
		}
		o.SASL = upstream.SASLOptions{
			Mechanism: strings.ToUpper(k.SASL.Mechanism.String()),
			User:      k.SASL.Username,
			Password:  strings.TrimRight(string(pw), "\r\n"),
		}
	}
	return o, nil
}

// natsMinSendTimeout is a nats destination's shortest bound on one send:
// the shipper's default.
const natsMinSendTimeout = 30 * time.Second

// natsOptions maps a nats destination's settings onto the upstream options.
func natsOptions(n *config.NATSDestination) (*upstream.NATSOptions, error) {
	o := &upstream.NATSOptions{URLs: n.URLs, Subject: n.Subject, Stream: n.Stream,
		MaxPending: n.MaxPending, AckTimeout: n.AckTimeout.D(), CredentialsFile: n.CredentialsFile,
		CheckStream: n.CheckStream}
	switch n.SubjectBy {
	case config.NATSSubjectSite:
		o.SubjectBy = upstream.NATSSubjectSite
	case config.NATSSubjectKind:
		o.SubjectBy = upstream.NATSSubjectKind
	}
	if n.TLS.Enabled {
		t, err := TLSClientConfig(&n.TLS)
		if err != nil {
			return nil, err
		}
		o.TLS = t
	}
	return o, nil
}

// TLSClientConfig builds a client TLS configuration from the config's tls
// block, reading its files: the start refuses a destination whose files
// it cannot use, and config check applies it to the files that are there.
func TLSClientConfig(c *config.TLS) (*tls.Config, error) {
	t := &tls.Config{ServerName: c.ServerName, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		t.RootCAs = x509.NewCertPool()
		if !t.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file %s: no PEM certificate in it", c.CAFile)
		}
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file / key_file: %w", err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	return t, nil
}
