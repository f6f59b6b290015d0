// Command chaos runs two entrabridge processes under a load of user renames
// while it injects faults, then checks that every renamed user reached
// Atlassian or was dead-lettered.
//
// Usage, from the repository root:
//
//	go run ./scripts/chaos [-duration 60s] [-users 200] [-rate 20]
//
// It builds the binary into a temporary folder, or runs -binary. It starts
// redis-server on a free loopback port, with an append-only file fsynced on
// every write. It starts in-process fakes of Entra, Graph and Atlassian
// SCIM, and two `entrabridge serve` processes with both roles. When
// redis-server is not on PATH, it uses REDIS_URL (default
// redis://127.0.0.1:6379/0) on a key prefix of its own, deletes those keys
// at the end, and skips the Redis restart.
//
// For -duration it renames random users in the fake Graph at -rate per
// second and posts one to three notifications per rename, as Graph sends
// duplicates. Like Graph, it retries a notification that got a 5xx or no
// response, on the other process. Faults follow a fixed schedule, in
// fractions of the duration:
//
//   - 15 % to 25 %: every SCIM request gets 503.
//   - 35 %: three SCIM requests get 429 with Retry-After: 3.
//   - 50 %: one bridge process gets SIGKILL and is restarted 2 s later.
//   - 70 %: redis-server gets SIGKILL and is restarted 3 s later on the
//     same files.
//
// Then it stops the load, waits up to -drain-timeout for the queue to
// drain, compares every user's final state in Graph with its SCIM record,
// and prints a table. A user is lost when its last change was accepted
// (202) but it neither converged nor was dead-lettered. The exit status is
// 1 when a user is lost or two PATCHes for one user overlapped, 2 when the
// run could not be set up, and 0 otherwise. Every server listens on
// 127.0.0.1 only. The processes' logs stay in the printed folder when the
// run fails or -keep is set.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// options are the command-line flags.
type options struct {
	duration     time.Duration
	users        int
	rate         float64
	drainTimeout time.Duration
	lease        time.Duration
	scimRate     float64
	binary       string
	keep         bool
	scimLatency  time.Duration
}

// errVerdict marks a run that completed and found lost users or overlaps.
var errVerdict = errors.New("chaos: users were lost or PATCHes overlapped")

func main() {
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, opts, os.Stdout)
	stop()
	switch {
	case errors.Is(err, errVerdict):
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.duration, "duration", 60*time.Second, "how long the load and the faults run")
	fs.IntVar(&o.users, "users", 200, "number of users the load renames")
	fs.Float64Var(&o.rate, "rate", 20, "renames per second")
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 90*time.Second,
		"how long to wait for the queue to drain after the load stops")
	fs.DurationVar(&o.lease, "lease", 15*time.Second,
		"LEASE_DURATION of the bridge processes; a killed process's claims lapse after it")
	fs.Float64Var(&o.scimRate, "scim-rate", 50, "ATLASSIAN_SCIM_RATE of the bridge processes, in requests per second")
	fs.DurationVar(&o.scimLatency, "scim-latency", 200*time.Millisecond,
		"delay of every fake SCIM response, so that a killed process has syncs in flight")
	fs.StringVar(&o.binary, "binary", "", "entrabridge binary to run; empty builds ./cmd/entrabridge")
	fs.BoolVar(&o.keep, "keep", false, "keep the work folder with the process logs even when the run passes")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.duration <= 0 || o.users <= 0 || o.rate <= 0 || o.drainTimeout <= 0 {
		err := fmt.Errorf("invalid flags -duration %s, -users %d, -rate %g, -drain-timeout %s: each must be positive",
			o.duration, o.users, o.rate, o.drainTimeout)
		fmt.Fprintln(stderr, "chaos:", err)
		return o, err
	}
	return o, nil
}
