// Command bulkbench measures how one entrabridge process resolves a
// tenant-scale burst of notifications against loopback fakes.
//
// Usage, from the repository root:
//
//	go run ./scripts/bulkbench [-users 50000] [-renamed 100] [-timeout 5m]
//
// It builds ./cmd/entrabridge into a temporary folder, or runs -binary,
// and starts in-process fakes of Entra, Graph and Atlassian SCIM on
// 127.0.0.1. The fake Graph holds -users users and limits them to
// -graph-units resource units per 10 s, Graph's documented limit for a
// tenant of over 500 users. The fake SCIM holds the same users with
// externalId set to the object ID. The bridge runs `serve` with the
// receiver and worker roles and the default bulk settings, on the Redis
// at REDIS_URL (default redis://127.0.0.1:6379/0) under a key prefix of
// its own, whose keys are deleted at the end.
//
// Before the burst the bridge's bulk delta link is stored as if the
// bridge had tracked changes for an hour, as a bridge in service has.
// Then -renamed users are renamed in Graph, and every user is notified
// twice, in POSTs of 100 notifications as Graph sends them. The program
// waits until every rename is in the fake SCIM and the queue has
// drained, then prints Graph calls by kind, PATCHes, the time from the
// last notification to the last rename in SCIM, and Redis memory.
//
// The exit status is 1 when a target is missed: more than one Graph call
// per 500 notifications, a PATCH count other than -renamed, or a rename
// that took more than 2 minutes after the last notification. It is 2
// when the run could not be set up or timed out.
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
	users      int
	renamed    int
	graphUnits int
	timeout    time.Duration
	binary     string
	keep       bool
}

// errTargetMissed marks a run that completed but missed a target.
var errTargetMissed = errors.New("bulkbench: a target was missed")

func main() {
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, opts.timeout)
	err = run(ctx, opts, os.Stdout)
	cancel()
	stop()
	switch {
	case errors.Is(err, errTargetMissed):
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "bulkbench:", err)
		os.Exit(2)
	}
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bulkbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.users, "users", 50_000, "users in the fake Graph and SCIM; each is notified twice")
	fs.IntVar(&o.renamed, "renamed", 100, "users renamed in Graph before the burst")
	fs.IntVar(&o.graphUnits, "graph-units", 8000,
		"fake Graph resource units per 10 s; 8000 is Graph's limit for a tenant of over 500 users, 0 turns throttling off")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "bound on the whole run, setup included")
	fs.StringVar(&o.binary, "binary", "", "entrabridge binary to run; empty builds ./cmd/entrabridge")
	fs.BoolVar(&o.keep, "keep", false, "keep the work folder with the bridge log even when the run passes")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.users <= 0 || o.renamed < 0 || o.renamed > o.users || o.timeout <= 0 {
		err := fmt.Errorf("invalid flags -users %d, -renamed %d, -timeout %s: need users > 0, 0 <= renamed <= users and a positive timeout",
			o.users, o.renamed, o.timeout)
		fmt.Fprintln(stderr, "bulkbench:", err)
		return o, err
	}
	return o, nil
}
