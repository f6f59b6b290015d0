// Command benchbridge measures entrabridge on one machine, over loopback
// only. It measures how fast the receiver acknowledges Graph notifications,
// compared with a bare Redis XADD handler and with a handler that syncs
// inline. It also measures how many users the worker syncs per second
// within the SCIM rate limit, how long a change takes from POST to the
// PATCH at Atlassian, and how much memory the receiver uses.
//
// It runs the real entrabridge binary as a subprocess (built with go build
// unless -bridge names one) against in-process fakes of Entra, Graph and
// Atlassian SCIM, and against the Redis at REDIS_URL (default
// redis://127.0.0.1:6379/0). Every Redis key it creates is under a
// "benchbridge-" prefix of its own and is deleted at the end.
//
// Usage:
//
//	go run ./cmd/benchbridge [-duration 10s] [-phases ingest,worker,e2e,memory] [-out results.md]
//
// The profile phase, which runs only when -phases names it, records CPU
// profiles of the receiver wiring re-created in benchbridge, because
// entrabridge itself serves no pprof endpoint.
//
// Run it from the repository root, so that go build finds the module.
// docs/benchmarks.md explains each phase and records results.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/entrabridge/entrabridge/internal/config"
)

// Hidden subcommands: benchbridge runs itself with one of these as the
// first argument to serve a baseline in a process of its own, so that the
// baselines and entrabridge are measured the same way.
const (
	modeServeBare   = "serve-bare"
	modeServeInline = "serve-inline"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], config.Environ(), os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchbridge:", err)
		os.Exit(1)
	}
}

// run executes one command line with env as the environment.
func run(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case modeServeBare:
			return serveBare(ctx, env, stdout)
		case modeServeInline:
			return serveInline(ctx, env, stdout)
		case modeServeReceiver:
			return serveReceiver(ctx, env, stdout)
		}
	}
	opts, err := parseOptions(args, env, stderr)
	if err != nil {
		return err
	}
	return benchmark(ctx, opts, stdout, stderr)
}
