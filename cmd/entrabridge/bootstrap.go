package main

import (
	"context"
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/scim"
)

func (c *cli) bootstrapCommand() *cobra.Command {
	var overwrite bool
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Map every Atlassian SCIM user whose externalId holds an Entra object ID",
		Long: "bootstrap pages through every user of the SCIM directory (100 per request) and\n" +
			"maps each one whose externalId is an Entra object ID, as Entra's Atlassian\n" +
			"provisioning writes it. It reports the users it could not match: no externalId,\n" +
			"an externalId that is not an object ID, or one object ID on several SCIM users.\n" +
			"Existing mappings are kept unless --overwrite is given.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := c.loadConfig()
			if err != nil {
				return err
			}
			sc, err := scim.New(cfg.SCIM.URL, cfg.SCIM.Token, scim.Options{UserAgent: "entrabridge"})
			if err != nil {
				return fmt.Errorf("scim client (ATLASSIAN_SCIM_URL, ATLASSIAN_SCIM_TOKEN): %w", err)
			}
			return c.withStore(cmd, func(s *redisstore.Store) error {
				return c.bootstrap(cmd.Context(), sc, s, overwrite)
			})
		},
	}
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "replace mappings that point elsewhere")
	return cmd
}

// unmatched is a SCIM user bootstrap could not map, with the reason.
type unmatched struct {
	scimID, userName, reason string
}

func (c *cli) bootstrap(ctx context.Context, sc *scim.Client, s *redisstore.Store, overwrite bool) error {
	byObject := map[string][]scim.User{}
	var skipped []unmatched
	scanned := 0
	for start := 1; ; {
		page, err := sc.ListUsers(ctx, start, scim.MaxPageSize)
		if err != nil {
			return fmt.Errorf("list scim users from index %d: %w", start, err)
		}
		for _, u := range page.Resources {
			switch {
			case u.ExternalID == "":
				skipped = append(skipped, unmatched{u.ID, u.UserName, "no externalId"})
			case !objectIDPattern.MatchString(u.ExternalID):
				skipped = append(skipped, unmatched{u.ID, u.UserName,
					fmt.Sprintf("externalId %q is not an Entra object ID", u.ExternalID)})
			default:
				byObject[u.ExternalID] = append(byObject[u.ExternalID], u)
			}
		}
		scanned += len(page.Resources)
		start += len(page.Resources)
		if len(page.Resources) == 0 || start > page.TotalResults {
			break
		}
	}

	rows := map[string]string{}
	kept := 0
	for objectID, users := range byObject {
		if len(users) > 1 {
			for _, u := range users {
				skipped = append(skipped, unmatched{u.ID, u.UserName,
					fmt.Sprintf("object ID %s is the externalId of %d SCIM users", objectID, len(users))})
			}
			continue
		}
		existing, ok, err := s.Mapping(ctx, objectID)
		if err != nil {
			return err
		}
		if ok && existing != users[0].ID && !overwrite {
			skipped = append(skipped, unmatched{users[0].ID, users[0].UserName,
				fmt.Sprintf("object ID %s is already mapped to %s (use --overwrite)", objectID, existing)})
			continue
		}
		if ok && existing == users[0].ID {
			kept++
			continue
		}
		rows[objectID] = users[0].ID
	}
	if len(rows) > 0 {
		if err := s.ImportMappings(ctx, rows); err != nil {
			return fmt.Errorf("store mappings: %w", err)
		}
	}

	fmt.Fprintf(c.stdout, "scanned %d SCIM users: %d mapped, %d already mapped, %d not matched\n",
		scanned, len(rows), kept, len(skipped))
	sort.Slice(skipped, func(i, j int) bool { return skipped[i].scimID < skipped[j].scimID })
	for _, u := range skipped {
		fmt.Fprintf(c.stdout, "  not matched: SCIM user %s (%s): %s\n", u.scimID, u.userName, u.reason)
	}
	return nil
}
