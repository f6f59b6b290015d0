package main

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/redisstore"
)

func (c *cli) dlqCommand() *cobra.Command {
	var limit int
	var all bool
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "Inspect, retry and drop dead-lettered syncs",
		Long: "A dead letter is a user sync the bridge gave up on, with the reason and what an\n" +
			"admin must do (docs/operations.md lists every reason). Retrying makes the user\n" +
			"due for a sync at once; the worker reads the current state from Graph again.",
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List dead letters, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withStore(cmd, func(s *redisstore.Store) error {
				dls, err := s.DeadLetters(cmd.Context(), limit)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tUSER\tREASON\tATTEMPTS\tAT")
				for _, d := range dls {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", d.ID, d.UserID, d.Reason, d.Attempts,
						d.At.UTC().Format(time.RFC3339))
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().IntVar(&limit, "limit", 100, "maximum entries to list")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Print one dead letter with its full detail",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withStore(cmd, func(s *redisstore.Store) error {
				d, err := s.DeadLetterByID(cmd.Context(), args[0])
				if err != nil {
					return deadLetterError(args[0], err)
				}
				printDeadLetter(c, d)
				return nil
			})
		},
	}

	retry := &cobra.Command{
		Use:   "retry (ID... | --all)",
		Short: "Make dead-lettered users due for a sync again",
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return errors.New("name dead-letter IDs or use --all, not both")
			}
			return c.withStore(cmd, func(s *redisstore.Store) error {
				ids := args
				if all {
					dls, err := s.DeadLetters(cmd.Context(), 0)
					if err != nil {
						return err
					}
					for _, d := range dls {
						ids = append(ids, d.ID)
					}
				}
				for _, id := range ids {
					if err := s.RetryDeadLetter(cmd.Context(), id); err != nil {
						return deadLetterError(id, err)
					}
				}
				fmt.Fprintf(c.stdout, "retrying %d dead letters\n", len(ids))
				return nil
			})
		},
	}
	retry.Flags().BoolVar(&all, "all", false, "retry every dead letter")

	drop := &cobra.Command{
		Use:   "drop ID...",
		Short: "Delete dead letters without retrying them",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withStore(cmd, func(s *redisstore.Store) error {
				for _, id := range args {
					if err := s.DropDeadLetter(cmd.Context(), id); err != nil {
						return deadLetterError(id, err)
					}
				}
				fmt.Fprintf(c.stdout, "dropped %d dead letters\n", len(args))
				return nil
			})
		},
	}
	cmd.AddCommand(list, show, retry, drop)
	return cmd
}

func deadLetterError(id string, err error) error {
	if errors.Is(err, redisstore.ErrNotFound) {
		return fmt.Errorf("dead letter %s not found: `entrabridge dlq list` shows the IDs", id)
	}
	return fmt.Errorf("dead letter %s: %w", id, err)
}

func printDeadLetter(c *cli, d bridge.DeadLetter) {
	fmt.Fprintf(c.stdout, "id:       %s\nuser:     %s\nreason:   %s\nattempts: %d\nat:       %s\ndetail:   %s\n",
		d.ID, d.UserID, d.Reason, d.Attempts, d.At.UTC().Format(time.RFC3339), d.Detail)
}
