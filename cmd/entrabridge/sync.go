package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/redisstore"
)

func (c *cli) syncCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "sync OBJECT_ID...",
		Short: "Queue a full sync of users, comparing Graph with Atlassian",
		Long: "sync forgets what the bridge last synced for each user and queues a sync, so the\n" +
			"worker reads the user from Graph and compares it with the Atlassian SCIM record\n" +
			"itself, sending a PATCH if they differ. Use it for a user who was out of step\n" +
			"before the bridge recorded its baseline. A running worker picks the users up.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, id := range args {
				if !objectIDPattern.MatchString(id) {
					return fmt.Errorf("%q is not an Entra object ID (a GUID)", id)
				}
			}
			return c.withStore(cmd, func(s *redisstore.Store) error {
				changes := make([]bridge.Change, len(args))
				for i, id := range args {
					if err := s.DeleteSnapshot(cmd.Context(), id); err != nil {
						return err
					}
					changes[i] = bridge.Change{UserID: id, ChangeType: "manual", ReceivedAt: time.Now()}
				}
				if err := s.Enqueue(cmd.Context(), changes, nil); err != nil {
					return fmt.Errorf("queue users: %w", err)
				}
				fmt.Fprintf(c.stdout, "queued %d users for a full sync\n", len(args))
				return nil
			})
		},
	}
}
