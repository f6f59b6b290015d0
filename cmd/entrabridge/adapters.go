package main

import (
	"context"

	"github.com/entrabridge/entrabridge/internal/config"
	"github.com/entrabridge/entrabridge/internal/graph"
	"github.com/entrabridge/entrabridge/internal/plan"
)

// directory adapts the Graph client to the worker's Directory, keeping the
// Graph SDK out of the worker package.
type directory struct{ c *graph.Client }

func (d directory) GetUser(ctx context.Context, id string) (plan.EntraUser, error) {
	u, err := d.c.GetUser(ctx, id)
	if err != nil {
		return plan.EntraUser{}, err
	}
	return plan.EntraUser{ID: u.ID, UserPrincipalName: u.UserPrincipalName, Mail: u.Mail}, nil
}

func planPolicy(s config.SyncConfig) plan.Policy {
	return plan.Policy{UserNameSource: s.UserNameSource, VerifiedDomains: s.VerifiedDomains}
}
