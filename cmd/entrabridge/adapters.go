package main

import (
	"context"

	"github.com/entrabridge/entrabridge/internal/admin"
	"github.com/entrabridge/entrabridge/internal/config"
	"github.com/entrabridge/entrabridge/internal/graph"
	"github.com/entrabridge/entrabridge/internal/plan"
	"github.com/entrabridge/entrabridge/internal/redisstore"
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

// GetUsers reads users with Graph JSON batches, so the worker meets
// worker.BatchDirectory through this adapter.
func (d directory) GetUsers(ctx context.Context, ids []string) (map[string]plan.EntraUser, map[string]error) {
	found, failed := d.c.GetUsers(ctx, ids)
	users := make(map[string]plan.EntraUser, len(found))
	for id, u := range found {
		users[id] = plan.EntraUser{ID: u.ID, UserPrincipalName: u.UserPrincipalName, Mail: u.Mail}
	}
	return users, failed
}

func planPolicy(s config.SyncConfig) plan.Policy {
	return plan.Policy{UserNameSource: s.UserNameSource, VerifiedDomains: s.VerifiedDomains}
}

// adminStatus gives the admin page the subscription and delta state kept
// in Redis.
type adminStatus struct{ store *redisstore.Store }

func (s adminStatus) Subscription(ctx context.Context) (admin.SubscriptionStatus, error) {
	st, found, err := s.store.Subscription(ctx)
	if err != nil || !found {
		return admin.SubscriptionStatus{}, err
	}
	return admin.SubscriptionStatus{ID: st.ID, NotificationURL: st.NotificationURL, Expires: st.ExpiresAt, Found: true}, nil
}

func (s adminStatus) LastDelta(ctx context.Context) (admin.DeltaStatus, error) {
	run, found, err := s.store.LastDeltaRun(ctx)
	if err != nil || !found {
		return admin.DeltaStatus{}, err
	}
	return admin.DeltaStatus{At: run.FinishedAt, OK: run.OK, Changed: run.Changed, Error: run.Error, Found: true}, nil
}
