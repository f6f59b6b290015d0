package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/entrabridge/entrabridge/internal/config"
	"github.com/entrabridge/entrabridge/internal/graph"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/scim"
)

func (c *cli) configCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check the configuration",
	}
	var roles []string
	check := &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration and reach Redis, Entra, Graph and Atlassian",
		Long: "check validates every environment variable, then reaches each dependency:\n" +
			"Redis (PING), Entra (a Graph token), Graph (list one user, which needs\n" +
			"User.Read.All) and Atlassian SCIM (/ServiceProviderConfig and one user read\n" +
			"with the API key). It prints one line per check with the fix for each\n" +
			"failure, and exits non-zero when any check fails.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			parsed, err := parseRoles(roles)
			if err != nil {
				return err
			}
			return c.checkConfig(cmd.Context(), parsed)
		},
	}
	check.Flags().StringSliceVar(&roles, "roles", nil,
		"roles whose configuration to check: receiver, worker, subscription (default: those serve runs); "+
			"a receiver needs no Graph or SCIM credentials")
	cmd.AddCommand(check)
	return cmd
}

// check is one line of `config check`.
type check struct {
	name string
	run  func(ctx context.Context) (detail string, err error)
	fix  string
}

func (c *cli) checkConfig(ctx context.Context, roles []config.Role) error {
	cfg, err := config.Load(c.env)
	if len(roles) == 0 {
		roles = defaultRoles(cfg)
	}
	err = errors.Join(err, cfg.CheckRoles(roles...))
	if err != nil {
		fmt.Fprintf(c.stdout, "FAIL  configuration\n%s\n", indent(err.Error()))
		return errors.New("configuration is invalid")
	}
	fmt.Fprintln(c.stdout, "ok    configuration")

	checks := []check{{name: "redis", fix: "check REDIS_URL, that Redis runs and that this host may reach it",
		run: func(ctx context.Context) (string, error) { return checkRedis(ctx, cfg) }}}
	worker := slices.Contains(roles, config.RoleWorker)
	if worker || slices.Contains(roles, config.RoleSubscription) {
		checks = append(checks, graphChecks(cfg)...)
	}
	if worker {
		checks = append(checks, scimCheck(cfg))
	}
	return runChecks(ctx, c.stdout, checks)
}

// graphChecks reach Entra and Graph, which the worker and subscription
// roles need.
func graphChecks(cfg config.Config) []check {
	var gc *graph.Client
	tokenOK := false
	return []check{
		{name: "entra token", fix: "check AZURE_TENANT_ID, AZURE_CLIENT_ID and the credential " +
			"(secret expired? certificate uploaded to the app registration?)",
			run: func(ctx context.Context) (string, error) {
				var err error
				if gc, err = newGraphClient(app{cfg: cfg}, nil); err != nil {
					return "", err
				}
				if err := gc.Token(ctx); err != nil {
					return "", err
				}
				tokenOK = true
				return graphConfig(cfg.Graph, nil).CredentialKind(), nil
			}},
		{name: "graph read", fix: "grant the app the User.Read.All application permission with admin consent",
			run: func(ctx context.Context) (string, error) {
				if !tokenOK {
					return "", errSkipped
				}
				return cfg.Graph.BaseURL, gc.Probe(ctx)
			}},
	}
}

// scimCheck reaches Atlassian SCIM, which the worker needs.
func scimCheck(cfg config.Config) check {
	return check{name: "scim", fix: "check ATLASSIAN_SCIM_URL (…/scim/directory/<id>) and that this host reaches " +
		"it and trusts its certificate; on 401 or 403, renew ATLASSIAN_SCIM_TOKEN in Atlassian Administration",
		run: func(ctx context.Context) (string, error) {
			sc, err := scim.New(cfg.SCIM.URL, cfg.SCIM.Token, scim.Options{UserAgent: "entrabridge"})
			if err != nil {
				return "", err
			}
			if err := sc.ServiceProviderConfig(ctx); err != nil {
				return "", err
			}
			list, err := sc.ListUsers(ctx, 1, 1)
			return fmt.Sprintf("%d users in the directory", list.TotalResults), err
		}}
}

// errSkipped marks a check that could not run because an earlier one
// failed; the earlier failure is the one to fix.
var errSkipped = errors.New("skipped because the check above failed")

func runChecks(ctx context.Context, out io.Writer, checks []check) error {
	failed := 0
	for _, ch := range checks {
		checkCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
		detail, err := ch.run(checkCtx)
		cancel()
		if errors.Is(err, errSkipped) {
			fmt.Fprintf(out, "skip  %-12s %v\n", ch.name, err)
			continue
		}
		if err != nil {
			failed++
			fmt.Fprintf(out, "FAIL  %-12s %v\n      fix: %s\n", ch.name, err, ch.fix)
			continue
		}
		fmt.Fprintf(out, "ok    %-12s %s\n", ch.name, detail)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d checks failed", failed, len(checks))
	}
	return nil
}

func checkRedis(ctx context.Context, cfg config.Config) (string, error) {
	if cfg.RedisURL == config.Embedded {
		return "embedded: nothing survives a restart", nil
	}
	store, err := redisstore.Open(ctx, cfg.RedisURL, redisstore.Options{Prefix: cfg.KeyPrefix})
	if err != nil {
		return "", err
	}
	defer store.Close()
	start := time.Now()
	if err := store.Ping(ctx); err != nil {
		return "", err
	}
	return fmt.Sprintf("PING %.1f ms, key prefix %s", float64(time.Since(start).Microseconds())/1000, cfg.KeyPrefix), nil
}

func indent(s string) string {
	out := "      "
	for _, r := range s {
		out += string(r)
		if r == '\n' {
			out += "      "
		}
	}
	return out
}
