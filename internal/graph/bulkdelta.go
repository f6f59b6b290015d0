package graph

import (
	"context"
	"fmt"
	"strings"
)

// maxBulkDeltaPages bounds one round of ChangedUserIDs, as the
// Reconciler bounds its rounds.
const maxBulkDeltaPages = 100_000

// LatestUsersDeltaLink returns a users delta link that reports changes
// from now on, from GET /users/delta()?$deltaToken=latest, without
// reading any user.
func (c *Client) LatestUsersDeltaLink(ctx context.Context) (string, error) {
	link := c.baseURL + "/users/delta()?$select=" + strings.Join(deltaSelect, ",") + "&$deltatoken=latest"
	_, next, err := c.ChangedUserIDs(ctx, link)
	if err != nil {
		return "", fmt.Errorf("start users delta tracking: %w", err)
	}
	return next, nil
}

// ChangedUserIDs reads one users delta round from link, following its
// next links, and returns the ID of every user it reports, removed users
// included, and the delta link that starts the next round. Because the
// round selects only id, userPrincipalName and mail, Graph reports a user
// only when one of those changed or the user was removed.
func (c *Client) ChangedUserIDs(ctx context.Context, link string) ([]string, string, error) {
	var ids []string
	next := link
	for page := 1; page <= maxBulkDeltaPages; page++ {
		p, err := c.UsersDelta(ctx, next)
		if err != nil {
			return nil, "", err
		}
		for _, u := range p.Users {
			if u.ID != "" {
				ids = append(ids, u.ID)
			}
		}
		switch {
		case p.DeltaLink != "":
			return ids, p.DeltaLink, nil
		case p.NextLink == "" || p.NextLink == next:
			return nil, "", fmt.Errorf("users delta page %d has no usable @odata.nextLink or @odata.deltaLink", page)
		}
		next = p.NextLink
	}
	return nil, "", fmt.Errorf("users delta round ended after %d pages without @odata.deltaLink", maxBulkDeltaPages)
}
