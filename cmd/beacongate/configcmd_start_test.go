package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkConfig writes src to a config file in dir and runs config check on
// it: its exit code, stdout and stderr.
func checkConfig(t *testing.T, dir, src string) (int, string, string) {
	t.Helper()
	cfg := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"config", "check", cfg}, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestConfigCheckDirectoriesTheStartMakes: a server.data_dir, spool.dir or
// file destination's dir that is a file here (/dev/null, a regular file,
// or a path under one) keeps the gateway from starting ("mkdir ...: not a
// directory"), but config check said "ok". It names the key and exits 1
// now, once per file in the way (a spool under such a data_dir is not
// reported again), and makes nothing: a directory that is not there
// stays absent.
func TestConfigCheckDirectoriesTheStartMakes(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "regular")
	if err := os.WriteFile(regular, []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(dir, "fresh", "data")
	for _, c := range []struct {
		name, src, key string
	}{
		{"data_dir /dev/null", "server: {data_dir: /dev/null}\n", "server.data_dir: /dev/null is not a directory"},
		{"data_dir a file", "server: {data_dir: " + regular + "}\n", "server.data_dir: " + regular + " is not a directory"},
		{"data_dir under a file", "server: {data_dir: " + regular + "/sub}\n", "server.data_dir: " + regular + " is not a directory, so " + regular + "/sub cannot be made"},
		{"spool.dir a file", "server: {data_dir: " + fresh + "}\nspool: {dir: " + regular + "}\n", "spool.dir: " + regular + " is not a directory"},
		{"file dir a file", "server: {data_dir: " + fresh + "}\ndestinations:\n  - {name: f, type: file, file: {dir: " + regular + "}, tcf: {without_vendor: true}}\n",
			"destinations[0].file.dir: " + regular + " is not a directory"},
	} {
		code, out, errOut := checkConfig(t, dir, c.src)
		if code != 1 || out != "" || !strings.Contains(errOut, c.key) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 1 and %q", c.name, code, out, errOut, c.key)
		}
		if strings.Count(errOut, "is not a directory") != 1 {
			t.Errorf("%s: the file in the way is not reported exactly once:\n%s", c.name, errOut)
		}
	}
	code, out, errOut := checkConfig(t, dir, "server: {data_dir: "+fresh+"}\n")
	if code != 0 || !strings.HasPrefix(out, "ok: ") {
		t.Errorf("a data_dir not made yet: exit %d, stdout %q, stderr %q; want ok", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Dir(fresh)); !os.IsNotExist(err) {
		t.Errorf("config check made the data directory's parent (stat: %v)", err)
	}
}

// TestConfigCheckSecretFile: a pseudonym.secret_file larger than 4 KiB
// (a path that names some other file) passes config validation, which
// counts the secret's bytes, but the gateway's loader refuses it and the
// gateway does not start. config check reads the file here with that
// loader now, names the key and exits 1, and never prints the secret.
func TestConfigCheckSecretFile(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	src := "pseudonym: {mode: derived, secret_file: " + secret + "}\n"
	big := strings.Repeat("s3cr3t", 700) // 4,200 bytes
	if err := os.WriteFile(secret, []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := checkConfig(t, dir, src)
	if code != 1 || out != "" || !strings.Contains(errOut, "pseudonym.secret_file") || !strings.Contains(errOut, "larger than") {
		t.Errorf("a secret file of 4,200 bytes: exit %d, stdout %q, stderr %q; want 1 naming pseudonym.secret_file", code, out, errOut)
	}
	if strings.Contains(errOut, "s3cr3t") {
		t.Errorf("the error quotes the secret: %q", errOut)
	}
	if err := os.WriteFile(secret, []byte(big[:64]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := checkConfig(t, dir, src); code != 0 || !strings.HasPrefix(out, "ok: ") {
		t.Errorf("a secret of 64 bytes: exit %d, stdout %q, stderr %q; want ok", code, out, errOut)
	}
}

// TestConfigCheckNotesSecretEnvUnsetHere: with pseudonym.secret_env naming
// a variable that is unset (or holds too short a secret), the gateway does
// not start; config check said "ok" with nothing. The variable is often
// set only where the gateway runs, so it is a note (exit 0) that says
// "here", names the variable and never the value; none once it is set.
func TestConfigCheckNotesSecretEnvUnsetHere(t *testing.T) {
	const name = "BEACONGATE_TEST_CHECK_SECRET"
	t.Setenv(name, "") // restored after the test
	os.Unsetenv(name)
	dir := t.TempDir()
	src := "pseudonym: {mode: derived, secret_env: " + name + "}\n"
	code, out, errOut := checkConfig(t, dir, src)
	if code != 0 || !strings.HasPrefix(out, "ok: ") || !strings.Contains(errOut, "note: ") ||
		!strings.Contains(errOut, "pseudonym.secret_env: here, ") || !strings.Contains(errOut, name) {
		t.Errorf("unset: exit %d, stdout %q, stderr %q; want ok with a note naming %s", code, out, errOut, name)
	}
	os.Setenv(name, "short-s3cr3t")
	if _, _, errOut := checkConfig(t, dir, src); !strings.Contains(errOut, "pseudonym.secret_env: here, ") || strings.Contains(errOut, "short-s3cr3t") {
		t.Errorf("too short: stderr %q; want a note that never quotes the value", errOut)
	}
	os.Setenv(name, strings.Repeat("k", 48))
	if code, out, errOut := checkConfig(t, dir, src); code != 0 || !strings.HasPrefix(out, "ok: ") || strings.Contains(errOut, "secret_env") {
		t.Errorf("set: exit %d, stdout %q, stderr %q; want ok without a note", code, out, errOut)
	}
}

// TestConfigCheckNotesListenAddressesNotHere: a server.listen or
// server.admin whose host is no address of this host (192.0.2.1, TEST-NET)
// or a name that does not resolve passes validation (it is host:port),
// and the gateway then fails to listen. It may be the address of the host
// where the gateway runs, so config check notes it, saying here, naming
// the key (exit 0); a wildcard, loopback or local name gets no note. Names
// are looked up through lookupHost, stubbed here so that no test depends
// on the machine's DNS.
func TestConfigCheckNotesListenAddressesNotHere(t *testing.T) {
	defer func(l func(context.Context, string) ([]string, error)) { lookupHost = l }(lookupHost)
	lookupHost = func(_ context.Context, host string) ([]string, error) {
		switch host {
		case "gw.local.test", "localhost":
			return []string{"127.0.0.1"}, nil
		case "gw.remote.test":
			return []string{"192.0.2.7"}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	dir := t.TempDir()
	for _, c := range []struct{ listen, admin, want string }{
		{"192.0.2.1:8080", "127.0.0.1:9100", "server.listen: here, 192.0.2.1 is no address of this host"},
		{":8080", "[2001:db8::1]:9100", "server.admin: here, 2001:db8::1 is no address of this host"},
		{"gw.nowhere.test:8080", "127.0.0.1:9100", "server.listen: here, gw.nowhere.test does not resolve"},
		{"gw.remote.test:8080", "127.0.0.1:9100", "server.listen: here, gw.remote.test resolves to no address of this host (192.0.2.7)"},
		{"0.0.0.0:8080", "localhost:9100", ""},
		{"gw.local.test:8080", "[::1]:9100", ""},
	} {
		code, out, errOut := checkConfig(t, dir, "server: {listen: \""+c.listen+"\", admin: \""+c.admin+"\"}\n")
		if code != 0 || !strings.HasPrefix(out, "ok: ") {
			t.Errorf("%s, %s: exit %d, stdout %q, stderr %q; want ok", c.listen, c.admin, code, out, errOut)
		}
		if c.want == "" && strings.Contains(errOut, "here, ") {
			t.Errorf("%s, %s: a note for addresses the gateway can listen on: %s", c.listen, c.admin, errOut)
		}
		if c.want != "" && (!strings.Contains(errOut, "note: ") || !strings.Contains(errOut, c.want)) {
			t.Errorf("%s, %s: stderr %q; want a note %q", c.listen, c.admin, errOut, c.want)
		}
	}
}

// TestConfigCheckDefaultSuppressionList: without privacy.suppression_file
// the gateway reads <data_dir>/suppressed.txt at start, and a line there
// that is no subject hash keeps it from starting; config check read only
// a list the config names and said ok. With the data directory here, it
// reads that list too (read only), names it and exits 1.
func TestConfigCheckDefaultSuppressionList(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	list := filepath.Join(data, "suppressed.txt")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(list, []byte("jane@example.org\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := "server: {data_dir: " + data + "}\n"
	code, out, errOut := checkConfig(t, dir, src)
	if code != 1 || out != "" || !strings.Contains(errOut, "privacy.suppression_file") || !strings.Contains(errOut, list) || !strings.Contains(errOut, "line 1") {
		t.Errorf("a default list with a line that is no hash: exit %d, stdout %q, stderr %q; want 1 naming %s", code, out, errOut, list)
	}
	if strings.Contains(errOut, "jane@example.org") {
		t.Errorf("the error quotes the line: %q", errOut)
	}
	if err := os.WriteFile(list, []byte(strings.Repeat("0123456789abcdef", 2)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := checkConfig(t, dir, src); code != 0 || !strings.HasPrefix(out, "ok: ") {
		t.Errorf("a list of hashes: exit %d, stdout %q, stderr %q; want ok", code, out, errOut)
	}
}

// TestConfigCheckTokenFileBlankFirstLine: a bearer_token_file or an ad
// platform's token file whose first line is blank, the token on a later
// line, passed config check, which counted the whole file, while the
// start reads the first line only and refused it. config check reads it
// as the start does now: exit 1, naming the key and saying the first line
// is empty, never quoting the token; the token on the first line is ok.
func TestConfigCheckTokenFileBlankFirstLine(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	srcs := map[string]string{
		"http.bearer_token_file":      "destinations:\n  - {name: h, type: http, tcf: {without_vendor: true}, http: {url: \"https://c.example\", bearer_token_file: " + tok + "}}\n",
		"meta_capi.access_token_file": "consent: {purposes: [analytics, ads]}\ndestinations:\n  - {name: m, type: meta_capi, requires: [ads], tcf: {without_vendor: true}, meta_capi: {pixel_id: \"1\", access_token_file: " + tok + "}}\n",
		"ga4.api_secret_file":         "consent: {purposes: [analytics, ads]}\ndestinations:\n  - {name: g, type: ga4, requires: [ads], tcf: {without_vendor: true}, ga4: {measurement_id: G-ABC123, api_secret_file: " + tok + "}}\n",
	}
	for key, src := range srcs {
		if err := os.WriteFile(tok, []byte("\n\ns3cr3t-token\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := checkConfig(t, dir, src)
		if code != 1 || out != "" || !strings.Contains(errOut, key+": "+tok+": the first line is empty") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 1 naming the key and the empty first line", key, code, out, errOut)
		}
		if strings.Contains(errOut, "s3cr3t") {
			t.Errorf("%s: the error quotes the token: %q", key, errOut)
		}
		if err := os.WriteFile(tok, []byte("s3cr3t-token\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, out, errOut := checkConfig(t, dir, src); code != 0 || !strings.HasPrefix(out, "ok: ") {
			t.Errorf("%s on the first line: exit %d, stdout %q, stderr %q; want ok", key, code, out, errOut)
		}
	}
}

// TestConfigCheckSubjectKey: in ephemeral mode a damaged
// <data_dir>/subject.key (not hex, or too short) stops the start, but
// config check said "ok". It reads the file when it is here, with the
// start's rules and without creating it: exit 1 naming server.data_dir
// and the file, never the key; a data directory without one stays so.
func TestConfigCheckSubjectKey(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	src := "server: {data_dir: " + data + "}\n"
	key := filepath.Join(data, "subject.key")
	if code, out, errOut := checkConfig(t, dir, src); code != 0 || !strings.HasPrefix(out, "ok: ") {
		t.Fatalf("no subject.key: exit %d, stdout %q, stderr %q; want ok", code, out, errOut)
	}
	if _, err := os.Stat(key); !os.IsNotExist(err) {
		t.Fatalf("config check made %s (stat: %v)", key, err)
	}
	for _, damaged := range []string{"not-hex-d4m4g3d\n", "abcd\n"} {
		if err := os.WriteFile(key, []byte(damaged), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := checkConfig(t, dir, src)
		if code != 1 || out != "" || !strings.Contains(errOut, "server.data_dir: ") || !strings.Contains(errOut, key) || !strings.Contains(errOut, "damaged") {
			t.Errorf("subject.key %q: exit %d, stdout %q, stderr %q; want 1 naming server.data_dir and the file", damaged, code, out, errOut)
		}
		if strings.Contains(errOut, strings.TrimSpace(damaged)) {
			t.Errorf("the error quotes the key: %q", errOut)
		}
	}
	if err := os.WriteFile(key, []byte(strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := checkConfig(t, dir, src); code != 0 || !strings.HasPrefix(out, "ok: ") {
		t.Errorf("a good subject.key: exit %d, stdout %q, stderr %q; want ok", code, out, errOut)
	}
}
