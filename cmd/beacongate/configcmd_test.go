package main

import (
	"bytes"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beacongate/beacongate/anonymize/geo/geotest"
)

// TestConfigCheckVendorList: with consent.tcf.gvl_file present where
// config check runs, a destination's tcf.vendor_id that the vendor list
// does not hold (or deleted), or a list that cannot be read, is reported
// and exits 1, as the gateway refuses to start on it; config check used
// to print "ok". Without the file it stays a note.
func TestConfigCheckVendorList(t *testing.T) {
	dir := t.TempDir()
	gvl := filepath.Join(dir, "vendor-list.json")
	cfg := filepath.Join(dir, "c.yaml")
	write := func(path, s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	check := func() (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run([]string{"config", "check", cfg}, strings.NewReader(""), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	write(cfg, `consent:
  purposes: [analytics, ads]
  tcf: {gvl_file: `+gvl+`}
destinations:
  - {name: local, type: file, tcf: {without_vendor: true}}
  - {name: partner, type: file, requires: [ads], tcf: {vendor_id: 755}}
`)
	if code, out, errOut := check(); code != 0 || !strings.Contains(errOut, "note:") || !strings.HasPrefix(out, "ok: ") {
		t.Fatalf("vendor list absent: exit %d\n%s%s; want ok with a note", code, out, errOut)
	}
	write(gvl, `{"vendorListVersion":3,"vendors":{"1":{"id":1,"purposes":[1],"legIntPurposes":[],"specialFeatures":[]}}}`)
	if code, out, errOut := check(); code != 1 || !strings.Contains(errOut, "destinations[1].tcf.vendor_id") || out != "" {
		t.Errorf("vendor 755 not in the list: exit %d, stdout %q, stderr %q; want 1 and destinations[1].tcf.vendor_id named", code, out, errOut)
	}
	write(gvl, `{"vendorListVersion":3,"vendors":`)
	if code, out, errOut := check(); code != 1 || !strings.Contains(errOut, "consent.tcf.gvl_file") || out != "" {
		t.Errorf("a vendor list that is not JSON: exit %d, stdout %q, stderr %q; want 1 and consent.tcf.gvl_file named", code, out, errOut)
	}
	write(gvl, `{"vendorListVersion":3,"vendors":{"755":{"id":755,"purposes":[1,3,4],"legIntPurposes":[],"specialFeatures":[]}}}`)
	if code, out, errOut := check(); code != 0 || !strings.HasPrefix(out, "ok: ") || errOut != "" {
		t.Errorf("vendor 755 in the list: exit %d, stdout %q, stderr %q; want ok", code, out, errOut)
	}
}

// TestConfigCheckGeoIPDatabase: a geoip.database present where config
// check runs but not a usable MaxMind DB (the downloaded .tar.gz, say) is
// reported and exits 1, as the gateway refuses to start on it; config
// check used to print "ok".
func TestConfigCheckGeoIPDatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "GeoLite2-City.mmdb")
	cfg := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfg, []byte("geoip: {database: "+db+"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	check := func() (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run([]string{"config", "check", cfg}, strings.NewReader(""), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	if err := os.WriteFile(db, []byte("\x1f\x8b\x08\x00 not a MaxMind DB"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := check(); code != 1 || !strings.Contains(errOut, "geoip.database") || out != "" {
		t.Errorf("not a MaxMind DB: exit %d, stdout %q, stderr %q; want 1 and geoip.database named", code, out, errOut)
	}
	if err := geotest.WriteCityDB(db, []geotest.Network{{CIDR: "81.2.69.0/24", Continent: "EU", Country: "GB", City: "London"}}); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := check(); code != 0 || !strings.HasPrefix(out, "ok: ") || errOut != "" {
		t.Errorf("a City database: exit %d, stdout %q, stderr %q; want ok", code, out, errOut)
	}
}

// TestConfigCheckTLSFiles: a destination's tls.ca_file with no PEM
// certificate in it, or a cert_file and key_file that are no key pair,
// present where config check runs, are reported naming the key and exit
// 1, as the gateway refuses to start on them (wiring.PipelineOptions);
// config check used to print "ok". A file that is not here stays a note.
func TestConfigCheckTLSFiles(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	write := func(path, s string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), mode); err != nil {
			t.Fatal(err)
		}
	}
	check := func() (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run([]string{"config", "check", cfg}, strings.NewReader(""), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	ca, cert, key := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	dests := map[string]string{
		"http":  "{name: d, type: http, tcf: {without_vendor: true}, http: {url: \"https://collector.example/in\", tls: %s}}",
		"kafka": "{name: d, type: kafka, tcf: {without_vendor: true}, kafka: {brokers: [\"k.example:9093\"], topic: t, check_topic: false, tls: %s}}",
		"nats":  "{name: d, type: nats, tcf: {without_vendor: true}, nats: {urls: [\"tls://n.example:4222\"], subject: s, check_stream: false, tls: %s}}",
	}
	for typ, dest := range dests {
		enabled := "enabled: true, "
		if typ == "http" {
			enabled = ""
		}
		tlsWith := func(keys string) {
			write(cfg, "destinations:\n  - "+strings.Replace(dest, "%s", "{"+enabled+keys+"}", 1)+"\n", 0o600)
		}
		write(ca, "not a certificate\n", 0o644)
		tlsWith("ca_file: " + ca)
		if code, out, errOut := check(); code != 1 || !strings.Contains(errOut, "destinations[0]."+typ+".tls.ca_file") || out != "" {
			t.Errorf("%s: a ca_file without a certificate: exit %d, stdout %q, stderr %q; want 1 and destinations[0].%s.tls.ca_file named", typ, code, out, errOut, typ)
		}
		write(cert, caPEM, 0o644)
		write(key, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 0o600)
		tlsWith("cert_file: " + cert + ", key_file: " + key)
		if code, out, errOut := check(); code != 1 || !strings.Contains(errOut, "destinations[0]."+typ+".tls.cert_file") || out != "" {
			t.Errorf("%s: cert_file and key_file no key pair: exit %d, stdout %q, stderr %q; want 1 and destinations[0].%s.tls.cert_file named", typ, code, out, errOut, typ)
		}
		tlsWith("ca_file: " + filepath.Join(dir, "elsewhere.pem"))
		if code, out, errOut := check(); code != 0 || !strings.Contains(errOut, "does not exist here") || !strings.HasPrefix(out, "ok: ") {
			t.Errorf("%s: a ca_file not here: exit %d, stdout %q, stderr %q; want ok with a note", typ, code, out, errOut)
		}
		write(ca, caPEM, 0o644)
		tlsWith("ca_file: " + ca)
		if code, out, errOut := check(); code != 0 || !strings.HasPrefix(out, "ok: ") || errOut != "" {
			t.Errorf("%s: a ca_file with a certificate: exit %d, stdout %q, stderr %q; want ok", typ, code, out, errOut)
		}
	}
}

// TestConfigCheckOptOutFile: a ble.optout_file present where config check
// runs, with a line that is no keyed hash, is reported naming the key and
// exits 1, as the gateway refuses to start on it (and a reload refuses
// it); config check used to print "ok".
func TestConfigCheckOptOutFile(t *testing.T) {
	dir := t.TempDir()
	cfg, list, key := filepath.Join(dir, "c.yaml"), filepath.Join(dir, "optout.txt"), filepath.Join(dir, "optout.key")
	for path, s := range map[string]string{
		cfg:  "ble: {optout_file: " + list + ", optout_key_file: " + key + "}\n",
		key:  strings.Repeat("k", 48) + "\n",
		list: "0123456789abcdef0123456789abcdef\nnot-a-hash\n",
	} {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	check := func() (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run([]string{"config", "check", cfg}, strings.NewReader(""), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	if code, out, errOut := check(); code != 1 || !strings.Contains(errOut, "ble.optout_file") || !strings.Contains(errOut, "line 2") || out != "" {
		t.Errorf("a line that is no hash: exit %d, stdout %q, stderr %q; want 1 and ble.optout_file named", code, out, errOut)
	}
	if err := os.WriteFile(list, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := check(); code != 0 || !strings.HasPrefix(out, "ok: ") || strings.Contains(errOut, "optout") {
		t.Errorf("a list of hashes: exit %d, stdout %q, stderr %q; want ok", code, out, errOut)
	}
}

// TestConfigCheckSuppressionFile: a privacy.suppression_file with a line
// that is no subject hash keeps the gateway from starting (the list is
// read at start), but config check never read it and said "ok". It reads
// it now, as the start does, and names the key and the line (never its
// content); a missing file is an empty list, as at start.
func TestConfigCheckSuppressionFile(t *testing.T) {
	dir := t.TempDir()
	cfg, list := filepath.Join(dir, "c.yaml"), filepath.Join(dir, "suppressed.txt")
	if err := os.WriteFile(cfg, []byte("privacy: {suppression_file: "+list+"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	check := func() (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run([]string{"config", "check", cfg}, strings.NewReader(""), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	if code, out, errOut := check(); code != 0 || !strings.HasPrefix(out, "ok: ") {
		t.Errorf("no list yet: exit %d, stdout %q, stderr %q; want ok", code, out, errOut)
	}
	hash := strings.Repeat("0123456789abcdef", 2)
	if err := os.WriteFile(list, []byte("# subjects\n"+hash+"\njane@example.org\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := check()
	if code != 1 || !strings.Contains(errOut, "privacy.suppression_file") || !strings.Contains(errOut, "line 3") || out != "" {
		t.Errorf("a line that is no hash: exit %d, stdout %q, stderr %q; want 1 naming privacy.suppression_file and line 3", code, out, errOut)
	}
	if strings.Contains(errOut, "jane@example.org") {
		t.Errorf("the error quotes the line: %q", errOut)
	}
	if err := os.WriteFile(list, []byte(hash+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := check(); code != 0 || !strings.HasPrefix(out, "ok: ") {
		t.Errorf("a list of hashes: exit %d, stdout %q, stderr %q; want ok", code, out, errOut)
	}
}
