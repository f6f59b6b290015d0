package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// cli carries what every subcommand needs: the environment it reads its
// configuration from and where it writes.
type cli struct {
	env    map[string]string
	stdout io.Writer
	stderr io.Writer
}

func newRootCommand(env map[string]string, stdout, stderr io.Writer) *cobra.Command {
	c := &cli{env: env, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "entrabridge",
		Short: "Keep Atlassian Cloud accounts in step with Microsoft Entra ID renames",
		Long: "entrabridge receives Microsoft Graph change notifications for users, queues them\n" +
			"durably in Redis, and sends SCIM PATCH requests so that a renamed Entra user's\n" +
			"Atlassian account follows within seconds and stays the same account.\n\n" +
			"Configuration comes from environment variables; see `entrabridge serve --help`.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(
		c.serveCommand(),
		c.demoCommand(),
		c.replayCommand(),
		c.mappingCommand(),
		c.dlqCommand(),
		c.subscribeCommand(),
		c.subscriptionsCommand(),
		c.resyncCommand(),
		c.syncCommand(),
		c.auditCommand(),
		c.configCommand(),
		c.healthcheckCommand(),
		c.versionCommand(),
	)
	return root
}

func (c *cli) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and Go build information",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info, ok := debug.ReadBuildInfo()
			if !ok {
				fmt.Fprintln(c.stdout, "entrabridge (no build information)")
				return nil
			}
			fmt.Fprintf(c.stdout, "entrabridge %s %s\n", info.Main.Version, info.GoVersion)
			return nil
		},
	}
}
