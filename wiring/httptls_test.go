package wiring

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beacongate/beacongate/upstream"
)

// The test certificates are valid from the Unix epoch to the end of year
// 9999 (the latest date X.509 can write), so that the TLS stack, which
// checks them against the wall clock, accepts them on any day.
var (
	notBefore = time.Unix(0, 0).UTC()
	notAfter  = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// testCA is a private certificate authority for TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

// issue signs a certificate for dnsName (a server's, or a client's when
// client is true) and returns it as a tls.Certificate and as PEM files
// (certificate and key).
func (ca *testCA) issue(t *testing.T, serial int64, dnsName string, client bool) (tls.Certificate, []byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	usage := x509.ExtKeyUsageServerAuth
	if client {
		usage = x509.ExtKeyUsageClientAuth
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: dnsName}, DNSNames: []string{dnsName},
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return pair, certPEM, keyPEM
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "beacongate test CA"},
		NotBefore: notBefore, NotAfter: notAfter,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// TestHTTPDestinationTLS: an http destination's tls block reaches its
// sink: a collector on 127.0.0.1 with a certificate from a private CA,
// issued for a name other than its address, that asks for a client
// certificate, takes a batch when ca_file, server_name, cert_file and
// key_file are set, and the handshake fails without each of them.
func TestHTTPDestinationTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	serverCert, _, _ := ca.issue(t, 2, "collector.internal", false)
	_, clientPEM, clientKey := ca.issue(t, 3, "edge-7", true)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caFile, certFile, keyFile := write("ca.pem", ca.pem), write("client.pem", clientPEM), write("client.key", clientKey)

	var posts atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 1 && r.TLS.PeerCertificates[0].Subject.CommonName == "edge-7" {
			posts.Add(1)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes below
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.StartTLS()
	defer srv.Close()

	send := func(tlsBlock string) error {
		t.Helper()
		cfg := parse(t, "destinations:\n  - name: collector\n    type: http\n    http: {url: "+srv.URL+"/ingest, timeout: 5s, tls: {"+tlsBlock+"}}\n")
		o, err := PipelineOptions(cfg, nil, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		s, err := upstream.NewHTTPSink(*o.Destinations[0].HTTP)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		return s.Send(context.Background(), &upstream.Batch{Destination: "collector", Data: []byte("{}\n")})
	}
	all := "ca_file: " + caFile + ", server_name: collector.internal, cert_file: " + certFile + ", key_file: " + keyFile
	if err := send(all); err != nil || posts.Load() != 1 {
		t.Fatalf("with the whole tls block: %v (%d posts taken)", err, posts.Load())
	}
	for name, block := range map[string]string{
		"without ca_file":              "server_name: collector.internal, cert_file: " + certFile + ", key_file: " + keyFile,
		"without server_name":          "ca_file: " + caFile + ", cert_file: " + certFile + ", key_file: " + keyFile,
		"without a client certificate": "ca_file: " + caFile + ", server_name: collector.internal",
	} {
		if err := send(block); err == nil {
			t.Errorf("%s: the batch was delivered", name)
		} else if strings.Contains(err.Error(), srv.URL) {
			t.Errorf("%s: the error quotes the URL: %v", name, err)
		}
	}
	if posts.Load() != 1 {
		t.Errorf("%d posts taken, want 1", posts.Load())
	}

	// A file that cannot be read is named, not ignored.
	cfg := parse(t, "destinations:\n  - name: collector\n    type: http\n    http: {url: "+srv.URL+", tls: {ca_file: "+filepath.Join(dir, "nosuch.pem")+"}}\n")
	if _, err := PipelineOptions(cfg, nil, nil, nil, nil); err == nil || !strings.Contains(err.Error(), "tls.ca_file") || !strings.Contains(err.Error(), "collector") {
		t.Errorf("unreadable ca_file: %v", err)
	}
}
