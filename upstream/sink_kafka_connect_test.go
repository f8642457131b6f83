package upstream

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const kafkaTestPassword = "s3cr3t-Pw-9zKq"

// sendOne sends a batch of one record through s within d and returns
// Send's error.
func sendOne(t *testing.T, s *KafkaSink, d time.Duration) error {
	t.Helper()
	var b Batch
	b.add([]byte(`{"id":"e1","site":"s"}`))
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return s.Send(ctx, &b)
}

// TestKafkaRefusedCredentialsAreAnAuthRefusal: brokers that refuse the
// SASL credentials (a wrong password, PLAIN or SCRAM; a mechanism the
// brokers do not enable). franz-go retries the connection inside
// ProduceSync until the send's context ends, and Send returned only
// "context deadline exceeded": the operator never learnt that the
// credentials were wrong, beacongate_upstream_auth_failing_seconds stayed
// 0 and the refusal window never dead-lettered the batch. Send must return
// an authorization refusal that names the broker and SASL, never the
// password, for brokers that answer with an error code (Apache Kafka:
// SASL_AUTHENTICATION_FAILED with a message) and for those that close the
// connection on the credentials (kfake, Kafka before 1.0).
func TestKafkaRefusedCredentialsAreAnAuthRefusal(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cluster []kfake.Opt
		control func(c *kfake.Cluster)
		mech    string
		want    string
	}{
		{name: "PLAIN wrong password, connection closed", mech: "PLAIN",
			cluster: []kfake.Opt{kfake.EnableSASL(), kfake.Superuser("PLAIN", "gate", "another")}},
		{name: "SCRAM wrong password, connection closed", mech: "SCRAM-SHA-256",
			cluster: []kfake.Opt{kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "gate", "another")}},
		{name: "SASL_AUTHENTICATION_FAILED", mech: "PLAIN", want: "Invalid username or password",
			cluster: []kfake.Opt{kfake.EnableSASL(), kfake.Superuser("PLAIN", "gate", "another")},
			control: func(c *kfake.Cluster) {
				c.ControlKey(int16(kmsg.SASLAuthenticate), func(req kmsg.Request) (kmsg.Response, error, bool) {
					c.KeepControl()
					resp := req.(*kmsg.SASLAuthenticateRequest).ResponseKind().(*kmsg.SASLAuthenticateResponse)
					resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
					msg := "Authentication failed: Invalid username or password"
					resp.ErrorMessage = &msg
					return resp, nil, true
				})
			}},
		{name: "mechanism not enabled", mech: "SCRAM-SHA-512", want: "UNSUPPORTED_SASL_MECHANISM",
			cluster: []kfake.Opt{kfake.EnableSASL(), kfake.Superuser("PLAIN", "gate", kafkaTestPassword)},
			control: func(c *kfake.Cluster) {
				c.ControlKey(int16(kmsg.SASLHandshake), func(req kmsg.Request) (kmsg.Response, error, bool) {
					c.KeepControl()
					resp := req.(*kmsg.SASLHandshakeRequest).ResponseKind().(*kmsg.SASLHandshakeResponse)
					resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
					resp.SupportedMechanisms = []string{"PLAIN"}
					return resp, nil, true
				})
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(1, kafkaTopic)}, tc.cluster...)...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if tc.control != nil {
				tc.control(c)
			}
			var log bytes.Buffer
			s, err := NewKafkaSink(KafkaOptions{Brokers: c.ListenAddrs(), Topic: kafkaTopic, Extra: fastKafkaRetries,
				SASL:       SASLOptions{Mechanism: tc.mech, User: "gate", Password: kafkaTestPassword},
				CheckTopic: true, CheckTimeout: 5 * time.Second, Logger: slog.New(slog.NewTextHandler(&log, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			// The start's topic check, which could not be made, says why.
			if l := log.String(); !strings.Contains(l, "SASL") || strings.Contains(l, "no answer") || strings.Contains(l, kafkaTestPassword) {
				t.Errorf("the start's topic check logged:\n%s", l)
			}
			err = sendOne(t, s, 2*time.Second)
			if err == nil || RefusalOf(err) != RefusalAuth || IsPermanent(err) {
				t.Fatalf("Send with refused credentials: %v (refusal %v, permanent %v); want an authorization refusal", err, RefusalOf(err), IsPermanent(err))
			}
			t.Logf("Send: %v", err)
			msg := err.Error()
			if !strings.Contains(msg, "SASL") || !strings.Contains(msg, c.ListenAddrs()[0]) || !strings.Contains(msg, tc.want) {
				t.Fatalf("Send's error %q does not name SASL, the broker and %q", msg, tc.want)
			}
			if strings.Contains(msg, kafkaTestPassword) {
				t.Fatalf("Send's error shows the password: %v", err)
			}
		})
	}
}

// TestKafkaRefusedCredentialsDeadLetteredAfterWindow: with credentials the
// brokers refuse, auth_failing_seconds rises and the batch is dead-lettered
// past retry.auth_dead_letter_after, as for HTTP and NATS. Before, every
// attempt ended in "context deadline exceeded", retried for ever.
func TestKafkaRefusedCredentialsDeadLetteredAfterWindow(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, kafkaTopic),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "gate", "another"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d := kafkaDest(c.ListenAddrs())
	d.Kafka.SASL = SASLOptions{Mechanism: "SCRAM-SHA-256", User: "gate", Password: kafkaTestPassword}
	d.SendTimeout = 500 * time.Millisecond
	d.Retry.AuthDeadLetterAfter = 300 * time.Millisecond
	reg := prometheus.NewRegistry()
	p := openP(t, Options{DataDir: t.TempDir(), Registerer: reg, Destinations: []DestinationOptions{d}})
	var a appender
	a.run(t, p, "c", 1, 10, RouteTo(0))
	waitFor(t, "auth_failing_seconds above 0", 10*time.Second, func() bool {
		return metricSum(t, reg, "beacongate_upstream_auth_failing_seconds") > 0
	})
	waitFor(t, "the batch dead-lettered past the window", 10*time.Second, func() bool { return p.Stats()[0].DeadBatches == 1 })
	closeP(t, p)
}

// untrustedCert is a self-signed certificate for 127.0.0.1, valid from
// 2000 to 9999 (so that no clock makes it expired), that no client trusts.
func untrustedCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kfake"},
		NotBefore:   time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:    time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestKafkaTLSFailureNamed: a TLS connection the handshake of which fails
// (the brokers' listener is plaintext; their certificate is one the client
// does not trust). Send returned only "context deadline exceeded". It must
// name the broker and TLS (and the certificate's fault), and stay a plain
// retryable error: a listener or a certificate is fixed by the operator
// without the batches being dead-lettered.
func TestKafkaTLSFailureNamed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		server *tls.Config
		want   string
	}{
		{name: "plaintext listener", want: "TLS"},
		{name: "untrusted certificate", server: &tls.Config{Certificates: []tls.Certificate{untrustedCert(t)}},
			want: "certificate signed by unknown authority"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(1, kafkaTopic)}
			if tc.server != nil {
				opts = append(opts, kfake.TLS(tc.server))
			}
			c, err := kfake.NewCluster(opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// A plaintext kfake listener waits for the rest of the
			// "request" the ClientHello announces (Apache Kafka closes the
			// connection): the dial timeout ends the handshake, 10 s by
			// default, shortened with the send's timeout here.
			s, err := NewKafkaSink(KafkaOptions{Brokers: c.ListenAddrs(), Topic: kafkaTopic, TLS: &tls.Config{RootCAs: x509.NewCertPool()},
				Extra: append([]kgo.Opt{kgo.DialTimeout(300 * time.Millisecond)}, fastKafkaRetries...)})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			err = sendOne(t, s, 1500*time.Millisecond)
			if err == nil || RefusalOf(err) != RefusalNone || IsPermanent(err) {
				t.Fatalf("Send: %v (refusal %v, permanent %v); want a retryable error", err, RefusalOf(err), IsPermanent(err))
			}
			t.Logf("Send: %v", err)
			msg := err.Error()
			if !strings.Contains(msg, "TLS") || !strings.Contains(msg, c.ListenAddrs()[0]) || !strings.Contains(msg, tc.want) {
				t.Fatalf("Send's error %q does not name TLS, the broker and %q", msg, tc.want)
			}
		})
	}
}

// TestKafkaConnectionFailureForgottenOnceConnected: a refusal of the
// credentials that a later connection to the same broker overcame (the
// broker's user store was being updated) names nothing in a later failure
// for another reason: that is no authorization refusal, never
// dead-lettered past the refusal window.
func TestKafkaConnectionFailureForgottenOnceConnected(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, kafkaTopic),
		kfake.EnableSASL(), kfake.Superuser("PLAIN", "gate", kafkaTestPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	refusals := 0
	c.ControlKey(int16(kmsg.SASLAuthenticate), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if refusals == 2 {
			return nil, nil, false
		}
		refusals++
		c.KeepControl()
		resp := req.(*kmsg.SASLAuthenticateRequest).ResponseKind().(*kmsg.SASLAuthenticateResponse)
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		return resp, nil, true
	})
	s, err := NewKafkaSink(KafkaOptions{Brokers: c.ListenAddrs(), Topic: kafkaTopic, Extra: fastKafkaRetries,
		SASL: SASLOptions{Mechanism: "PLAIN", User: "gate", Password: kafkaTestPassword}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := sendOne(t, s, 10*time.Second); err != nil {
		t.Fatalf("Send once the broker takes the credentials: %v", err)
	}
	c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.NotEnoughReplicas, Count: -1})
	err = sendOne(t, s, 500*time.Millisecond)
	if err == nil || RefusalOf(err) != RefusalNone || strings.Contains(err.Error(), "SASL") {
		t.Fatalf("Send refused for another reason: %v (refusal %v); want no mention of the overcome SASL refusal", err, RefusalOf(err))
	}
}
