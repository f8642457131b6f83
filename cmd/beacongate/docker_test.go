package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerInstr is one instruction of a Dockerfile's final stage, with
// continuation lines joined.
type dockerInstr struct {
	cmd  string // upper case: FROM, COPY, ...
	args string
}

// finalStage parses ../../Dockerfile and returns the final stage's
// instructions and the whole file's.
func finalStage(t *testing.T) (final, all []dockerInstr) {
	t.Helper()
	f, err := os.Open("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var cur string
	flush := func() {
		cur = strings.TrimSpace(cur)
		if cur == "" {
			return
		}
		cmd, args, _ := strings.Cut(cur, " ")
		in := dockerInstr{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		all = append(all, in)
		if in.cmd == "FROM" {
			final = nil
		}
		final = append(final, in)
		cur = ""
	}
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") && cur == "" {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		cur += line
		flush()
	}
	return final, all
}

// execForm decodes a JSON exec-form argument list.
func execForm(t *testing.T, s string) []string {
	t.Helper()
	var argv []string
	if err := json.Unmarshal([]byte(s), &argv); err != nil {
		t.Fatalf("not an exec-form list: %s: %v", s, err)
	}
	return argv
}

// TestDockerfile checks by construction what a Docker engine would show:
// the image runs as a non-root user; the data directory the entrypoint
// names is created in the image, owned by that user, before it becomes a
// volume; the health check runs the binary's own healthcheck command
// against the entrypoint's admin port; the entrypoint's flags, with the
// -config a user appends, are accepted by the server.
func TestDockerfile(t *testing.T) {
	final, all := finalStage(t)
	get := func(cmd string) []dockerInstr {
		var out []dockerInstr
		for _, in := range final {
			if in.cmd == cmd {
				out = append(out, in)
			}
		}
		return out
	}
	users := get("USER")
	if len(users) != 1 {
		t.Fatalf("final stage has %d USER instructions; want 1", len(users))
	}
	uid, _, _ := strings.Cut(users[0].args, ":")
	if uid == "" || uid == "0" || uid == "root" {
		t.Fatalf("runs as %q", users[0].args)
	}

	eps := get("ENTRYPOINT")
	if len(eps) != 1 {
		t.Fatal("final stage needs one ENTRYPOINT")
	}
	argv := execForm(t, eps[0].args)
	flags, _, err := parseServeFlags(append(argv[1:], "-config", "/etc/beacongate/config.yaml"), io.Discard)
	if err != nil {
		t.Fatalf("entrypoint flags %q: %v", argv[1:], err)
	}

	// The data directory: made in the build stage, and copied into the
	// image as a new directory (the contents of its parent, so that COPY
	// creates it and --chown covers it) owned by the runtime user, then
	// declared a volume.
	var made []string
	for _, in := range all {
		if in.cmd == "RUN" {
			for _, m := range regexp.MustCompile(`mkdir -p (\S+)`).FindAllStringSubmatch(in.args, -1) {
				made = append(made, m[1])
			}
		}
	}
	copied, volume := -1, -1
	for i, in := range final {
		switch in.cmd {
		case "COPY":
			f := strings.Fields(in.args)
			if len(f) < 2 || !strings.Contains(in.args, "--chown="+uid+":") {
				continue
			}
			src, dst := strings.TrimSuffix(f[len(f)-2], "/"), strings.TrimSuffix(f[len(f)-1], "/")
			if dst != path.Dir(flags.data) || !strings.HasSuffix(f[len(f)-2], "/") {
				continue
			}
			for _, m := range made {
				if m == src+"/"+path.Base(flags.data) {
					copied = i
				}
			}
		case "VOLUME":
			if strings.Contains(in.args, `"`+flags.data+`"`) {
				volume = i
			}
		}
	}
	if copied < 0 || volume < 0 || copied > volume {
		t.Fatalf("%s must be made in the build stage and copied in (as its parent's contents) with --chown=%s before VOLUME (copy at %d, volume at %d; made %q)",
			flags.data, uid, copied, volume, made)
	}

	hcs := get("HEALTHCHECK")
	if len(hcs) != 1 {
		t.Fatal("final stage needs one HEALTHCHECK")
	}
	_, cmdJSON, ok := strings.Cut(hcs[0].args, "CMD ")
	if !ok {
		t.Fatalf("HEALTHCHECK without CMD: %s", hcs[0].args)
	}
	hc := execForm(t, cmdJSON)
	if hc[0] != argv[0] || len(hc) < 2 || hc[1] != "healthcheck" {
		t.Fatalf("health check %q does not run %s healthcheck", hc, argv[0])
	}
	var hcAdmin string
	for i := range hc {
		if hc[i] == "-admin" && i+1 < len(hc) {
			hcAdmin = hc[i+1]
		}
	}
	_, epPort, _ := net.SplitHostPort(flags.admin)
	if _, hcPort, _ := net.SplitHostPort(hcAdmin); hcPort != epPort {
		t.Fatalf("health check probes %q; the entrypoint's admin listener is %q", hcAdmin, flags.admin)
	}
}

// TestDockerignore: the build context leaves out VCS data and local data,
// and keeps what the build needs (go.mod, go.sum, every embedded file).
func TestDockerignore(t *testing.T) {
	b, err := os.ReadFile("../../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	ignored := func(p string) bool {
		for _, pat := range patterns {
			for _, cand := range []string{pat, strings.TrimPrefix(pat, "**/")} {
				for dir := p; dir != "."; dir = path.Dir(dir) {
					if ok, _ := path.Match(cand, dir); ok {
						return true
					}
					if strings.HasPrefix(pat, "**/") {
						if ok, _ := path.Match(cand, path.Base(dir)); ok {
							return true
						}
					}
				}
			}
		}
		return false
	}
	for _, p := range []string{".git", ".git/config", "beacongate-data/spool/x", "cmd/beacongate/beacongate-data", "x.test", "bench/results/latest.md"} {
		if !ignored(p) {
			t.Errorf("%s is sent to the build", p)
		}
	}
	keep := []string{"go.mod", "go.sum", "cmd/beacongate/main.go", "config/parse.go"}
	// Every //go:embed pattern in the module must reach the build.
	embed := regexp.MustCompile(`(?m)^//go:embed (.+)$`)
	err = filepath.WalkDir("../..", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("../..", filepath.Dir(p))
		for _, m := range embed.FindAllStringSubmatch(string(src), -1) {
			for _, f := range strings.Fields(m[1]) {
				keep = append(keep, path.Join(filepath.ToSlash(rel), f))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range keep {
		if ignored(p) {
			t.Errorf("%s is needed by the build but .dockerignore leaves it out", p)
		}
	}
}
