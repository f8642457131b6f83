package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beacongate/beacongate/audit"
	"github.com/beacongate/beacongate/clock"
	"github.com/beacongate/beacongate/clock/clocktest"
)

// TestCLIUnknownCommand: a mistyped command prints the usage and a
// suggestion on stderr and exits 2, instead of exiting 2 silently.
func TestCLIUnknownCommand(t *testing.T) {
	f := func(args []string, want ...string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := run(args, strings.NewReader(""), &stdout, &stderr)
		if code != 2 {
			t.Fatalf("%q: exit %d; want 2\n%s", args, code, stderr.String())
		}
		for _, w := range want {
			if !strings.Contains(stderr.String(), w) {
				t.Fatalf("%q: stderr lacks %q:\n%s", args, w, stderr.String())
			}
		}
		if stdout.Len() != 0 {
			t.Fatalf("%q: wrote to stdout:\n%s", args, stdout.String())
		}
	}
	f([]string{"bogus"}, `unknown command "bogus"`, "Usage:")
	f([]string{"cofig", "check", "x"}, `unknown command "cofig"`, `did you mean "config"?`, "Usage:")
	f([]string{"verison"}, `did you mean "version"?`)
	f([]string{"explian", "-config", "x"}, `did you mean "explain"?`)
	f([]string{"config", "chek", "x"}, `unknown command "chek"`, `did you mean "check"?`)
	f([]string{"deadletter", "lsit", "x"}, `unknown command "lsit"`, `did you mean "list"?`, "usage: beacongate deadletter")
	f([]string{"serve", "extra"}, `unexpected argument "extra"`)
}

// TestCLIVersion: version and -version print the module version, commit and
// Go version from the build info.
func TestCLIVersion(t *testing.T) {
	for _, arg := range []string{"version", "-version", "--version"} {
		var stdout, stderr bytes.Buffer
		if code := run([]string{arg}, strings.NewReader(""), &stdout, &stderr); code != 0 {
			t.Fatalf("%s: exit %d\n%s", arg, code, stderr.String())
		}
		out := stdout.String()
		if !strings.HasPrefix(out, "beacongate ") || !strings.Contains(out, "commit ") ||
			!strings.Contains(out, runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH) || strings.Count(out, "\n") != 1 {
			t.Fatalf("%s: %q", arg, out)
		}
	}
}

// TestCLIVersionBinaryCommit: a commit set at link time (the Dockerfile does,
// since the image is built without .git) is printed and exported.
func TestCLIVersionBinaryCommit(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "beacongate")
	out, err := exec.Command("go", "build", "-ldflags", "-X main.commit=0123456789abcdef -X main.version=v9.8.7", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "version").Output()
	if err != nil || !strings.Contains(string(out), "beacongate v9.8.7, commit 0123456789abcdef,") {
		t.Fatalf("version: %v %q", err, out)
	}
}

// readmeCommands returns the lines of the README's sh blocks that run the
// command line (go run ./cmd/beacongate SUBCOMMAND ...).
func readmeCommands(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	inSh := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```"):
			inSh = line == "```sh"
		case inSh && strings.HasPrefix(line, "go run ./cmd/beacongate "):
			cmds = append(cmds, line)
		}
	}
	return cmds
}

// TestREADMECommands runs every subcommand the README shows, as written, from
// a directory laid out like the repository (examples/ beside it), with the
// built binary for "go run ./cmd/beacongate".
func TestREADMECommands(t *testing.T) {
	cmds := readmeCommands(t)
	if len(cmds) < 5 {
		t.Fatalf("found only %d commands in the README: %q", len(cmds), cmds)
	}
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range cmds {
		args := strings.Fields(strings.TrimPrefix(line, "go run ./cmd/beacongate "))
		if i := strings.Index(line, "#"); i >= 0 {
			args = strings.Fields(strings.TrimPrefix(line[:i], "go run ./cmd/beacongate "))
		}
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			continue // serve: the e2e tests run it
		}
		t.Run(args[0], func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Symlink(examples, filepath.Join(dir, "examples")); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(binPath, args...)
			cmd.Dir = dir
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%s: %v\nstdout:\n%.2000s\nstderr:\n%s", line, err, stdout.String(), stderr.String())
			}
			if stdout.Len() == 0 {
				if entries, _ := os.ReadDir(dir); len(entries) < 2 {
					t.Fatalf("%s: printed nothing and wrote no file", line)
				}
			}
		})
	}
}

// TestRepositoryFiles: the license and security policy ship with the code.
func TestRepositoryFiles(t *testing.T) {
	lic, err := os.ReadFile("../../LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"Apache License", "Version 2.0, January 2004", "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
		"9. Accepting Warranty or Additional Liability.", "END OF TERMS AND CONDITIONS", "APPENDIX: How to apply the Apache License to your work."} {
		if !bytes.Contains(lic, []byte(w)) {
			t.Fatalf("LICENSE lacks %q", w)
		}
	}
	sec, err := os.ReadFile("../../SECURITY.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(sec, []byte("Reporting a vulnerability")) {
		t.Fatal("SECURITY.md does not say how to report a vulnerability")
	}
}

// TestCLIHelpIsNotAnArgument: "config check -h", "config default -h" and
// "consent -h" print their usage and exit 0; they used to read "-h" as the
// config file (exit 1, "open -h: no such file") or as a TC string (exit 1,
// "version is 62"), or refuse it as bad usage.
func TestCLIHelpIsNotAnArgument(t *testing.T) {
	for _, args := range [][]string{
		{"config", "check", "-h"}, {"config", "check", "--help"}, {"config", "default", "-h"},
		{"consent", "-h"}, {"consent", "-help"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(args, strings.NewReader(""), &stdout, &stderr)
		if code != 0 || !strings.Contains(stdout.String(), "usage:") || stderr.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 0 and the usage on stdout", args, code, stdout.String(), stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"config", "chek", "-h"}, strings.NewReader(""), &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "did you mean") {
		t.Errorf("config chek -h: exit %d, stderr %q; want 2 and a suggestion", code, stderr.String())
	}
}

// TestCLIHelpExitsZero: every command and subcommand given -h prints its
// usage and exits 0; tag, version, audit, keys, subject and optout exited 2,
// as for bad usage, where serve, explain, tap, report, healthcheck,
// deadletter, config and consent exit 0.
func TestCLIHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{
		{"tag", "-h"}, {"version", "-h"}, {"audit", "-h"}, {"audit", "verify", "-h"}, {"keys", "-h"}, {"keys", "forget", "-h"},
		{"subject", "-h"}, {"optout", "-h"}, {"serve", "-h"}, {"explain", "-h"}, {"tap", "-h"}, {"report", "-h"},
		{"healthcheck", "-h"}, {"deadletter", "-h"}, {"config", "check", "-h"}, {"consent", "-h"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(args, strings.NewReader(""), &stdout, &stderr)
		if out := strings.ToLower(stdout.String() + stderr.String()); code != 0 || !strings.Contains(out, "usage") {
			t.Errorf("%q: exit %d, output %q; want 0 and the usage", args, code, out)
		}
	}
	// Bad usage still exits 2.
	for _, args := range [][]string{{"version", "extra"}, {"keys", "forgot"}, {"tag", "-nope"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, strings.NewReader(""), &stdout, &stderr); code != 2 {
			t.Errorf("%q: exit %d; want 2", args, code)
		}
	}
}

// TestServeListenersClashFlags: -listen and -admin that cannot both be bound
// (the same port, once on the wildcard host) are refused before binding,
// with what to change; serve used to say "bind: address already in use",
// as if another process held the port.
func TestServeListenersClashFlags(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // free: the gateway itself would take it for -listen
	cmd := exec.Command(binPath, "-listen", fmt.Sprintf(":%d", port), "-admin", fmt.Sprintf("127.0.0.1:%d", port), "-data", t.TempDir())
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("exit: %v; want 1\n%s", err, out)
	}
	if !strings.Contains(string(out), "give the admin listener its own port") || strings.Contains(string(out), "address already in use") {
		t.Fatalf("the error does not say that -admin and -listen clash:\n%s", out)
	}
}

// TestUsageAgreesWithREADME: "beacongate -h" lists each command form of the
// README's command table as the README writes it, and no other. It said
// "explain -config FILE" (the README: -config is optional, the embedded
// default applies without it) and lacked the -kind email|phone|external_id
// form of subject, healthcheck's -timeout and the -data of the officers'
// commands.
func TestUsageAgreesWithREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var forms []string
	for _, line := range strings.Split(string(readme), "\n") {
		rest, ok := strings.CutPrefix(line, "| `beacongate ")
		if !ok {
			continue
		}
		form, _, ok := strings.Cut(rest, "`")
		if !ok {
			t.Fatalf("README command row without its closing backquote: %s", line)
		}
		forms = append(forms, "beacongate "+strings.ReplaceAll(form, `\|`, "|"))
	}
	if len(forms) < 15 {
		t.Fatalf("found only %d command forms in the README", len(forms))
	}
	var listed []string
	for _, line := range strings.Split(usage, "\n") {
		if form, ok := strings.CutPrefix(line, "  beacongate "); ok {
			form, _, _ = strings.Cut(form, "   (deprecated")
			listed = append(listed, "beacongate "+form)
		}
	}
	for _, f := range forms {
		if !slices.Contains(listed, f) {
			t.Errorf("the usage lacks the README's %q", f)
		}
	}
	for _, f := range listed {
		if !slices.Contains(forms, f) {
			t.Errorf("the usage's %q is not in the README's command table", f)
		}
	}
}

// TestServeHelpNamesTheGuardedEndpoints: "serve -h" names every endpoint
// the admin token guards, as the README's endpoint table does (GET /tap
// too), and says that with a token every peer needs it.
func TestServeHelpNamesTheGuardedEndpoints(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"serve", "-h"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("serve -h: exit %d", code)
	}
	var admin, token string
	lines := strings.Split(stderr.String(), "\n")
	for i, l := range lines {
		if i+1 < len(lines) && strings.HasPrefix(strings.TrimSpace(l), "-admin ") {
			admin = lines[i+1]
		}
		if i+1 < len(lines) && strings.HasPrefix(strings.TrimSpace(l), "-admin-token-file ") {
			token = lines[i+1]
		}
	}
	for _, w := range []string{"POST /-/reload", "GET /tap", "/debug/pprof/"} {
		if !strings.Contains(admin, w) || !strings.Contains(token, w) {
			t.Errorf("serve -h: -admin %q or -admin-token-file %q lacks %q", admin, token, w)
		}
	}
	if !strings.Contains(token, "every peer") {
		t.Errorf("serve -h: -admin-token-file %q does not say that every peer then needs the token", token)
	}
}

// TestAuditVerifyTornTail: after a crash in the middle of an audit entry,
// audit verify says the chain is intact and the last line unfinished, and
// exits 0; before, it reported the unfinished line as "not a valid audit
// entry" and exited 1, as for an edited log.
func TestAuditVerifyTornTail(t *testing.T) {
	data := t.TempDir()
	path := filepath.Join(data, audit.FileName)
	l := audit.Open(path, clock.Fixed(clocktest.Golden))
	for _, a := range []string{"config.load", "key.create"} {
		if _, err := l.Append(a, nil); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"seq":3,"time":"2026-`)
	f.Close()
	var out, errb bytes.Buffer
	code := run([]string{"audit", "verify", "-data", data}, nil, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "2 entries, chain intact; line 3 is unfinished") {
		t.Errorf("audit verify with a torn tail: exit %d\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
	}
}

// TestServeDurationFlagsChecked: -drain-delay and -shutdown-timeout are
// held to the ranges of server.drain_delay and server.shutdown_timeout,
// which config check enforces. They were taken as given: with
// -shutdown-timeout 0s or -1s a SIGTERM gave in-flight requests and
// delivery no time at all ("delivery did not finish" at once), and a
// -drain-delay of an hour held the process past every stop timeout.
func TestServeDurationFlagsChecked(t *testing.T) {
	for _, args := range [][]string{
		{"-shutdown-timeout", "0s"}, {"-shutdown-timeout", "-1s"}, {"-shutdown-timeout", "11m"},
		{"-drain-delay", "-1s"}, {"-drain-delay", "6m"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cmd := exec.CommandContext(ctx, binPath, append([]string{"-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-data", t.TempDir()}, args...)...)
		out, _ := cmd.CombinedOutput()
		cancel()
		if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), args[0]+":") {
			t.Errorf("serve %s %s: exit %d; want 2 and an error naming %s\n%s", args[0], args[1], code, args[0], out)
		}
	}
}

// TestServeHelpSaysTheConfigFileWins: the flags that override a config
// key print a default ("./beacongate-data", ":8080", 8s), which read as
// overriding the -config file's server.data_dir, server.listen and
// shutdown_timeout; the file's values are used unless the flag is given,
// and the help says so for each.
func TestServeHelpSaysTheConfigFileWins(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"serve", "-h"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("serve -h: exit %d", code)
	}
	help := map[string]string{}
	lines := strings.Split(stderr.String(), "\n")
	for i, l := range lines {
		if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], "-") && i+1 < len(lines) {
			help[f[0]] = lines[i+1]
		}
	}
	for flag, key := range map[string]string{"-listen": "server.listen", "-admin": "server.admin", "-data": "server.data_dir",
		"-drain-delay": "server.drain_delay", "-shutdown-timeout": "server.shutdown_timeout"} {
		if h := help[flag]; !strings.Contains(h, "without this flag") || !strings.Contains(h, key) {
			t.Errorf("serve -h: %s %q does not say that %s is used without the flag", flag, h, key)
		}
	}
}

// usageForms returns the command forms a usage text lists: the lines that
// begin "usage: beacongate " or, indented, "beacongate ".
func usageForms(text string) []string {
	var forms []string
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(line, "usage: ")
		if !ok {
			if strings.TrimLeft(line, " ") == line {
				continue
			}
			rest = strings.TrimLeft(line, " ")
		}
		if form, ok := strings.CutPrefix(rest, "beacongate "); ok {
			form, _, _ = strings.Cut(form, "   ") // a description or "(deprecated ...)" follows
			forms = append(forms, "beacongate "+strings.TrimSpace(form))
		}
	}
	return forms
}

// TestCommandUsageAgreesWithREADME: each command's own usage ("beacongate
// COMMAND -h") lists its forms as "beacongate -h" and the README's command
// table write them (TestUsageAgreesWithREADME keeps those two in step).
// "report -h" said [-config FILE], as report works without one (the
// embedded default config), while the README and "beacongate -h" said
// "report -config FILE"; subject's own usage lacked the -data DIR of its
// contact form and the -kind of suppress, and wrote unsuppress apart;
// healthcheck's and optout's wrote their arguments otherwise.
func TestCommandUsageAgreesWithREADME(t *testing.T) {
	top := usageForms(usage)
	if len(top) < 15 {
		t.Fatalf("found only %d forms in the usage", len(top))
	}
	for _, cmd := range [][]string{
		{"consent", "-h"}, {"explain", "-h"}, {"report", "-h"}, {"deadletter", "-h"}, {"tap", "-h"},
		{"healthcheck", "-h"}, {"version", "-h"}, {"optout", "-h"}, {"audit", "-h"}, {"keys", "-h"},
		{"subject", "-h"}, {"config", "-h"},
	} {
		var stdout, stderr bytes.Buffer
		run(cmd, strings.NewReader(""), &stdout, &stderr)
		forms := usageForms(stdout.String() + stderr.String())
		if len(forms) == 0 {
			t.Errorf("%q: no usage form in %q", cmd, stdout.String()+stderr.String())
		}
		for _, f := range forms {
			if !slices.Contains(top, f) {
				t.Errorf("%q lists %q, which the usage and the README's command table do not", cmd, f)
			}
		}
	}
}
