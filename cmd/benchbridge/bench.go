package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// bench is one benchmark run.
type bench struct {
	opts options
	keys *keyspace
	// dir contains certificates and server logs, and the entrabridge
	// binary when benchbridge builds it. It is removed at the end.
	dir        string
	bridgePath string
	selfPath   string
	log        *slog.Logger
	stdout     io.Writer
}

// section is one part of the report, printed when its phase ends.
type section struct {
	title string
	body  string
}

func (s section) markdown() string { return "## " + s.title + "\n\n" + s.body + "\n" }

func benchmark(ctx context.Context, opts options, stdout, stderr io.Writer) (err error) {
	b := &bench{opts: opts, stdout: stdout, log: slog.New(slog.NewTextHandler(stderr, nil))}
	if b.keys, err = openKeyspace(ctx, opts.redisURL); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, b.cleanUp()) }()
	if b.dir, err = os.MkdirTemp("", "benchbridge-"); err != nil {
		return fmt.Errorf("create work folder: %w", err)
	}
	if err := b.prepareBinaries(ctx); err != nil {
		return err
	}

	m := describeMachine(ctx, b.keys)
	sections := []section{{title: "Machine", body: m.markdown()}}
	fmt.Fprint(stdout, sections[0].markdown()+"\n")
	for _, phase := range allPhases {
		if !opts.runs(phase) || ctx.Err() != nil {
			continue
		}
		b.log.Info("phase started", "phase", phase)
		loadBefore := loadAverage()
		s, err := b.runPhase(ctx, phase)
		if err != nil {
			return errors.Join(fmt.Errorf("phase %s: %w", phase, err), b.writeReport(sections))
		}
		// Other work on the machine shows in the load average, which
		// explains outliers on a shared machine.
		s.body += fmt.Sprintf("\nLoad average (1, 5, 15 min) at the start of the phase: %s, and at the end: %s.\n",
			loadBefore, loadAverage())
		fmt.Fprint(stdout, s.markdown()+"\n")
		sections = append(sections, s)
	}
	return b.writeReport(sections)
}

func (b *bench) runPhase(ctx context.Context, phase string) (section, error) {
	switch phase {
	case phaseIngest:
		return b.ingest(ctx)
	case phaseWorker:
		return b.worker(ctx)
	case phaseE2E:
		return b.endToEnd(ctx)
	case phaseMemory:
		return b.memory(ctx)
	case phaseProfile:
		return b.profile(ctx)
	}
	return section{}, fmt.Errorf("unknown phase %q", phase)
}

// prepareBinaries finds this program's own binary, for the baselines, and
// builds entrabridge unless -bridge names a binary.
func (b *bench) prepareBinaries(ctx context.Context) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	b.selfPath = self
	if b.opts.bridge != "" {
		b.bridgePath = b.opts.bridge
		return nil
	}

	b.bridgePath = filepath.Join(b.dir, "entrabridge")
	b.log.Info("building entrabridge (the Graph SDK takes minutes on a cold build cache)")
	build := exec.CommandContext(ctx, "go", "build", "-o", b.bridgePath,
		"github.com/entrabridge/entrabridge/cmd/entrabridge")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build entrabridge: %w: %s\nrun benchbridge from the repository root or pass -bridge",
			err, strings.TrimSpace(string(out)))
	}
	return nil
}

// cleanUp deletes the run's Redis keys and work folder. It uses a fresh
// context, so that an interrupted run still cleans up.
func (b *bench) cleanUp() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := b.keys.purge(ctx)
	b.log.Info("deleted redis keys", "keys", n, "prefix", b.keys.runID)
	err = errors.Join(err, b.keys.close())
	switch {
	case b.dir == "":
	case b.opts.keep:
		b.log.Info("kept the work folder with the servers' logs", "dir", b.dir)
	default:
		err = errors.Join(err, os.RemoveAll(b.dir))
	}
	return err
}

func (b *bench) writeReport(sections []section) error {
	if b.opts.out == "" {
		return nil
	}
	var sb strings.Builder
	sb.WriteString("# entrabridge benchmark results\n\n")
	for _, s := range sections {
		sb.WriteString(s.markdown() + "\n")
	}
	if err := os.WriteFile(b.opts.out, []byte(sb.String()), 0o644); err != nil {
		return fmt.Errorf("write -out file: %w", err)
	}
	return nil
}

// baseEnv returns the variables every server under test gets: PATH and
// HOME from this process, and REDIS_URL.
func (b *bench) baseEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "REDIS_URL=" + b.opts.redisURL}
}

// startBridge starts `entrabridge serve` with roles, on its own key
// prefix, with the extra variables given.
func (b *bench) startBridge(ctx context.Context, name, roles string, extra ...string) (*serverProcess, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	env := append(b.baseEnv(),
		"LISTEN_ADDR="+addr,
		"REDIS_KEY_PREFIX="+b.keys.prefix(name),
		"LOG_FORMAT=json",
		"LOG_LEVEL=info",
	)
	env = append(env, extra...)
	return startServer(ctx, name, b.dir, b.bridgePath, []string{"serve", "--roles", roles}, env, "http://"+addr)
}

// startBaseline runs this program as the baseline server mode.
func (b *bench) startBaseline(ctx context.Context, name, mode string, extra ...string) (*serverProcess, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	env := append(b.baseEnv(), envListen+"="+addr)
	env = append(env, extra...)
	return startServer(ctx, name, b.dir, b.selfPath, []string{mode}, env, "http://"+addr)
}
