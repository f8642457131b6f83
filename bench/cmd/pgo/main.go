// Command pgo writes the CPU profile the gateway is built with
// (cmd/beacongate/default.pgo, which go build uses by itself: profile-guided
// optimization). It builds the gateway and the load generator, starts the
// gateway with -pprof on the bench config (loopback trusted as a proxy,
// spool durability process, the MaxMind test database when
// ../shared/testdata has it), pinned to one CPU with the load generator on
// another when taskset allows, sends the realistic mix in a closed loop,
// and saves a CPU profile of the gateway under that load. All traffic goes
// to loopback.
//
//	go run ./bench/cmd/pgo                  # ~40 s; rewrites cmd/beacongate/default.pgo
//	go run ./bench/cmd/pgo -seconds 30 -out /tmp/mix.pgo
//
// Run with -h for all flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/beacongate/beacongate/bench/compare"
	"github.com/beacongate/beacongate/bench/gomod"
	"github.com/beacongate/beacongate/bench/loadgen"
)

// minProfileBytes is the least a profile of a loaded gateway holds.
const minProfileBytes = 4 << 10

func main() {
	out := flag.String("out", "cmd/beacongate/default.pgo", "profile to write (a relative path is relative to the module root)")
	seconds := flag.Int("seconds", 20, "length of the CPU profile")
	warmup := flag.Duration("warmup", 3*time.Second, "load before the profile starts (free lists fill, buffers grow)")
	mix := flag.String("mix", loadgen.DefaultMix().String(), "traffic mix (see loadgen -mix)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *out, *seconds, *warmup, *mix); err != nil {
		fmt.Fprintln(os.Stderr, "pgo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out string, seconds int, warmup time.Duration, mix string) error {
	if seconds < 5 || seconds > 300 {
		return errors.New("-seconds must be 5..300")
	}
	m := loadgen.DefaultMix()
	if err := m.Set(mix); err != nil {
		return fmt.Errorf("-mix: %w", err)
	}
	root, err := gomod.Root(ctx)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "beacongate-pgo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	gw, lg := filepath.Join(tmp, "beacongate"), filepath.Join(tmp, "loadgen")
	for _, b := range [][2]string{{"./cmd/beacongate", gw}, {"./bench/cmd/loadgen", lg}} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b[1], b[0])
		cmd.Dir, cmd.Stderr = root, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build %s: %w", b[0], err)
		}
	}
	// compare's bench config: loopback trusted as a proxy, durability
	// process, the MaxMind test database when the shared test data has it.
	cfg, err := compare.GatewayConfig("", "process", compare.SharedGeoIP(root))
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(tmp, "beacongate.yaml")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		return err
	}
	listen, err := compare.FreeAddr()
	if err != nil {
		return err
	}
	admin, err := compare.FreeAddr()
	if err != nil {
		return err
	}
	gwArgv := compare.PinServer([]string{gw, "-pprof", "-listen", listen, "-admin", admin, "-data", filepath.Join(tmp, "data"), "-config", cfgPath})
	gwCmd := exec.CommandContext(ctx, gwArgv[0], gwArgv[1:]...)
	gwCmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	gwLog, err := os.Create(filepath.Join(tmp, "beacongate.log"))
	if err != nil {
		return err
	}
	gwCmd.Stdout, gwCmd.Stderr = gwLog, gwLog
	if err := gwCmd.Start(); err != nil {
		return err
	}
	gwDone := make(chan struct{})
	go func() { gwCmd.Wait(); close(gwDone) }()
	defer func() {
		gwCmd.Process.Signal(syscall.SIGTERM)
		<-gwDone
	}()
	gwFailed := func(what string, err error) error {
		b, _ := os.ReadFile(gwLog.Name())
		return fmt.Errorf("%s: %w\ngateway log:\n%s", what, err, b)
	}
	if err := waitReady(ctx, "http://"+admin+"/healthz", gwDone); err != nil {
		return gwFailed("the gateway did not start", err)
	}
	load := time.Duration(seconds)*time.Second + warmup + 2*time.Second
	lgArgv := compare.PinClient([]string{lg, "-target", "http://" + listen, "-metrics", "", "-mode", "closed", "-mix", mix, "-warmup", "0s", "-duration", load.String()})
	lgCmd := exec.CommandContext(ctx, lgArgv[0], lgArgv[1:]...)
	lgCmd.Stdout, lgCmd.Stderr = io.Discard, os.Stderr // its table is not needed; its errors are
	if err := lgCmd.Start(); err != nil {
		return err
	}
	lgDone := make(chan error, 1)
	go func() { lgDone <- lgCmd.Wait() }()
	defer func() {
		// The load is only needed while the profile is taken.
		lgCmd.Process.Kill()
		<-lgDone
	}()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-lgDone:
		lgDone <- err
		return fmt.Errorf("the load generator stopped before the profile began: %v", err)
	case <-time.After(warmup):
	}
	fmt.Fprintf(os.Stderr, "pgo: profiling the gateway for %d s under %s\n", seconds, mix)
	prof, err := compare.Fetch(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", admin, seconds), time.Duration(seconds+30)*time.Second)
	if err != nil {
		return gwFailed("profiling the gateway", err)
	}
	select {
	case err := <-lgDone:
		lgDone <- err
		return fmt.Errorf("the load generator stopped during the profile (%v): the profile is not of a loaded gateway", err)
	default:
	}
	// A profile of a gateway under load for 20 s holds tens of KiB; one
	// of an idle gateway a few hundred bytes.
	if len(prof) < minProfileBytes {
		return fmt.Errorf("the profile holds %d bytes (less than %d): the gateway was not under load; %s is unchanged", len(prof), minProfileBytes, out)
	}
	dst := out
	if !filepath.IsAbs(dst) {
		dst = filepath.Join(root, dst)
	}
	if err := os.WriteFile(dst+".tmp", prof, 0o644); err != nil {
		os.Remove(dst + ".tmp")
		return err
	}
	if err := os.Rename(dst+".tmp", dst); err != nil {
		os.Remove(dst + ".tmp")
		return err
	}
	fmt.Fprintf(os.Stderr, "pgo: wrote %s (%d bytes)\n", dst, len(prof))
	return nil
}

// waitReady polls url until it answers 200, the process behind it exits
// (exited closes) or 20 s pass.
func waitReady(ctx context.Context, url string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return errors.New("no answer from " + url + " within 20 s")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return errors.New("the process exited")
		case <-time.After(100 * time.Millisecond):
		}
	}
}
