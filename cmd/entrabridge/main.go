// Command entrabridge keeps Atlassian Cloud accounts in step with Microsoft
// Entra ID: it receives Graph change notifications for users, queues them in
// Redis, and syncs renamed users to Atlassian with SCIM PATCH requests.
//
// Run `entrabridge demo` for a self-contained trial and `entrabridge help`
// for every subcommand.
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

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], config.Environ(), os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "entrabridge:", err)
		os.Exit(1)
	}
}

// run executes one command line, reading configuration from env and
// writing to stdout and stderr, so tests can call it as a user would.
func run(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	root := newRootCommand(env, stdout, stderr)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}
