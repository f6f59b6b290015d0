package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/entrabridge/entrabridge/internal/redisstore"
)

func (c *cli) auditCommand() *cobra.Command {
	var (
		user  string
		since time.Duration
		limit int
	)
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "List the PATCH requests the bridge sent or, in a dry run, would have sent",
		Long: "audit prints the audit trail newest first: time, Entra object ID, SCIM user ID,\n" +
			"result (synced, dry_run, failed) and the userName and email before and after.\n" +
			"Redis keeps about the newest 100,000 entries.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var from time.Time
			if since > 0 {
				from = time.Now().Add(-since)
			}
			return c.withStore(cmd, func(s *redisstore.Store) error {
				entries, err := s.Audit(cmd.Context(), user, from, limit)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "AT\tUSER\tSCIM USER\tRESULT\tUSERNAME\tEMAIL\tDETAIL")
				for _, e := range entries {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s → %s\t%s → %s\t%s\n",
						e.At.UTC().Format(time.RFC3339), e.UserID, e.ScimUserID, e.Result,
						e.BeforeUserName, e.AfterUserName, e.BeforeEmail, e.AfterEmail, e.Detail)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "only entries for this Entra object ID")
	cmd.Flags().DurationVar(&since, "since", 0, "only entries newer than this, e.g. 24h")
	cmd.Flags().IntVar(&limit, "limit", 100, "maximum entries to print")
	return cmd
}
