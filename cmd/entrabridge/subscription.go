package main

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/entrabridge/entrabridge/internal/config"
	"github.com/entrabridge/entrabridge/internal/metrics"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/subscription"
)

// subscriptionParts builds the subscription manager and the delta
// reconciler. m may be nil for the administrative commands.
func subscriptionParts(a app, store *redisstore.Store, m *metrics.Metrics) (*subscription.Manager, *subscription.Reconciler, error) {
	gc, err := newGraphClient(a, m)
	if err != nil {
		return nil, nil, err
	}
	recCfg := subscription.ReconcilerConfig{Logger: a.log}
	cfg := subscription.Config{
		NotificationURL:          a.cfg.Subscription.NotificationURL,
		LifecycleNotificationURL: a.cfg.Subscription.LifecycleNotificationURL,
		DeltaInterval:            a.cfg.Subscription.DeltaInterval,
		RenewBefore:              a.cfg.Subscription.RenewBefore,
		Owner:                    processOwner(),
		Logger:                   a.log,
	}
	if len(a.cfg.ClientStates) > 0 {
		cfg.ClientState = a.cfg.ClientStates[0]
	}
	if m != nil {
		recCfg.Observer, cfg.Observer = m, m
	}
	cfg.Reconciler = subscription.NewReconciler(gc, store, recCfg)
	mgr, err := subscription.NewManager(gc, store, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("subscription manager: %w", err)
	}
	return mgr, cfg.Reconciler, nil
}

// processOwner names this process in leases: host, process ID and a
// start-time suffix, so a restarted process with a reused PID differs.
func processOwner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%d", host, os.Getpid(), time.Now().UnixNano()%1e6)
}

// withSubscriptions runs fn with the manager and reconciler connected to
// the bridge's Redis, for the administrative commands.
func (c *cli) withSubscriptions(cmd *cobra.Command, fn func(*subscription.Manager, *subscription.Reconciler) error) error {
	cfg, err := c.loadConfig()
	if err != nil {
		return err
	}
	if err := cfg.CheckRoles(config.RoleSubscription); err != nil && cmd.Name() == "subscribe" {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	return c.withStore(cmd, func(s *redisstore.Store) error {
		mgr, rec, err := subscriptionParts(app{cfg: cfg, log: newLogger(cfg, c.stderr)}, s, nil)
		if err != nil {
			return err
		}
		return fn(mgr, rec)
	})
}

func (c *cli) subscribeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "subscribe",
		Short: "Create the Graph subscription for /users, or adopt the existing one",
		Long: "subscribe creates the subscription on /users (changeType updated,deleted) with\n" +
			"GRAPH_NOTIFICATION_URL, its /lifecycle URL and GRAPH_CLIENT_STATE, expiring\n" +
			"within Graph's 41,760-minute maximum. Graph validates both URLs first, so the\n" +
			"receiver must already be reachable there. When Graph answers 409 because an\n" +
			"identical subscription exists, the bridge adopts and renews it. `serve` keeps it\n" +
			"renewed afterwards.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withSubscriptions(cmd, func(mgr *subscription.Manager, _ *subscription.Reconciler) error {
				sub, err := mgr.Subscribe(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "subscription %s on %s expires %s\n", sub.ID, sub.Resource,
					sub.ExpirationDateTime.UTC().Format(time.RFC3339))
				return nil
			})
		},
	}
}

func (c *cli) subscriptionsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "subscriptions",
		Short: "List, renew and delete the app's Graph subscriptions",
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List the app's Graph subscriptions; * marks the one the bridge maintains",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return c.withSubscriptions(cmd, func(mgr *subscription.Manager, _ *subscription.Reconciler) error {
					subs, err := mgr.List(cmd.Context())
					if err != nil {
						return err
					}
					current, _, err := mgr.Current(cmd.Context())
					if err != nil {
						return err
					}
					tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "\tID\tRESOURCE\tCHANGE TYPE\tEXPIRES\tNOTIFICATION URL")
					for _, s := range subs {
						mark := ""
						if s.ID == current.ID {
							mark = "*"
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", mark, s.ID, s.Resource, s.ChangeType,
							s.ExpirationDateTime.UTC().Format(time.RFC3339), s.NotificationURL)
					}
					return tw.Flush()
				})
			},
		},
		&cobra.Command{
			Use:   "renew",
			Short: "Renew the subscription the bridge maintains now",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return c.withSubscriptions(cmd, func(mgr *subscription.Manager, _ *subscription.Reconciler) error {
					st, err := mgr.Renew(cmd.Context())
					if err != nil {
						return err
					}
					fmt.Fprintf(c.stdout, "subscription %s expires %s\n", st.ID, st.ExpiresAt.UTC().Format(time.RFC3339))
					return nil
				})
			},
		},
		&cobra.Command{
			Use:   "delete ID",
			Short: "Delete a Graph subscription",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return c.withSubscriptions(cmd, func(mgr *subscription.Manager, _ *subscription.Reconciler) error {
					if err := mgr.Delete(cmd.Context(), args[0]); err != nil {
						return err
					}
					fmt.Fprintf(c.stdout, "deleted subscription %s\n", args[0])
					return nil
				})
			},
		},
	)
	return cmd
}

func (c *cli) resyncCommand() *cobra.Command {
	var apply bool
	cmd := &cobra.Command{
		Use:   "resync",
		Short: "Run the Graph users delta query and queue every changed user",
		Long: "resync runs one round of Graph's users delta query ($select=id,userPrincipalName,\n" +
			"mail) from the stored delta link, and queues a sync for every user Graph reports\n" +
			"as changed, through the same queue as notifications. The first round, with no\n" +
			"delta link yet, records each user's current values as a baseline for users the\n" +
			"bridge has never synced, and queues only users whose values differ from what it\n" +
			"last synced. With --apply, users it has never synced are queued too. When Graph rejects\n" +
			"the delta link (expired after 7 days, or syncStateNotFound), a full round with\n" +
			"--apply runs instead. `serve` runs the same round every DELTA_INTERVAL.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withSubscriptions(cmd, func(_ *subscription.Manager, rec *subscription.Reconciler) error {
				run, err := rec.Run(cmd.Context(), apply)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "delta round (%s): %d users read, %d queued for a sync, %d removed, %d baselined\n",
					run.Mode, run.Users, run.Changed, run.Removed, run.Baselined)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&apply, "apply", false, "on the first round, queue users instead of recording a baseline")
	return cmd
}
