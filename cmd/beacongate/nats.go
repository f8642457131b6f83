package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/beacongate/beacongate/config"
	"github.com/beacongate/beacongate/upstream"
)

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
		t, err := tlsClientConfig(&n.TLS)
		if err != nil {
			return nil, err
		}
		o.TLS = t
	}
	return o, nil
}

// tlsClientConfig builds a client TLS configuration from the config's tls
// block.
func tlsClientConfig(c *config.TLS) (*tls.Config, error) {
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
