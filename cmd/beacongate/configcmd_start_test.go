package main

import (
	"bytes"
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
