package subscription

import (
	"context"
	"errors"
	"fmt"

	"github.com/entrabridge/entrabridge/internal/redisstore"
)

// errNoSubscription is returned by Renew when the bridge maintains no
// subscription yet.
var errNoSubscription = errors.New("the bridge maintains no graph subscription: create one first")

// Maintain makes sure the subscription exists and runs long enough. It
// creates (or adopts) one when none is stored, renews the stored one once
// less than RenewBefore remains, and replaces it when Graph no longer has
// it. A new subscription may have missed changes, so each creation also
// requests a delta catch-up. The leader calls Maintain every
// CheckInterval.
func (m *Manager) Maintain(ctx context.Context) error {
	if err := m.cfg.validateSubscribe(); err != nil {
		return fmt.Errorf("invalid subscription configuration: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()

	st, ok, err := m.store.Subscription(ctx)
	if err != nil {
		return fmt.Errorf("read subscription state: %w", err)
	}
	if !ok {
		m.log.Info("no graph subscription is stored; creating one")
		return m.replaceLocked(ctx, "")
	}
	m.warnURLMismatch(st)

	remaining := st.ExpiresAt.Sub(m.cfg.Now())
	if remaining > m.cfg.RenewBefore {
		return nil
	}
	_, err = m.renewLocked(ctx, st)
	if isNotFound(err) {
		m.log.Warn("graph no longer has the subscription; creating a new one",
			"subscription_id", st.ID, "expires_at", st.ExpiresAt)
		return m.replaceLocked(ctx, st.ID)
	}
	return err
}

// Renew renews the stored subscription now, whatever time remains.
func (m *Manager) Renew(ctx context.Context) (redisstore.SubscriptionState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok, err := m.store.Subscription(ctx)
	if err != nil {
		return st, fmt.Errorf("read subscription state: %w", err)
	}
	if !ok {
		return st, errNoSubscription
	}
	return m.renewLocked(ctx, st)
}

// renewLocked extends st to Lifetime from now and stores the expiry Graph
// confirmed. The caller holds mu.
func (m *Manager) renewLocked(ctx context.Context, st redisstore.SubscriptionState) (redisstore.SubscriptionState, error) {
	expiration := m.cfg.Now().Add(m.cfg.Lifetime).UTC()
	sub, err := m.graph.RenewSubscription(ctx, st.ID, expiration)
	if err != nil {
		return st, fmt.Errorf("renew graph subscription %s: %w", st.ID, err)
	}

	st.ExpiresAt = sub.ExpirationDateTime
	if st.ExpiresAt.IsZero() {
		st.ExpiresAt = expiration
	}
	st.RenewedAt = m.cfg.Now()
	if err := m.store.SaveSubscription(ctx, st); err != nil {
		return st, fmt.Errorf("save state of graph subscription %s: %w", st.ID, err)
	}
	m.observeExpiry(st)
	m.log.Info("graph subscription renewed", "subscription_id", st.ID, "expires_at", st.ExpiresAt)
	return st, nil
}

// replaceLocked creates a subscription in place of the one with ID old (""
// for none) and requests a delta catch-up, because changes made while no
// subscription delivered them were never notified. It does nothing when
// the stored subscription is no longer old, because another caller
// replaced it already. The caller holds mu.
func (m *Manager) replaceLocked(ctx context.Context, old string) error {
	st, ok, err := m.store.Subscription(ctx)
	if err != nil {
		return fmt.Errorf("read subscription state: %w", err)
	}
	if ok && st.ID != old {
		return nil
	}
	if _, err := m.subscribeLocked(ctx); err != nil {
		return err
	}
	return m.requestCatchUp(ctx, "new subscription")
}

// requestCatchUp requests a delta run by the leader soon. Requests coalesce
// until the run starts.
func (m *Manager) requestCatchUp(ctx context.Context, reason string) error {
	if err := m.store.RequestDeltaCatchUp(ctx, m.cfg.Now()); err != nil {
		return fmt.Errorf("request delta catch-up after %s: %w", reason, err)
	}
	m.log.Info("delta catch-up requested", "reason", reason)
	select {
	case m.wake <- struct{}{}:
	default:
	}
	return nil
}

// warnURLMismatch logs once when the stored subscription delivers to
// another URL than the configured one. Graph lets no PATCH change
// lifecycleNotificationUrl, and a new subscription for the same resource
// gets 409, so moving it takes a delete and a new subscription.
func (m *Manager) warnURLMismatch(st redisstore.SubscriptionState) {
	if m.urlWarned || st.NotificationURL == m.cfg.NotificationURL {
		return
	}
	m.urlWarned = true
	m.log.Warn("the stored graph subscription delivers to another URL than GRAPH_NOTIFICATION_URL; "+
		"delete it (entrabridge subscriptions delete ID) so that the leader creates one for the configured URL",
		"subscription_id", st.ID, "stored_url", st.NotificationURL, "configured_url", m.cfg.NotificationURL)
}
